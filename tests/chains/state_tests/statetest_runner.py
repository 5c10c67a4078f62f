"""Run ethereum/tests ``GeneralStateTests`` fixtures through a py-evm VM class.

A state test is a pre-state, an environment (one block's header fields), a transaction
matrix (data × gas × value) and, per fork, one expected post-state per transaction: the
state root, the hash of the logs, the signed transaction bytes (``txbytes``) and, when
the transaction must be rejected, ``expectException``. One :class:`Case` is one such
expected post-state (``file::test::fork::index``).

:func:`run_case` does what a client's state-test runner does, at py-evm's state level:
build the pre-state in the VM's own state database (through ``vm_class.build_state``, so
the chains' :class:`~chains._statedb.DevAccountDB` and ``FastComputation`` for the
chains' VM), commit it, open a fresh state on the committed root, decode and validate
the transaction, apply it, commit, and return the state root and the logs hash. No
block-level work is done (no block reward, no system calls such as the EIP-4788 beacon
root or EIP-2935 history contract): a state test covers one transaction.

The environment's ``BLOCKHASH`` values are the reference runners' (go-ethereum's
``vmTestBlockHash``): the hash of block ``n`` is ``keccak(str(n))``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth.exceptions import VMError
from eth.vm.chain_context import ChainContext
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueState, PragueTransactionExecutor
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeysValidationError
from eth_utils import ValidationError, decode_hex, keccak, to_canonical_address

from chains._interpreter import StockComputation, _unwrap

__all__ = [
    "FIXTURES_DIR",
    "Case",
    "Outcome",
    "build_state",
    "PyEvmCancunVM",
    "PyEvmPragueCancunPrecompilesVM",
    "PyEvmPragueEip7610VM",
    "PyEvmPragueNoFloorVM",
    "PyEvmPragueVM",
    "get_logs_hash",
    "load_cases",
    "run_case",
]

FIXTURES_DIR = Path(__file__).parent / "fixtures"

#: The chain id state tests are filled with.
STATE_TEST_CHAIN_ID = 1

#: How a transaction is rejected before execution: a malformed encoding or signature
#: (rlp, eth-keys), py-evm's validation (nonce, balance, intrinsic gas, fee caps, gas
#: limit), or a VM error raised out of ``apply_transaction`` rather than recorded in the
#: computation (py-evm refuses an EIP-3860 over-long initcode that way, with
#: ``OutOfGas``). Anything else raised is a failure of the run, not a rejection.
_REJECTIONS: tuple[type[Exception], ...] = (
    ValidationError,
    VMError,
    rlp.exceptions.DecodingError,
    rlp.exceptions.DeserializationError,
    BadSignature,
    KeysValidationError,
)


@dataclass(frozen=True)
class Case:
    """One expected post-state: fixture file (relative to the fixtures folder), test, fork,
    index into that fork's post list."""

    path: str
    name: str
    fork: str
    index: int

    @property
    def id(self) -> str:
        """The test id: ``file::test::fork::index``."""
        return f"{self.path}::{self.name}::{self.fork}::{self.index}"

    def fixture(self) -> dict[str, Any]:
        """The test's JSON (the whole test, every fork)."""
        return _load_file(self.path)[self.name]

    def post(self) -> dict[str, Any]:
        """This case's expected post-state entry."""
        return self.fixture()["post"][self.fork][self.index]

    @property
    def expected_root(self) -> bytes:
        return decode_hex(self.post()["hash"])

    @property
    def expected_logs_hash(self) -> bytes:
        return decode_hex(self.post()["logs"])

    @property
    def is_rejection_expected(self) -> bool:
        """Whether the fixture expects the transaction to be rejected (``expectException``)."""
        return "expectException" in self.post()


@dataclass(frozen=True)
class Outcome:
    """What running a case gave: the post-state root, the logs hash, and the rejection
    (the exception's type and text) if the transaction was refused before execution."""

    state_root: bytes
    logs_hash: bytes
    rejection: str | None


@functools.cache
def _load_file(path: str) -> dict[str, Any]:
    with open(FIXTURES_DIR / path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def load_cases(forks: tuple[str, ...]) -> list[Case]:
    """Every case in the vendored fixtures for the first of ``forks`` a test was filled for,
    sorted by id (the same order on every machine)."""
    cases = []
    for file in sorted(FIXTURES_DIR.rglob("*.json")):
        path = file.relative_to(FIXTURES_DIR).as_posix()
        for name, test in _load_file(path).items():
            post = test.get("post")
            if not isinstance(post, dict):
                raise ValueError(f"{path}::{name}: not a state test (no 'post' section)")
            fork = next((f for f in forks if f in post), None)
            if fork is None:
                continue
            cases.extend(Case(path, name, fork, i) for i in range(len(post[fork])))
    return sorted(cases, key=lambda c: (c.path, c.name, c.fork, c.index))


def get_logs_hash(log_entries: Any) -> bytes:
    """keccak(rlp([[address, [topic, ...], data], ...])): the ``logs`` field of a fixture."""
    return keccak(
        rlp.encode(
            [
                [address, [topic.to_bytes(32, "big") for topic in topics], data]
                for address, topics, data in log_entries
            ]
        )
    )


def _int(value: str) -> int:
    return int(value, 16)


def _ancestor_hashes(block_number: int) -> Iterator[bytes]:
    """Hashes of the 256 blocks before ``block_number``, newest first: keccak(str(n))."""
    for n in range(block_number - 1, max(block_number - 257, -1), -1):
        yield keccak(str(n).encode())


def _build_header(vm_class: Any, env: dict[str, Any], state_root: bytes) -> Any:
    fields: dict[str, Any] = {
        "coinbase": to_canonical_address(env["currentCoinbase"]),
        "difficulty": 0,
        "gas_limit": _int(env["currentGasLimit"]),
        "timestamp": _int(env["currentTimestamp"]),
        "mix_hash": decode_hex(env["currentRandom"]),
        "base_fee_per_gas": _int(env["currentBaseFee"]),
        "excess_blob_gas": _int(env.get("currentExcessBlobGas", "0x0")),
        "state_root": state_root,
    }
    # built by the VM's own header constructor (as a genesis header), then numbered
    genesis = vm_class.create_genesis_header(**fields)
    return genesis.copy(block_number=_int(env["currentNumber"]))


def build_state(vm_class: Any, db: AtomicDB, env: dict[str, Any], root: bytes) -> Any:
    """``vm_class``'s state on ``root`` in ``db``, for the block ``env`` describes."""
    header = _build_header(vm_class, env, root)
    return vm_class.build_state(
        db,
        header,
        ChainContext(STATE_TEST_CHAIN_ID),
        tuple(_ancestor_hashes(header.block_number)),
    )


def run_case(vm_class: Any, case: Case) -> Outcome:
    """Apply ``case``'s transaction to its pre-state with ``vm_class``'s state and
    computation classes; return the post-state root and logs hash."""
    fixture = case.fixture()
    env = fixture["env"]
    db = AtomicDB()

    # The pre-state, written through the VM's own account database and committed.
    state = build_state(vm_class, db, env, BLANK_ROOT_HASH)
    for address_hex, account in fixture["pre"].items():
        address = to_canonical_address(address_hex)
        state.set_balance(address, _int(account["balance"]))
        state.set_nonce(address, _int(account["nonce"]))
        state.set_code(address, decode_hex(account["code"]))
        for slot, value in account["storage"].items():
            state.set_storage(address, _int(slot), _int(value))
    state.persist()
    pre_root = state.state_root

    # A fresh state on the committed root, as a block's execution starts.
    state = build_state(vm_class, db, env, pre_root)
    header = _build_header(vm_class, env, pre_root)
    try:
        transaction = vm_class.get_transaction_builder().decode(decode_hex(case.post()["txbytes"]))
        # VM.apply_transaction's checks against the block (here: gas limit), then the
        # state's (signature, nonce, balance, intrinsic gas, fee caps).
        vm_class.validate_transaction_against_header(None, header, transaction)
        state.lock_changes()
        computation = state.apply_transaction(transaction)
    except _REJECTIONS as exc:
        return Outcome(pre_root, get_logs_hash(()), f"{type(exc).__name__}: {exc}")
    state.persist()
    return Outcome(state.state_root, get_logs_hash(computation.get_log_entries()), None)


# py-evm as shipped (its opcode loop and AccountDB), to classify failures. The opcode
# tables are private unwrapped copies, as the chains' own (titanoboa patches py-evm's).


class _PyEvmCancunComputation(CancunComputation):
    opcodes = {op: _unwrap(entry) for op, entry in CancunComputation.opcodes.items()}


class _PyEvmCancunState(CancunState):
    computation_class = _PyEvmCancunComputation


class PyEvmCancunVM(CancunVM):
    """py-evm's Cancun VM as shipped (its loop, its AccountDB)."""

    _state_class = _PyEvmCancunState


class _PyEvmPragueState(PragueState):
    computation_class = StockComputation


class PyEvmPragueVM(PragueVM):
    """py-evm's Prague VM as shipped (its loop, its AccountDB)."""

    _state_class = _PyEvmPragueState


# Variants of py-evm's Prague VM, each with one rule changed: an expected failure that one
# of them passes has that rule as its whole reason (statetest_expected.py).


class _NoFloorExecutor(PragueTransactionExecutor):
    @staticmethod
    def calc_data_floor_gas(transaction: Any, gas_used: int, gas_refund: int) -> int:
        return 0


class _PyEvmPragueNoFloorState(_PyEvmPragueState):
    transaction_executor_class = _NoFloorExecutor


class PyEvmPragueNoFloorVM(PyEvmPragueVM):
    """py-evm's Prague without EIP-7623's calldata floor."""

    _state_class = _PyEvmPragueNoFloorState


class _CancunPrecompilesComputation(StockComputation):
    _precompiles = {
        address: precompile
        for address, precompile in StockComputation._precompiles.items()
        if address in CancunComputation._precompiles
    }


class _PyEvmPragueCancunPrecompilesState(_PyEvmPragueState):
    computation_class = _CancunPrecompilesComputation


class PyEvmPragueCancunPrecompilesVM(PyEvmPragueVM):
    """py-evm's Prague with Cancun's precompiles: without EIP-2537's BLS12-381 precompiles
    at 0x0b-0x11 (precompiles are warm, and have no account to create)."""

    _state_class = _PyEvmPragueCancunPrecompilesState


class _PyEvmPragueEip7610State(_PyEvmPragueState):
    def has_code_or_nonce(self, address: Any) -> bool:
        # EIP-7610: non-empty storage makes an address collide with a creation too
        storage_root = self._account_db._get_storage_root(address)  # type: ignore[attr-defined]
        return super().has_code_or_nonce(address) or storage_root != BLANK_ROOT_HASH


class PyEvmPragueEip7610VM(PyEvmPragueVM):
    """py-evm's Prague with EIP-7610: a creation into an address with non-empty storage
    fails as a collision (py-evm checks only code and nonce)."""

    _state_class = _PyEvmPragueEip7610State

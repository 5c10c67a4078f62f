"""Conformance: the same chain behaviour through every access path.

Each check runs once per path: the native Chain API (``chain.deploy``, contract handles,
``chain.transact``) and the in-process web3 provider (``chain.w3``, used as a web3.py
user would). A small driver per path speaks that path's own API and normalises what
comes back (:class:`Mined`, :class:`BlockView`, decoded events), so one assertion holds
for both. Each driver also names the exception its path raises for each kind of bad
input (:attr:`errors`), and declares what the path cannot do as a gap together with
the error it gives instead (:attr:`gaps`): those checks assert the error, they are not
skipped. The HTTP transport joins as a third driver when it lands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
import rlp
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import (
    ABIFunctionNotFound,
    ContractLogicError,
    MethodUnavailable,
    MismatchedABI,
    Web3RPCError,
)
from web3.logs import DISCARD
from web3.types import RPCEndpoint

from chains import (
    Chain,
    ChainError,
    Contract,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooLow,
    RpcError,
    TransactionReverted,
)

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"
ETHER = 10**18
GWEI = 10**9
STORED = keccak(text="Stored(address,uint256,uint256)")


# ----------------------------------------------------------------------------------------
# normalised results
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mined:
    """A mined transaction as every path reports it."""

    tx_hash: bytes
    status: bool
    block_number: int
    gas_used: int
    effective_gas_price: int
    sender: str
    contract_address: str | None
    events: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class BlockView:
    """The block fields the checks compare."""

    number: int
    hash: bytes
    timestamp: int
    base_fee: int
    tx_hashes: tuple[bytes, ...]


Expected = tuple[type[BaseException] | tuple[type[BaseException], ...], str]


class AccessPath(Protocol):
    """What a conformance check may ask of a path."""

    name: ClassVar[str]
    errors: ClassVar[dict[str, Expected]]
    gaps: ClassVar[dict[str, Expected]]
    is_revert_mined_without_gas: ClassVar[bool]
    chain: Chain

    def deploy_probe(self, initial: int) -> tuple[str, Mined]: ...
    def call(self, address: str, fn: str, *args: Any) -> Any: ...
    def transact(
        self, address: str, fn: str, *args: Any, sender: str | None = None, **tx: Any
    ) -> Mined: ...
    def transact_mined(self, address: str, fn: str, *args: Any, gas: int) -> Mined: ...
    def estimate(self, address: str, fn: str, *args: Any, sender: str) -> int: ...
    def send_value(self, sender: str, to: str, value: int, **tx: Any) -> Mined: ...
    def send_raw(self, raw: bytes) -> Mined: ...
    def balance(self, address: str) -> int: ...
    def nonce(self, address: str) -> int: ...
    def block(self, ident: int | str | bytes) -> BlockView: ...
    def next_base_fee(self) -> int: ...
    def stored_events(self, address: str, setter: str | None) -> list[dict[str, Any]]: ...
    def watch_stored(self, address: str) -> Callable[[], list[dict[str, Any]]]: ...
    def snapshot(self) -> Any: ...
    def revert(self, snapshot: Any) -> None: ...
    def impersonate(self, address: str) -> None: ...
    def set_balance(self, address: str, wei: int) -> None: ...
    def increase_time(self, seconds: int) -> None: ...
    def request(self, method: str, *params: Any) -> Any: ...
    def send_legacy(self, sender: str, to: str, gas_price: int) -> Mined: ...
    def send_with_access_list(self, sender: str, to: str) -> Mined: ...
    def call_with_state_override(self, address: str, fn: str) -> Any: ...


# ----------------------------------------------------------------------------------------
# the native Chain API
# ----------------------------------------------------------------------------------------
class NativePath:
    """``chain.deploy`` / contract handles / ``chain.transact`` and friends."""

    name: ClassVar[str] = "native"
    errors: ClassVar[dict[str, Expected]] = {
        "reverted": (TransactionReverted, "execution reverted"),
        "insufficient_funds": (InsufficientFunds, "insufficient funds"),
        "nonce_too_low": (NonceTooLow, "nonce too low"),
        "nonce_too_high": (InvalidTransaction, "nonce too high"),
        "bad_signature": (InvalidTransaction, "signature"),
        "wrong_chain_id": (InvalidTransaction, "chain id 1, this chain is 31337"),
        "unknown_sender": (ChainError, "no key for sender"),
        "unknown_function": (AttributeError, "Probe has no function 'nope'"),
        "bad_arguments": (TypeError, "bad arguments for store"),
        "unknown_method": (RpcError, "the method eth_nope does not exist"),
        "malformed_params": (RpcError, "invalid params: address"),
    }
    gaps: ClassVar[dict[str, Expected]] = {
        "state_override": (TypeError, "unexpected keyword argument 'state_override'"),
    }
    #: Without explicit gas, Chain.transact runs the transaction (no estimate first):
    #: a revert is mined with status 0 and raised with its receipt.
    is_revert_mined_without_gas: ClassVar[bool] = True

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._handles: dict[str, Contract] = {}

    def _handle(self, address: str) -> Contract:
        if address not in self._handles:
            self._handles[address] = self.chain.at(address, PROBE)
        return self._handles[address]

    @staticmethod
    def _mined(receipt: Any) -> Mined:
        return Mined(
            tx_hash=receipt.tx_hash,
            status=receipt.status,
            block_number=receipt.block_number,
            gas_used=receipt.gas_used,
            effective_gas_price=receipt.effective_gas_price,
            sender=receipt.sender,
            contract_address=receipt.contract_address,
            events=tuple((e.name, dict(e.args)) for e in receipt.events),
        )

    def deploy_probe(self, initial: int) -> tuple[str, Mined]:
        contract = self.chain.deploy(PROBE, initial)
        self._handles[contract.address] = contract
        return contract.address, self._mined(contract.deploy_receipt)

    def call(self, address: str, fn: str, *args: Any) -> Any:
        return getattr(self._handle(address), fn).call(*args)

    def transact(
        self, address: str, fn: str, *args: Any, sender: str | None = None, **tx: Any
    ) -> Mined:
        return self._mined(getattr(self._handle(address), fn).transact(*args, sender=sender, **tx))

    def transact_mined(self, address: str, fn: str, *args: Any, gas: int) -> Mined:
        try:
            return self.transact(address, fn, *args, gas=gas)
        except TransactionReverted as exc:
            assert exc.receipt is not None
            return self._mined(exc.receipt)

    def estimate(self, address: str, fn: str, *args: Any, sender: str) -> int:
        return getattr(self._handle(address), fn).estimate_gas(*args, sender=sender)

    def send_value(self, sender: str, to: str, value: int, **tx: Any) -> Mined:
        return self._mined(self.chain.transact(sender=sender, to=to, value=value, **tx))

    def send_raw(self, raw: bytes) -> Mined:
        return self._mined(self.chain.send_raw_transaction(raw))

    def balance(self, address: str) -> int:
        return self.chain.get_balance(address)

    def nonce(self, address: str) -> int:
        return self.chain.get_nonce(address)

    def block(self, ident: int | str | bytes) -> BlockView:
        record = self.chain.get_block(ident)
        return BlockView(
            record.number,
            record.hash,
            record.timestamp,
            record.header.base_fee_per_gas,
            record.tx_hashes,
        )

    def next_base_fee(self) -> int:
        return self.chain.base_fee

    def stored_events(self, address: str, setter: str | None) -> list[dict[str, Any]]:
        topics: list[Any] = [STORED]
        if setter is not None:
            topics.append(bytes(12) + bytes.fromhex(setter[2:]))
        logs = self.chain.get_logs(address=address, topics=topics)
        return [dict(e.args) for e in self.chain.abi_registry.decode_logs(logs)]

    def watch_stored(self, address: str) -> Callable[[], list[dict[str, Any]]]:
        seen = self.chain.block_number

        def poll() -> list[dict[str, Any]]:
            nonlocal seen
            logs = self.chain.get_logs(from_block=seen + 1, address=address, topics=[STORED])
            seen = self.chain.block_number
            return [dict(e.args) for e in self.chain.abi_registry.decode_logs(logs)]

        return poll

    def snapshot(self) -> Any:
        return self.chain.snapshot()

    def revert(self, snapshot: Any) -> None:
        self.chain.revert(snapshot)

    def impersonate(self, address: str) -> None:
        self.chain.impersonate(address)

    def set_balance(self, address: str, wei: int) -> None:
        self.chain.set_balance(address, wei)

    def increase_time(self, seconds: int) -> None:
        self.chain.clock.advance(seconds)

    def request(self, method: str, *params: Any) -> Any:
        return self.chain.rpc.call(method, list(params))

    def send_legacy(self, sender: str, to: str, gas_price: int) -> Mined:
        tx_hash = self.chain.submit_transaction(
            sender=sender, to=to, gas_price=gas_price, gas=21_000
        )
        return self._mined(self.chain.get_receipt(tx_hash))

    def send_with_access_list(self, sender: str, to: str) -> Mined:
        access_list = [(bytes.fromhex(to[2:]), (0,))]
        tx_hash = self.chain.submit_transaction(
            sender=sender, to=to, access_list=access_list, gas=50_000
        )
        return self._mined(self.chain.get_receipt(tx_hash))

    def call_with_state_override(self, address: str, fn: str) -> Any:
        call: Any = getattr(self._handle(address), fn).call
        return call(state_override={address: {"balance": 1}})


# ----------------------------------------------------------------------------------------
# web3.py on the in-process provider
# ----------------------------------------------------------------------------------------
class Web3Path:
    """``chain.w3`` used as a web3.py user would: contract factories, transact, receipts."""

    name: ClassVar[str] = "web3"
    errors: ClassVar[dict[str, Expected]] = {
        "reverted": (ContractLogicError, "execution reverted"),
        "insufficient_funds": (Web3RPCError, "insufficient funds"),
        "nonce_too_low": (Web3RPCError, "nonce too low"),
        "nonce_too_high": (Web3RPCError, "nonce too high"),
        "bad_signature": (Web3RPCError, "signature"),
        "wrong_chain_id": (Web3RPCError, "chain id 1, this chain is 31337"),
        "unknown_sender": (Web3RPCError, "unknown account"),
        "unknown_function": (ABIFunctionNotFound, "nope"),
        "bad_arguments": (MismatchedABI, "not compatible with type `uint256`"),
        "unknown_method": (MethodUnavailable, "the method eth_nope does not exist"),
        "malformed_params": (Web3RPCError, "invalid params: address"),
    }
    gaps: ClassVar[dict[str, Expected]] = {}
    #: web3 estimates gas first, so a reverting transaction is refused before sending.
    is_revert_mined_without_gas: ClassVar[bool] = False

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.w3: Web3 = chain.w3
        compiled = chain.compile(PROBE)
        self.abi = compiled.abi_list
        self.bytecode = compiled.bytecode

    def _contract(self, address: str) -> Any:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=self.abi)

    def _wait(self, tx_hash: Any) -> Mined:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        probe = self.w3.eth.contract(abi=self.abi)
        events = []
        for name in ("Stored", "Deposited"):
            events.extend(probe.events[name]().process_receipt(receipt, errors=DISCARD))
        events.sort(key=lambda e: e["logIndex"])
        return Mined(
            tx_hash=bytes(receipt["transactionHash"]),
            status=receipt["status"] == 1,
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            effective_gas_price=receipt["effectiveGasPrice"],
            sender=receipt["from"],
            contract_address=receipt["contractAddress"],
            events=tuple((e["event"], dict(e["args"])) for e in events),
        )

    @staticmethod
    def _params(sender: str | None = None, **tx: Any) -> dict[str, Any]:
        params: dict[str, Any] = {k: v for k, v in tx.items() if v is not None}
        if sender is not None:
            params["from"] = sender
        return params

    def deploy_probe(self, initial: int) -> tuple[str, Mined]:
        factory = self.w3.eth.contract(abi=self.abi, bytecode=self.bytecode)
        mined = self._wait(factory.constructor(initial).transact())
        assert mined.contract_address is not None
        return mined.contract_address, mined

    def call(self, address: str, fn: str, *args: Any) -> Any:
        return getattr(self._contract(address).functions, fn)(*args).call()

    def transact(
        self, address: str, fn: str, *args: Any, sender: str | None = None, **tx: Any
    ) -> Mined:
        function = getattr(self._contract(address).functions, fn)(*args)
        return self._wait(function.transact(self._params(sender, **tx)))

    def transact_mined(self, address: str, fn: str, *args: Any, gas: int) -> Mined:
        return self.transact(address, fn, *args, gas=gas)

    def estimate(self, address: str, fn: str, *args: Any, sender: str) -> int:
        function = getattr(self._contract(address).functions, fn)(*args)
        return int(function.estimate_gas({"from": sender}))

    def send_value(self, sender: str, to: str, value: int, **tx: Any) -> Mined:
        params = self._params(sender, to=to, value=value, **tx)
        return self._wait(self.w3.eth.send_transaction(params))  # type: ignore[arg-type]

    def send_raw(self, raw: bytes) -> Mined:
        return self._wait(self.w3.eth.send_raw_transaction(raw))

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(to_checksum_address(address)))

    def nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(to_checksum_address(address)))

    def block(self, ident: int | str | bytes) -> BlockView:
        block = self.w3.eth.get_block(ident)  # type: ignore[arg-type]
        transactions: list[Any] = list(block["transactions"])
        return BlockView(
            block["number"],
            bytes(block["hash"]),
            block["timestamp"],
            block["baseFeePerGas"],
            tuple(bytes(h) for h in transactions),
        )

    def next_base_fee(self) -> int:
        history = self.w3.eth.fee_history(1, "latest")
        assert self.w3.eth.gas_price == history["baseFeePerGas"][-1] + self.w3.eth.max_priority_fee
        return int(history["baseFeePerGas"][-1])

    def stored_events(self, address: str, setter: str | None) -> list[dict[str, Any]]:
        event = self._contract(address).events.Stored
        filters = {} if setter is None else {"setter": setter}
        logs = event.get_logs(from_block=0, argument_filters=filters)
        return [dict(log["args"]) for log in logs]

    def watch_stored(self, address: str) -> Callable[[], list[dict[str, Any]]]:
        log_filter = self._contract(address).events.Stored.create_filter(from_block="latest")

        def poll() -> list[dict[str, Any]]:
            return [dict(log["args"]) for log in log_filter.get_new_entries()]

        return poll

    def _dev(self, method: str, *params: Any) -> Any:
        return self.w3.manager.request_blocking(RPCEndpoint(method), list(params))

    def snapshot(self) -> Any:
        return self._dev("evm_snapshot")

    def revert(self, snapshot: Any) -> None:
        assert self._dev("evm_revert", snapshot) is True

    def impersonate(self, address: str) -> None:
        self._dev("anvil_impersonateAccount", address)

    def set_balance(self, address: str, wei: int) -> None:
        self._dev("anvil_setBalance", address, hex(wei))

    def increase_time(self, seconds: int) -> None:
        self._dev("evm_increaseTime", seconds)

    def request(self, method: str, *params: Any) -> Any:
        return self._dev(method, *params)

    def send_legacy(self, sender: str, to: str, gas_price: int) -> Mined:
        params = {"from": sender, "to": to, "gasPrice": gas_price}
        return self._wait(self.w3.eth.send_transaction(params))  # type: ignore[arg-type]

    def send_with_access_list(self, sender: str, to: str) -> Mined:
        access_list = [{"address": to, "storageKeys": ["0x" + "00" * 32]}]
        params = {"from": sender, "to": to, "accessList": access_list, "gas": 50_000}
        return self._wait(self.w3.eth.send_transaction(params))  # type: ignore[arg-type]

    def call_with_state_override(self, address: str, fn: str) -> Any:
        function = getattr(self._contract(address).functions, fn)()
        return function.call(state_override={address: {"balance": 1}})


PATHS: dict[str, type[NativePath] | type[Web3Path]] = {"native": NativePath, "web3": Web3Path}


@pytest.fixture(params=sorted(PATHS))
def path(request: pytest.FixtureRequest, chain: Chain) -> AccessPath:
    """The access path under test (``native`` or ``web3``), bound to the first chain."""
    driver: AccessPath = PATHS[request.param](chain)
    return driver


@pytest.fixture
def deployed(path: AccessPath) -> str:
    """Address of a Probe (``stored == 7``) deployed through the path under test."""
    address, _ = path.deploy_probe(7)
    return address


@contextmanager
def raises(path: AccessPath, kind: str) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """Expect the error ``path`` declares for ``kind`` (a bad input or a gap)."""
    exc_type, message = path.errors.get(kind) or path.gaps[kind]
    with pytest.raises(exc_type, match=re.escape(message)) as info:
        yield info


def sign(chain: Chain, account: LocalAccount, **fields: Any) -> bytes:
    """An EIP-1559 value transfer signed with ``account``'s key at its next nonce."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain.chain_id,
        "nonce": chain.get_nonce(account.address),
        "maxFeePerGas": 10 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "gas": 21_000,
        "to": chain.accounts[2].address,
        "value": 1,
    } | fields
    return bytes(account.sign_transaction(tx).raw_transaction)


# ----------------------------------------------------------------------------------------
# contracts: deploy, transact, call, events
# ----------------------------------------------------------------------------------------
def test_deploy(path: AccessPath, deployer: LocalAccount) -> None:
    address, mined = path.deploy_probe(11)
    assert mined.status
    assert mined.contract_address == address
    assert mined.sender == deployer.address
    assert path.chain.get_code(address)
    assert path.call(address, "stored") == 11
    assert path.call(address, "owner") == deployer.address


def test_transact_changes_state_and_emits_the_event(
    path: AccessPath, deployed: str, trader: LocalAccount
) -> None:
    mined = path.transact(deployed, "store", 42, sender=trader.address)
    assert mined.status
    assert mined.sender == trader.address
    assert mined.block_number == path.chain.block_number
    assert mined.events == (("Stored", {"setter": trader.address, "previous": 7, "current": 42}),)
    assert path.call(deployed, "stored") == 42


def test_transact_revert_reports_the_reason(
    path: AccessPath, deployed: str, trader: LocalAccount
) -> None:
    head = path.chain.block_number
    with raises(path, "reverted") as info:
        path.transact(deployed, "store", 13, sender=trader.address)
    assert "probe: unlucky number" in str(info.value)
    assert path.chain.block_number == head + int(path.is_revert_mined_without_gas)
    assert path.call(deployed, "stored") == 7


def test_call_revert_reports_the_reason(path: AccessPath, deployed: str) -> None:
    assert path.call(deployed, "double", 21) == 42
    with raises(path, "reverted") as info:
        path.call(deployed, "double", 100)
    assert "probe: too large" in str(info.value)


def test_revert_without_a_reason_is_still_a_revert(path: AccessPath, deployed: str) -> None:
    with raises(path, "reverted"):
        path.call(deployed, "require_zero", 1)


def test_reverting_transaction_with_explicit_gas_is_mined_with_status_0(
    path: AccessPath, deployed: str
) -> None:
    mined = path.transact_mined(deployed, "store", 13, gas=100_000)
    assert not mined.status
    assert mined.events == ()
    assert mined.block_number == path.chain.block_number
    assert path.call(deployed, "stored") == 7


def test_payable_call_records_value(path: AccessPath, deployed: str, trader: LocalAccount) -> None:
    mined = path.transact(deployed, "deposit", sender=trader.address, value=ETHER)
    assert mined.events == (("Deposited", {"sender": trader.address, "amount": ETHER}),)
    assert path.call(deployed, "deposits", trader.address) == ETHER
    assert path.balance(deployed) == ETHER


def test_estimate_suffices_and_is_close(
    path: AccessPath, deployed: str, trader: LocalAccount
) -> None:
    estimate = path.estimate(deployed, "store", 5, sender=trader.address)
    mined = path.transact(deployed, "store", 5, sender=trader.address, gas=estimate)
    assert mined.status
    assert mined.gas_used <= estimate <= mined.gas_used * 11 // 10


def test_estimate_suffices_after_the_same_storage_was_touched(
    path: AccessPath, deployed: str, trader: LocalAccount, request: pytest.FixtureRequest
) -> None:
    path.transact(deployed, "store", 0, sender=trader.address)
    path.transact(deployed, "store", 8, sender=trader.address)
    estimate = path.estimate(deployed, "store", 8, sender=trader.address)
    mined = path.transact_mined(deployed, "store", 8, gas=estimate)
    assert mined.status


def test_unknown_contract_function_is_rejected(path: AccessPath, deployed: str) -> None:
    with raises(path, "unknown_function"):
        path.call(deployed, "nope")


def test_bad_contract_arguments_are_rejected(path: AccessPath, deployed: str) -> None:
    with raises(path, "bad_arguments"):
        path.transact(deployed, "store", "not a number")


# ----------------------------------------------------------------------------------------
# value, fees, blocks
# ----------------------------------------------------------------------------------------
def test_value_transfer_moves_value_and_pays_gas(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    trader_before, recipient_before = path.balance(trader.address), path.balance(recipient.address)
    mined = path.send_value(trader.address, recipient.address, ETHER)
    assert (mined.status, mined.gas_used) == (True, 21_000)
    assert path.balance(recipient.address) == recipient_before + ETHER
    fee = mined.gas_used * mined.effective_gas_price
    assert path.balance(trader.address) == trader_before - ETHER - fee


def test_default_fees_are_base_fee_plus_one_gwei(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    mined = path.send_value(trader.address, recipient.address, 1)
    block = path.block(mined.block_number)
    assert mined.effective_gas_price == block.base_fee + GWEI


def test_quoted_base_fee_is_what_the_next_block_charges(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    path.send_value(trader.address, recipient.address, 1)
    quoted = path.next_base_fee()
    mined = path.send_value(trader.address, recipient.address, 1)
    assert path.block(mined.block_number).base_fee == quoted


def test_blocks_by_number_hash_and_tag(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    before = path.block("latest")
    mined = path.send_value(trader.address, recipient.address, 1)
    latest = path.block("latest")
    assert latest.number == before.number + 1 == mined.block_number
    assert latest.tx_hashes == (mined.tx_hash,)
    assert latest.timestamp > before.timestamp
    assert path.block(latest.number) == latest == path.block(latest.hash)
    assert path.block("earliest").number == 0


def test_explicit_nonce(path: AccessPath, trader: LocalAccount, recipient: LocalAccount) -> None:
    nonce = path.nonce(trader.address)
    path.send_value(trader.address, recipient.address, 1, nonce=nonce)
    assert path.nonce(trader.address) == nonce + 1


def test_legacy_gas_price(path: AccessPath, trader: LocalAccount, recipient: LocalAccount) -> None:
    if "legacy_gas_price" in path.gaps:
        with raises(path, "legacy_gas_price"):
            path.send_legacy(trader.address, recipient.address, 3 * GWEI)
        return
    mined = path.send_legacy(trader.address, recipient.address, 3 * GWEI)
    assert (mined.status, mined.effective_gas_price) == (True, 3 * GWEI)


def test_access_list_transaction(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    mined = path.send_with_access_list(trader.address, recipient.address)
    # 21000 + one address (2400) + one storage key (1900), EIP-2930
    assert (mined.status, mined.gas_used) == (True, 21_000 + 2_400 + 1_900)


def test_state_override(path: AccessPath, deployed: str) -> None:
    if "state_override" in path.gaps:  # contract handles take none; Chain.call does
        with raises(path, "state_override"):
            path.call_with_state_override(deployed, "stored")
        return
    assert path.call_with_state_override(deployed, "stored") == 7


# ----------------------------------------------------------------------------------------
# logs and watching for new ones
# ----------------------------------------------------------------------------------------
def test_logs_by_address_and_indexed_argument(
    path: AccessPath, deployed: str, trader: LocalAccount, deployer: LocalAccount
) -> None:
    path.transact(deployed, "store", 1, sender=trader.address)
    path.transact(deployed, "store", 2, sender=deployer.address)
    path.transact(deployed, "store", 3, sender=trader.address)
    assert [e["current"] for e in path.stored_events(deployed, None)] == [1, 2, 3]
    by_trader = path.stored_events(deployed, trader.address)
    assert [(e["setter"], e["current"]) for e in by_trader] == [
        (trader.address, 1),
        (trader.address, 3),
    ]


def test_watching_sees_only_new_logs(path: AccessPath, deployed: str) -> None:
    path.transact(deployed, "store", 1)
    poll = path.watch_stored(deployed)
    assert poll() == []
    path.transact(deployed, "store", 2)
    path.transact(deployed, "store", 3)
    assert [e["current"] for e in poll()] == [2, 3]
    assert poll() == []


# ----------------------------------------------------------------------------------------
# dev controls
# ----------------------------------------------------------------------------------------
def test_snapshot_and_revert_restore_state(path: AccessPath, deployed: str) -> None:
    head = path.chain.block_number
    snapshot = path.snapshot()
    path.transact(deployed, "store", 99)
    path.revert(snapshot)
    assert path.call(deployed, "stored") == 7
    assert path.chain.block_number == head


def test_set_balance(path: AccessPath, outsider: LocalAccount) -> None:
    path.set_balance(outsider.address, 5 * ETHER)
    assert path.balance(outsider.address) == 5 * ETHER


def test_impersonated_account_transacts(
    path: AccessPath, deployed: str, outsider: LocalAccount
) -> None:
    path.set_balance(outsider.address, ETHER)
    with raises(path, "unknown_sender"):
        path.transact(deployed, "store", 5, sender=outsider.address)
    path.impersonate(outsider.address)
    mined = path.transact(deployed, "store", 5, sender=outsider.address)
    assert mined.sender == outsider.address
    assert mined.events[0][1]["setter"] == outsider.address


def test_owner_check_sees_the_real_sender(
    path: AccessPath, deployed: str, trader: LocalAccount, deployer: LocalAccount
) -> None:
    assert path.transact(deployed, "only_owner", sender=deployer.address).status
    with raises(path, "reverted") as info:
        path.transact(deployed, "only_owner", sender=trader.address)
    assert "probe: not owner" in str(info.value)


def test_increase_time_reaches_the_next_block(path: AccessPath, deployed: str) -> None:
    path.call(deployed, "context")  # a read of the pending block before time moves
    now = path.chain.clock.now
    path.increase_time(3600)
    mined = path.transact(deployed, "store", 1)
    assert path.block(mined.block_number).timestamp == now + 3600


# ----------------------------------------------------------------------------------------
# signed transactions and bad inputs
# ----------------------------------------------------------------------------------------
def test_raw_signed_transaction(
    path: AccessPath, chain: Chain, trader: LocalAccount, recipient: LocalAccount
) -> None:
    before = path.balance(recipient.address)
    raw = sign(chain, trader, value=ETHER)
    mined = path.send_raw(raw)
    assert (mined.status, mined.sender, mined.tx_hash) == (True, trader.address, keccak(raw))
    assert path.balance(recipient.address) == before + ETHER


def test_insufficient_funds_is_rejected(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    too_much = path.balance(trader.address) + 1
    with raises(path, "insufficient_funds"):
        path.send_value(trader.address, recipient.address, too_much, gas=21_000)


def test_nonce_too_low_is_rejected(
    path: AccessPath, trader: LocalAccount, recipient: LocalAccount
) -> None:
    path.send_value(trader.address, recipient.address, 1)
    with raises(path, "nonce_too_low"):
        path.send_value(trader.address, recipient.address, 1, nonce=0)


def test_future_nonce_is_refused_by_transact_and_queued_by_the_pool(
    chain: Chain, trader: LocalAccount, recipient: LocalAccount
) -> None:
    with pytest.raises(InvalidTransaction, match="nonce too high"):
        chain.transact(sender=trader.address, to=recipient.address, value=1, nonce=5)
    tx_hash = chain.submit_transaction(sender=trader.address, to=recipient.address, nonce=5)
    assert [tx.hash for tx in chain.txpool.queued] == [tx_hash]
    assert chain.get_nonce(trader.address) == 0


def test_future_nonce_is_queued_over_web3(
    chain: Chain, trader: LocalAccount, recipient: LocalAccount
) -> None:
    w3 = chain.w3
    tx_hash = w3.eth.send_transaction(
        {"from": trader.address, "to": recipient.address, "value": 1, "nonce": 5}
    )
    assert w3.eth.get_transaction(tx_hash)["blockNumber"] is None
    assert w3.eth.get_transaction_count(trader.address) == 0
    assert chain.txpool.status() == (0, 1)


def test_replayed_raw_transaction_is_rejected(
    path: AccessPath, chain: Chain, trader: LocalAccount
) -> None:
    raw = sign(chain, trader)
    path.send_raw(raw)
    with raises(path, "nonce_too_low"):
        path.send_raw(raw)


def test_tampered_signature_is_rejected(
    path: AccessPath, chain: Chain, trader: LocalAccount
) -> None:
    raw = sign(chain, trader)
    fields = rlp.decode(raw[1:])
    tampered = raw[:1] + rlp.encode([*fields[:10], b"", fields[11]])  # r = 0
    with raises(path, "bad_signature"):
        path.send_raw(tampered)


def test_raw_transaction_for_another_chain_is_rejected(
    path: AccessPath, chain: Chain, trader: LocalAccount
) -> None:
    with raises(path, "wrong_chain_id"):
        path.send_raw(sign(chain, trader, chainId=1))


def test_unknown_rpc_method_is_rejected(path: AccessPath) -> None:
    with raises(path, "unknown_method"):
        path.request("eth_nope")


def test_malformed_rpc_params_are_rejected(path: AccessPath) -> None:
    with raises(path, "malformed_params"):
        path.request("eth_getBalance", "0x1234", "latest")

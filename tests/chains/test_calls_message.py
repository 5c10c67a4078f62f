"""A read's message built directly (``build_read``) answers as py-evm's set-up did.

``simulate`` builds a plain call's transaction and message itself instead of an unsigned
transaction wrapped in ``CallTransaction`` and ``DevExecutor.build_evm_message`` (which
charges a zero fee and computes a zero refund). Every action sequence here runs twice,
with ``build_read`` and with that stock set-up, under each mining mode; every read —
``eth_call`` (at pending, at latest, with the sender's nonce and balance overridden),
``eth_estimateGas``, ``eth_createAccessList`` and ``debug_traceCall`` answers, errors
included — and every sealed block's hash must be the same. The reads look at what the
set-up writes: the sender's nonce (a contract's address when a call creates, or
re-enters a sender with code that creates), whether the sender is empty (EXTCODEHASH),
balances, the gas left and EIP-7702 delegations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.constants import ZERO_ADDRESS
from eth_typing import Address
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from testing_helpers import devnet_step

import chains._calls
from chains import Devnet
from chains._calls import ReadTransaction, build_read
from chains._errors import InvalidTransaction
from chains._evm import TX_BUILDER, CallTransaction

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"

#: runtime code answering what a call can see of its caller and its own set-up: the
#: caller's EXTCODEHASH (0 for an empty account) and balance, ORIGIN, GAS, then a CALL
#: back to the caller with CALLVALUE (its first 32 bytes of output, its success, GAS
#: after it), its own balance; one LOG0; 256 bytes out
_LOOKER = bytes.fromhex(
    "333f5f52"
    "3331602052"
    "32604052"
    "5a606052"
    "6020608060005f3433"
    "5af1"
    "60a052"
    "5a60c052"
    "303160e052"
    "60205fa0"
    "6101005ff3"
)
#: runtime code that creates an empty contract and returns its address (a sender with
#: code: re-entered by the looker, the address shows the sender's nonce)
_CREATOR = bytes.fromhex("5f5f5ff05f5260205ff3")
#: init code returning its own address, its caller's EXTCODEHASH and balance, and GAS
_INIT = bytes.fromhex("305f52333f60205233316040525a60605260805ff3")

_LOOKER_AT = b"\x10" * 20
_CREATOR_AT = b"\x20" * 20
_DELEGATED = b"\x30" * 20  # an EOA delegating to the looker (EIP-7702)
_NOBODY = Address(b"\x40" * 20)  # never funded, no code
_SHA256 = (2).to_bytes(20, "big")
_IDENTITY = (4).to_bytes(20, "big")  # given a delegation: runs neither it nor the looker

#: by name: None is no ``from`` field (the zero address)
_SENDERS = {
    "none": None,
    "dev": "dev",
    "nobody": _NOBODY,
    "creator": _CREATOR_AT,
    "delegated": _DELEGATED,
    "zero": ZERO_ADDRESS,
}
#: by name: None creates (``_INIT``)
_TARGETS = {
    "looker": _LOOKER_AT,
    "delegated": _DELEGATED,
    "create": None,
    "nobody": _NOBODY,
    "sha256": _SHA256,
    "delegated_precompile": _IDENTITY,
    "probe": "probe",
    "probe_fail": "probe_fail",
}
_GASES = [None, 21_000, 21_100, 60_000, 200_000]
_KINDS = ["call", "estimate", "access_list", "trace", "latest", "override"]
_OVERRIDE = {"nonce": "0x7", "balance": "0x5"}
_ACTIONS = ["store", "fail", "set_storage", "fund", "advance", "mine", "snapshot", "revert"]
_ACTIONS += ["bump_nonce", "deposit"]


def stock_build_read(
    state: Any, executor: Any, sender: Address, to: Address, value: int, data: bytes, gas: int
) -> tuple[Any, Any]:
    """``simulate``'s set-up before ``build_read``: an unsigned legacy transaction of
    the sender's nonce, wrapped, and py-evm's message set-up (``build_evm_message``)."""
    unsigned = TX_BUILDER.create_unsigned_transaction(
        nonce=state.get_nonce(sender), gas_price=0, gas=gas, to=to, value=value, data=data
    )
    tx = CallTransaction(unsigned, sender)
    if gas < tx.intrinsic_gas:
        raise InvalidTransaction(f"gas {gas} is below the intrinsic gas {tx.intrinsic_gas}")
    return tx, executor.build_evm_message(tx)


def _hex(value: bytes | int) -> str:
    return hex(value) if isinstance(value, int) else "0x" + value.hex()


def _read(chain: Any, probe: Any, kind: str, who: str, what: str, value: int, gas: Any) -> Any:
    """One read through the JSON-RPC method table: its whole answer (result or error)."""
    sender, target = _SENDERS[who], _TARGETS[what]
    if sender == "dev":
        sender = chain.accounts[1].address
    data = b""
    if target == "probe":
        target, data = probe.address, probe.store.encode(value + 3)
    elif target == "probe_fail":
        target, data = probe.address, probe.double.encode(500)
    elif target is None:
        data = _INIT
    elif target == _LOOKER_AT:
        data = b"\x00\x01\x02"
    tx: dict[str, Any] = {"data": _hex(data), "value": _hex(value)}
    if sender is not None:
        tx["from"] = sender if isinstance(sender, str) else to_checksum_address(sender)
    if target is not None:
        tx["to"] = target if isinstance(target, str) else to_checksum_address(target)
    if gas is not None:
        tx["gas"] = _hex(gas)
    method, params = {
        "call": ("eth_call", [tx, "pending"]),
        "estimate": ("eth_estimateGas", [tx]),
        "access_list": ("eth_createAccessList", [tx, "pending"]),
        "trace": ("debug_traceCall", [tx, "pending", {"tracer": "callTracer"}]),
        "latest": ("eth_call", [tx, "latest"]),
        # the sender's nonce and balance replaced for the call (geth's state override)
        "override": ("eth_call", [tx, "pending", {tx.get("from", _hex(ZERO_ADDRESS)): _OVERRIDE}]),
    }[kind]
    return chain.rpc.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})


def _run(actions: list[tuple[str, int]], reads: list[tuple[Any, ...]], mining: str) -> list[Any]:
    devnet = Devnet(n_chains=1, seed=5, mining=mining)
    chain = devnet.chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.set_code(_LOOKER_AT, _LOOKER)
    chain.set_code(_CREATOR_AT, _CREATOR)
    chain.set_code(_DELEGATED, b"\xef\x01\x00" + _LOOKER_AT)
    chain.set_code(_IDENTITY, b"\xef\x01\x00" + _LOOKER_AT)
    chain.mine()
    sender = chain.accounts[1].address
    snapshots: list[int] = []
    trace: list[Any] = []
    for step, (action, n) in enumerate(actions):
        if action == "store":
            probe.store(n if n != 13 else 14, sender=sender)
            trace.append(chain.last_receipt)
        elif action == "fail":
            trace.append(chain.simulate(to=probe.address, data=probe.store.encode(13)))
        elif action == "fund":
            chain.set_balance([_CREATOR_AT, _DELEGATED, ZERO_ADDRESS][n % 3], n * 10**15)
        elif action == "bump_nonce":
            address = [_CREATOR_AT, _DELEGATED, ZERO_ADDRESS][n % 3]
            chain.set_nonce(address, chain.get_nonce(address) + 1 + n)
        else:
            devnet_step(devnet, chain, probe, sender, snapshots, action, n)
        for kind, who, target, value, gas in reads[step % len(reads) :][:3]:
            trace.append(_read(chain, probe, kind, who, target, value, gas))
    for kind, who, target, value, gas in reads:
        trace.append(_read(chain, probe, kind, who, target, value, gas))
    chain.mine()
    trace.append([chain.get_block(i).hash for i in range(chain.block_number + 1)])
    return trace


_READS = st.tuples(
    st.sampled_from(_KINDS),
    st.sampled_from(sorted(_SENDERS)),
    st.sampled_from(sorted(_TARGETS)),
    st.sampled_from([0, 0, 1, 10**15]),
    st.sampled_from(_GASES),
)


@given(
    actions=st.lists(
        st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 20)), min_size=1, max_size=10
    ),
    reads=st.lists(_READS, min_size=1, max_size=12),
    mining=st.sampled_from(["auto", "manual", "interval"]),
)
@settings(deadline=None, max_examples=40)
def test_direct_read_message_matches_py_evm_set_up(
    actions: list[tuple[str, int]], reads: list[tuple[Any, ...]], mining: str
) -> None:
    direct = _run(actions, reads, mining)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chains._calls, "build_read", stock_build_read)
        stock = _run(actions, reads, mining)
    assert direct == stock


@pytest.mark.parametrize("who", sorted(_SENDERS))
@pytest.mark.parametrize("target", sorted(_TARGETS))
def test_each_sender_and_target_reads_as_before(who: str, target: str) -> None:
    reads = [(k, who, target, v, gas) for k in _KINDS for v in (0, 1) for gas in _GASES]
    actions = [("fund", 0), ("store", 5), ("bump_nonce", 1), ("fund", 2), ("mine", 0)]
    direct = _run(actions, reads, "manual")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chains._calls, "build_read", stock_build_read)
        assert direct == _run(actions, reads, "manual")


@given(
    data=st.binary(max_size=80),
    is_create=st.booleans(),
    gas=st.integers(0, 10**6),
)
def test_read_transaction_has_the_unsigned_transaction_s_intrinsic_gas(
    data: bytes, is_create: bool, gas: int
) -> None:
    to = Address(b"" if is_create else _LOOKER_AT)
    unsigned = TX_BUILDER.create_unsigned_transaction(
        nonce=0, gas_price=0, gas=gas, to=to, value=0, data=data
    )
    tx = ReadTransaction(ZERO_ADDRESS, to, 0, data, gas)
    assert tx.intrinsic_gas == CallTransaction(unsigned, ZERO_ADDRESS).intrinsic_gas


def test_gas_below_the_intrinsic_gas_is_refused_before_the_state_changes() -> None:
    chain = Devnet(n_chains=1, seed=5).chains[0]
    state = chain._state
    nonce = state.get_nonce(ZERO_ADDRESS)
    with pytest.raises(InvalidTransaction, match="gas 21003 is below the intrinsic gas 21016"):
        build_read(
            state, state.get_transaction_executor(), ZERO_ADDRESS, _NOBODY, 0, b"\x01", 21_003
        )
    assert state.get_nonce(ZERO_ADDRESS) == nonce

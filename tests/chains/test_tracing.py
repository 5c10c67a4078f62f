"""Tracing: the call tracer and the struct logger (native API and JSON-RPC), the printed
call tree, and the revert trace of ``TransactionReverted``."""

from __future__ import annotations

from pathlib import Path

import pytest

from chains import (
    Chain,
    ConfigError,
    Contract,
    Devnet,
    RpcError,
    TransactionReverted,
)
from chains._errors import UnknownTransaction
from chains._interpreter import FastComputation
from chains.trace import CallFrame, TraceOptions, format_trace

pytest_plugins = ["pytester"]

CALLER = Path(__file__).parent / "contracts" / "Caller.vy"
PROBE = Path(__file__).parent / "contracts" / "Probe.vy"
# Runtime: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (returns the word 42).
RUNTIME = bytes.fromhex("602a60005260206000f3")
WITH_LOG = TraceOptions(with_log=True)


@pytest.fixture
def caller(chain: Chain, probe: Contract) -> Contract:
    """A Caller pointed at the probe, deployed by the deployer."""
    return chain.deploy(CALLER, probe.address)


@pytest.fixture
def answer(chain: Chain) -> str:
    """The address of a contract whose code returns the word 42 (no ABI)."""
    chain.set_code("0x" + "42" * 20, RUNTIME)
    return "0x" + "42" * 20


# ----------------------------------------------------------------------------------------
# call tracer
# ----------------------------------------------------------------------------------------
def test_call_tree_of_a_nested_call(chain: Chain, caller: Contract, probe: Contract) -> None:
    receipt = caller.relay.transact(5)
    trace = chain.trace_transaction(receipt.tx_hash)
    assert (trace.type, trace.sender, trace.to) == (
        "CALL",
        chain.accounts[0].address,
        caller.address,
    )
    assert trace.gas_used == receipt.gas_used
    assert trace.output == (5).to_bytes(32, "big")
    assert trace.error is None and trace.logs == ()  # logs only with with_log
    (inner,) = trace.calls
    assert (inner.type, inner.sender, inner.to, inner.value) == (
        "CALL",
        caller.address,
        probe.address,
        0,
    )
    assert inner.input[:4] == bytes.fromhex("6057361d")  # store(uint256)
    assert 0 < inner.gas_used < inner.gas < trace.gas
    assert inner.depth == 1 and inner.calls == ()


def test_call_tree_of_a_nested_revert(chain: Chain, caller: Contract, probe: Contract) -> None:
    with pytest.raises(TransactionReverted, match="probe: unlucky number") as caught:
        caller.relay(13)
    assert caught.value.receipt is not None
    trace = chain.trace_transaction(caught.value.receipt.tx_hash)
    assert trace.error == "execution reverted" and trace.revert_reason == "probe: unlucky number"
    (inner,) = trace.calls
    assert inner.error == "execution reverted"
    assert inner.revert_reason == "probe: unlucky number"
    assert inner.output == trace.output  # Vyper re-raises the callee's revert data
    assert trace.gas_used == caught.value.receipt.gas_used


def test_call_kinds(chain: Chain, caller: Contract, probe: Contract) -> None:
    static = chain.trace_call(to=caller.address, data=_calldata(caller, "peek", 4))
    (peek,) = static.calls
    assert (peek.type, peek.to, peek.value) == ("STATICCALL", probe.address, None)
    delegated = chain.trace_transaction(caller.borrow.transact(9).tx_hash)
    (borrow,) = delegated.calls
    assert (borrow.type, borrow.sender, borrow.to) == (
        "DELEGATECALL",
        caller.address,
        probe.address,
    )
    assert caller.stored() == 9  # ran on the caller's storage
    created = chain.trace_transaction(caller.clone.transact(b"\x01" * 32).tx_hash)
    plain, salted = created.calls
    assert (plain.type, salted.type) == ("CREATE", "CREATE2")
    assert plain.output == salted.output == chain.get_code(probe.address)
    assert plain.input[-len(plain.output) :] == plain.output  # the copy's initcode


def test_with_log_positions_and_only_top_call(chain: Chain, caller: Contract) -> None:
    tx_hash = caller.relay.transact(5).tx_hash
    trace = chain.trace_transaction(tx_hash, options=WITH_LOG)
    assert [log.position for log in trace.logs] == [0, 1]  # before and after the one call
    assert [log.address for log in trace.calls[0].logs] == [trace.calls[0].to]
    top = chain.trace_transaction(tx_hash, options=TraceOptions(only_top_call=True))
    assert top.calls == () and top.gas_used == trace.gas_used


def test_failed_frames_drop_their_logs(chain: Chain, caller: Contract) -> None:
    with pytest.raises(TransactionReverted) as caught:
        caller.relay(13)
    assert caught.value.receipt is not None
    trace = chain.trace_transaction(caught.value.receipt.tx_hash, options=WITH_LOG)
    assert all(frame.logs == () for frame in trace.walk())


def test_out_of_gas_frame(chain: Chain, probe: Contract) -> None:
    with pytest.raises(TransactionReverted) as caught:
        chain.transact(to=probe.address, data=_calldata(probe, "store", 5), gas=23_000)
    receipt = caught.value.receipt
    assert receipt is not None and receipt.error == "OutOfGas"
    trace = chain.trace_transaction(receipt.tx_hash)
    assert trace.error == "out of gas" and trace.output == b"" and trace.revert_reason is None
    assert trace.gas_used == receipt.gas_used == 23_000


# ----------------------------------------------------------------------------------------
# struct logger
# ----------------------------------------------------------------------------------------
def test_struct_log_of_a_known_program(chain: Chain, answer: str) -> None:
    receipt = chain.transact(to=answer, gas=50_000)
    trace = chain.trace_transaction(
        receipt.tx_hash, tracer="struct", options=TraceOptions(enable_memory=True)
    )
    assert (trace.gas, trace.failed, trace.return_value) == (
        receipt.gas_used,
        False,
        (42).to_bytes(32, "big"),
    )
    start = 50_000 - 21_000
    word = (42).to_bytes(32, "big")
    steps = [(s.pc, s.op, s.gas, s.gas_cost, s.depth, s.stack, s.memory) for s in trace.struct_logs]
    assert steps == [
        (0, "PUSH1", start, 3, 1, (), b""),
        (2, "PUSH1", start - 3, 3, 1, (42,), b""),
        (4, "MSTORE", start - 6, 6, 1, (42, 0), b""),  # 3 + one word of memory
        (5, "PUSH1", start - 12, 3, 1, (), word),
        (7, "PUSH1", start - 15, 3, 1, (32,), word),
        (9, "RETURN", start - 18, 0, 1, (32, 0), word),
    ]
    assert receipt.gas_used == 21_000 + 18


def test_struct_log_gas_is_continuous(chain: Chain, caller: Contract) -> None:
    receipt = caller.relay.transact(5)
    trace = chain.trace_transaction(receipt.tx_hash, tracer="struct")
    steps = trace.struct_logs
    assert trace.gas == receipt.gas_used
    for step, after in zip(steps, steps[1:], strict=False):
        if after.depth == step.depth:
            assert after.gas == step.gas - step.gas_cost, step
        elif after.depth == step.depth + 1:
            assert step.op == "CALL" and after.pc == 0
            assert step.gas_cost > after.gas  # the forwarded gas and the access cost
    assert {s.depth for s in steps} == {1, 2}
    assert steps[-1].op == "RETURN" and steps[-1].depth == 1


def test_struct_log_options(chain: Chain, probe: Contract) -> None:
    tx_hash = probe.store.transact(5).tx_hash
    plain = chain.trace_transaction(tx_hash, tracer="struct")
    sstore = next(s for s in plain.struct_logs if s.op == "SSTORE")
    assert sstore.storage == {1: 5} and sstore.stack is not None and sstore.memory is None
    assert all(s.storage is None for s in plain.struct_logs if s.op not in ("SLOAD", "SSTORE"))
    bare = chain.trace_transaction(
        tx_hash,
        tracer="struct",
        options=TraceOptions(disable_stack=True, disable_storage=True, limit=10),
    )
    assert len(bare.struct_logs) == 10
    assert all(s.stack is None and s.storage is None for s in bare.struct_logs)
    assert bare.gas == plain.gas


def test_struct_log_refund_counter(chain: Chain, probe: Contract) -> None:
    probe.store.transact(5)
    tx_hash = probe.store.transact(0).tx_hash  # clearing a slot earns a refund
    steps = chain.trace_transaction(tx_hash, tracer="struct").struct_logs
    index = next(i for i, s in enumerate(steps) if s.op == "SSTORE")
    assert steps[index].refund == 0 and steps[index + 1].refund == 4800


# ----------------------------------------------------------------------------------------
# replay
# ----------------------------------------------------------------------------------------
def test_tracing_changes_nothing(chain: Chain, caller: Contract) -> None:
    receipt = caller.relay.transact(5)
    head = chain.get_block("latest")
    chain.trace_transaction(receipt.tx_hash, tracer="struct")
    chain.trace_transaction(receipt.tx_hash)
    chain.trace_call(to=caller.address, data=_calldata(caller, "relay", 6))
    assert chain.get_block("latest") == head
    assert caller.relay.transact(6).status
    assert type(chain._state).computation_class is FastComputation
    assert "computation_class" not in vars(chain._state)


def test_trace_in_the_middle_of_a_block() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.set_storage_at(probe.address, 1, 99)  # a dev write between two transactions
    receipt = probe.store.transact(5)
    pending = chain.trace_transaction(receipt.tx_hash, options=WITH_LOG)
    (log,) = pending.logs
    assert int.from_bytes(log.data[:32], "big") == 99  # the write was replayed
    assert pending.gas_used == receipt.gas_used
    chain.mine()
    deployed = chain.trace_transaction(probe.deploy_receipt.tx_hash)  # type: ignore[union-attr]
    assert deployed.type == "CREATE" and deployed.to == probe.address


def test_unknown_transaction(chain: Chain) -> None:
    with pytest.raises(UnknownTransaction, match="unknown transaction 0x1111"):
        chain.trace_transaction(b"\x11" * 32)


def test_unknown_tracer(chain: Chain, probe: Contract) -> None:
    with pytest.raises(ConfigError, match="unknown tracer 'prestate'"):
        chain.trace_call(to=probe.address, tracer="prestate")  # type: ignore[call-overload]


# ----------------------------------------------------------------------------------------
# printed trees and reverts
# ----------------------------------------------------------------------------------------
def test_format_trace(chain: Chain, caller: Contract, probe: Contract) -> None:
    trace = chain.trace_transaction(caller.relay.transact(5).tx_hash, options=WITH_LOG)
    c, p = caller.address, probe.address
    assert format_trace(trace, chain, show_gas=False) == "\n".join(
        [
            f"Caller({c[:6]}…{c[-4:]}).relay(amount=5)",
            "├─ emit Relayed(amount=0)",
            f"├─ Probe({p[:6]}…{p[-4:]}).store(amount=5)",
            f"│  ├─ emit Stored(setter={c}, previous=7, current=5)",
            "│  └─ ← 5",
            "├─ emit Relayed(amount=5)",
            "└─ ← 5",
        ]
    )
    assert format_trace(trace, chain).startswith(f"[{trace.gas_used}] Caller(")


def test_format_trace_names_factory_made_contracts(chain: Chain, caller: Contract) -> None:
    trace = chain.trace_transaction(caller.clone.transact(b"\x02" * 32).tx_hash)
    lines = format_trace(trace, chain, show_gas=False).splitlines()
    assert lines[1].startswith("├─ [create] → new Probe@0x")  # found by its runtime code
    assert lines[3].startswith("├─ [create2] → new Probe@0x")


def test_format_trace_of_unknown_code(chain: Chain, answer: str) -> None:
    trace = chain.trace_transaction(chain.transact(to=answer, data=b"\xab\xcd\xef\x01\x02").tx_hash)
    assert format_trace(trace, chain, show_gas=False) == "\n".join(
        [f"{answer}.0xabcdef01(0x02)", "└─ ← 0x" + (42).to_bytes(32, "big").hex()]
    )


def test_reverted_transaction_carries_its_trace(chain: Chain, caller: Contract) -> None:
    with pytest.raises(TransactionReverted) as caught:
        caller.relay(13)
    assert str(caught.value) == "execution reverted: probe: unlucky number"  # one line
    assert isinstance(caught.value.trace, CallFrame)
    text = caught.value.format_trace().splitlines()
    assert len(text) == 4 and text[0].endswith(").relay(amount=13)")
    assert text[1].endswith(").store(amount=13)")
    assert text[2:] == [
        "│  └─ ← [Revert] probe: unlucky number",
        "└─ ← [Revert] probe: unlucky number",
    ]


def test_reverted_call_carries_its_trace(chain: Chain, caller: Contract) -> None:
    with pytest.raises(TransactionReverted) as caught:
        caller.peek(100)
    trace = caught.value.trace
    assert trace.calls[0].type == "STATICCALL"
    assert trace.calls[0].revert_reason == "probe: too large"
    assert caught.value.format_trace().splitlines()[-1] == "└─ ← [Revert] probe: too large"


# ----------------------------------------------------------------------------------------
# JSON-RPC
# ----------------------------------------------------------------------------------------
def test_rpc_call_tracer(chain: Chain, caller: Contract, probe: Contract) -> None:
    tx_hash = "0x" + caller.relay.transact(5).tx_hash.hex()
    out = chain.rpc.call(
        "debug_traceTransaction",
        [tx_hash, {"tracer": "callTracer", "tracerConfig": {"withLog": True}}],
    )
    assert out["type"] == "CALL" and out["from"] == chain.accounts[0].address.lower()
    assert out["to"] == caller.address.lower() and out["value"] == "0x0"
    assert out["output"] == "0x" + (5).to_bytes(32, "big").hex()
    assert [log["position"] for log in out["logs"]] == ["0x0", "0x1"]
    (inner,) = out["calls"]
    assert inner["to"] == probe.address.lower() and "calls" not in inner and "error" not in inner
    assert int(out["gasUsed"], 16) == chain.get_receipt(bytes.fromhex(tx_hash[2:])).gas_used


def test_rpc_struct_logger(chain: Chain, answer: str) -> None:
    tx_hash = "0x" + chain.transact(to=answer, gas=50_000).tx_hash.hex()
    out = chain.rpc.call("debug_traceTransaction", [tx_hash, {"enableMemory": True}])
    assert out["gas"] == 21_018 and out["failed"] is False
    assert out["returnValue"] == "0x" + (42).to_bytes(32, "big").hex()
    assert out["structLogs"][3] == {
        "pc": 5,
        "op": "PUSH1",
        "gas": 29_000 - 12,
        "gasCost": 3,
        "depth": 1,
        "stack": [],
        "memory": [(42).to_bytes(32, "big").hex()],
    }
    default = chain.rpc.call("debug_traceTransaction", [tx_hash])
    assert (
        default["structLogs"][2]["stack"] == ["0x2a", "0x0"]
        and "memory" not in default["structLogs"][2]
    )


def test_rpc_trace_call_revert(chain: Chain, caller: Contract) -> None:
    out = chain.rpc.call(
        "debug_traceCall",
        [
            {"to": caller.address, "data": "0x" + _calldata(caller, "peek", 100).hex()},
            "latest",
            {"tracer": "callTracer"},
        ],
    )
    assert out["error"] == "execution reverted" and out["revertReason"] == "probe: too large"
    assert out["calls"][0]["type"] == "STATICCALL" and "value" not in out["calls"][0]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"tracer": "prestateTracer"}, "tracer config.tracer 'prestateTracer' is not served"),
        ({"disableStak": True}, "unknown field(s): disableStak"),
        ({"tracer": "callTracer", "enableMemory": True}, "applies to the struct logger"),
        ({"tracer": "callTracer", "tracerConfig": {"onlyTop": True}}, "unknown field(s): onlyTop"),
        ({"enableMemory": "yes"}, "tracer config.enableMemory"),
    ],
    ids=["other-tracer", "typo", "struct-option-on-call", "call-option-typo", "not-bool"],
)
def test_rpc_bad_tracer_config(chain: Chain, probe: Contract, config: dict, message: str) -> None:
    tx_hash = "0x" + probe.store.transact(5).tx_hash.hex()
    with pytest.raises(RpcError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        chain.rpc.call("debug_traceTransaction", [tx_hash, config])
    assert caught.value.code == -32602


def test_rpc_unknown_transaction(chain: Chain) -> None:
    with pytest.raises(RpcError, match="unknown transaction") as caught:
        chain.rpc.call("debug_traceTransaction", ["0x" + "11" * 32])
    assert caught.value.code == -32000


def test_web3_provider_traces(chain: Chain, caller: Contract) -> None:
    tx_hash = "0x" + caller.relay.transact(5).tx_hash.hex()
    response = chain.w3.provider.make_request(
        "debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}]
    )
    assert response["result"]["calls"][0]["type"] == "CALL"


def _calldata(contract: Contract, name: str, *args: object) -> bytes:
    return contract.functions[name]._pick(args).encode_args(args)


def test_pytest_report_shows_the_trace_of_an_uncaught_revert(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        def test_store(chain):
            chain.deploy({str(PROBE)!r}, 7).store(13)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--testbed-chains", "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- call trace -*", "*Probe(0x*).store(amount=13)", "*← [[]Revert] probe: unlucky number"]
    )

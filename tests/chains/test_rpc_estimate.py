"""eth_estimateGas in one EVM run (chains/rpc/_estimate.py) answers what Chain.estimate_gas
answers: call trees that forward all gas, a fixed amount, run out, revert, store, nest
deep, read ``msg.gas``, deploy; and random ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given, note
from hypothesis import strategies as st

from chains import Chain, Contract, Devnet, RpcMethods
from chains._evm import VM_CLASSES
from chains.rpc import _estimate
from chains.rpc._estimate import (
    _gas_only_feeds_calls,
    fits_lower_limit,
    last_top_frame,
    probe_class,
)

CONTRACTS = Path(__file__).parent / "contracts"


def _run_data(depth: int, work: int, fixed: int, store: bool, fail: bool) -> str:
    selector = keccak(b"run(uint256,uint256,uint256,bool,bool)")[:4]
    args = b"".join(v.to_bytes(32, "big") for v in (depth, work, fixed, int(store), int(fail)))
    return "0x" + (selector + args).hex()


def _answer(rpc: RpcMethods, tx: dict[str, Any]) -> Any:
    """eth_estimateGas's whole answer: the result, or the error object."""
    return rpc.handle({"jsonrpc": "2.0", "id": 1, "method": "eth_estimateGas", "params": [tx]})


def _both(rpc: RpcMethods, tx: dict[str, Any]) -> tuple[Any, Any]:
    """(the answer, the answer of Chain.estimate_gas's two runs as before) for ``tx``."""
    answer = _answer(rpc, tx)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rpc, "_estimate_in_one_run", lambda fields: None)
        before = _answer(rpc, tx)
    return answer, before


def _runs(monkeypatch: pytest.MonkeyPatch, chain: Chain) -> list[int | None]:
    """Record the gas limit of every simulate run on ``chain`` from now on."""
    runs: list[int | None] = []
    simulate = chain.simulate

    def counted(**kw: Any) -> Any:
        runs.append(kw.get("gas"))
        return simulate(**kw)

    monkeypatch.setattr(chain, "simulate", counted)
    return runs


@pytest.fixture
def nest(chain: Chain) -> Contract:
    """A Nest contract: calls itself ``depth`` times, then burns ``work`` loop rounds."""
    return chain.deploy(CONTRACTS / "Nest.vy")


# depth, work, fixed gas per call (0: all, by gas()), store, leaf fails, one run expected
CASES = {
    "swap-shaped: two calls forwarding all gas, stores": (2, 10, 0, True, False, True),
    "one frame": (0, 50, 0, True, False, True),
    "fixed gas, enough": (3, 20, 300_000, True, False, True),
    "fixed gas, the leaf runs out": (2, 4000, 5_000, False, False, True),
    "the leaf reverts, caught": (2, 10, 200_000, True, True, True),
    "deep, heavy leaf: the 64/63 guess fails": (10, 2000, 0, False, False, False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_estimate_matches_the_two_run_estimate(
    rpc: RpcMethods,
    chain: Chain,
    nest: Contract,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[int, int, int, bool, bool, bool],
) -> None:
    *args, is_one_run = case
    tx = {"from": chain.accounts[1].address, "to": nest.address, "data": _run_data(*args)}
    runs = _runs(monkeypatch, chain)
    answer = int(rpc.call("eth_estimateGas", [tx]), 16)
    assert (runs == [None]) is is_one_run, runs
    assert _both(rpc, tx) == ({"jsonrpc": "2.0", "id": 1, "result": hex(answer)},) * 2
    ok = chain.simulate(to=nest.address, data=bytes.fromhex(tx["data"][2:]), gas=answer)
    assert not ok.is_error


def test_estimate_of_a_gas_reading_contract_runs_the_guess(
    rpc: RpcMethods, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = chain.deploy(CONTRACTS / "GasGate.vy")
    data = "0x" + (keccak(b"gate(uint256)")[:4] + (200_000).to_bytes(32, "big")).hex()
    tx = {"to": gate.address, "data": data}
    runs = _runs(monkeypatch, chain)
    answer = int(rpc.call("eth_estimateGas", [tx]), 16)
    # msg.gas is compared, not forwarded: the guess must run (it fails here), then bisect
    assert runs[0] is None and runs[1] is not None and len(runs) > 3
    assert answer > 200_000
    assert _both(rpc, tx) == ({"jsonrpc": "2.0", "id": 1, "result": hex(answer)},) * 2


def test_estimate_of_a_deployment_matches(rpc: RpcMethods, chain: Chain) -> None:
    code = chain.compile(CONTRACTS / "Nest.vy").bytecode
    tx = {"from": chain.accounts[1].address, "data": "0x" + code.hex()}
    answer, before = _both(rpc, tx)
    assert answer == before and int(answer["result"], 16) > 53_000


@given(
    depth=st.integers(0, 6),
    work=st.integers(0, 300),
    fixed=st.sampled_from([0, 0, 2_300, 8_000, 60_000, 400_000]),
    store=st.booleans(),
    fail=st.booleans(),
)
def test_estimate_matches_on_random_call_trees(
    rpc: RpcMethods,
    chain: Chain,
    nest: Contract,
    depth: int,
    work: int,
    fixed: int,
    store: bool,
    fail: bool,
) -> None:
    tx = {"to": nest.address, "data": _run_data(depth, work, fixed, store, fail)}
    answer, before = _both(rpc, tx)
    note(f"answer {answer}, before {before}")
    assert answer == before


def test_gas_scan_accepts_only_gas_fed_to_calls() -> None:
    push_gas_call = bytes([0x60, 0x5A, 0x5A, 0xF1, 0x00])  # PUSH1 0x5a (data), GAS, CALL
    assert _gas_only_feeds_calls(push_gas_call)
    assert not _gas_only_feeds_calls(bytes([0x5A, 0x50, 0x00]))  # GAS, POP
    assert not _gas_only_feeds_calls(bytes([0x00, 0x5B, 0x5A]))  # a JUMPDEST reaches GAS
    assert _gas_only_feeds_calls(bytes([0x00, 0x5A, 0x50]))  # after STOP, not reachable
    assert not _gas_only_feeds_calls(bytes([0x5A]))  # GAS as the last byte
    assert _estimate._scanned[push_gas_call] is True


@given(
    depth=st.integers(0, 6),
    work=st.integers(0, 300),
    fixed=st.sampled_from([0, 0, 2_300, 8_000, 60_000, 400_000]),
    store=st.booleans(),
    limits=st.lists(st.integers(0, 200_000), min_size=1, max_size=6),
)
def test_a_lower_limit_judged_safe_succeeds(
    chain: Chain,
    nest: Contract,
    depth: int,
    work: int,
    fixed: int,
    store: bool,
    limits: list[int],
) -> None:
    """The probe against the EVM: any limit it calls safe runs to the same success."""
    data = bytes.fromhex(_run_data(depth, work, fixed, store, False)[2:])
    base = VM_CLASSES[chain.config.interpreter].get_state_class().computation_class
    first = chain.simulate(to=nest.address, data=data, computation_class=probe_class(base))
    top = last_top_frame()
    assert not first.is_error
    for extra in limits:
        limit = first.gas_used + extra
        if fits_lower_limit(top, chain.config.gas_limit - limit):
            lower = chain.simulate(to=nest.address, data=data, gas=limit)
            assert not lower.is_error
            assert (lower.gas_used, lower.output) == (first.gas_used, first.output)


def test_the_probe_judges_a_tight_limit_unsafe(chain: Chain, nest: Contract) -> None:
    data = bytes.fromhex(_run_data(2, 10, 0, True, False)[2:])
    base = VM_CLASSES[chain.config.interpreter].get_state_class().computation_class
    first = chain.simulate(to=nest.address, data=data, computation_class=probe_class(base))
    top = last_top_frame()
    guess = (first.gas_used + first.gas_refund + 2300) * 64 // 63
    assert fits_lower_limit(top, chain.config.gas_limit - guess)
    assert not fits_lower_limit(top, chain.config.gas_limit - first.gas_used)
    assert not fits_lower_limit(None, 0)


@pytest.mark.parametrize("interpreter", ["fast", "py-evm"])
def test_estimate_in_one_run_on_either_loop(
    interpreter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = Devnet(n_chains=1, seed=7, interpreter=interpreter).chains[0]
    nest = chain.deploy(CONTRACTS / "Nest.vy")
    tx = {"to": nest.address, "data": _run_data(2, 10, 0, True, False)}
    runs = _runs(monkeypatch, chain)
    answer, before = _both(chain.rpc, tx)
    assert runs[0] is None and runs[1:].count(None) == 1  # one run here, two before
    assert answer == before

"""The official Ethereum state tests, on the chains' own VM: the EVM stays exact.

A vendored subset of ethereum/tests ``GeneralStateTests`` (``fixtures/``, see its README)
runs through the VM class the chains run (``DevVM``: Prague rules, the fast opcode loop
``FastComputation``, the devnet state database ``DevAccountDB``); every case must give
the fixture's post-state root and logs hash, and be rejected exactly when the fixture
expects a rejection. One test per case, with the id ``file::test::fork::index``.

The fixtures at the vendored commit are filled for Cancun, not Prague (see the README).
The chains run Prague, which changes the outcome of a few Cancun cases (EIP-7623's
calldata floor, EIP-2537's precompile addresses). Those, and the cases py-evm itself gets
wrong (EIP-7610), are expected failures (``statetest_expected.py``), checked strictly: a
listed case that passes fails the run, and :func:`test_expected_failure_is_explained`
re-runs each one through py-evm to confirm its stated reason.
"""

from __future__ import annotations

from collections import Counter

import pytest
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from statetest_expected import EXPECTED_FAILURES, SLOW_CASES, Reason
from statetest_runner import (
    FIXTURES_DIR,
    Case,
    Outcome,
    PyEvmCancunVM,
    PyEvmPragueCancunPrecompilesVM,
    PyEvmPragueEip7610VM,
    PyEvmPragueNoFloorVM,
    PyEvmPragueVM,
    build_state,
    load_cases,
    run_case,
)

from chains import ChainConfig
from chains._evm import VM_CLASSES, DevVM
from chains._interpreter import FastComputation
from chains._statedb import DevAccountDB

# py-evm warns at every SELFDESTRUCT that its semantics may change in a later release; the
# state tests execute it on purpose (EIP-6780 cases, refunds).
pytestmark = pytest.mark.filterwarnings(
    "ignore:SELFDESTRUCT opcode present in computation:DeprecationWarning"
)

#: The post entries used: Prague where a fixture has them, else Cancun (see the README).
FORKS = ("Prague", "Cancun")

CASES = load_cases(FORKS)
CASES_BY_ID = {case.id: case for case in CASES}


def _param(case: Case) -> object:
    marks: list[pytest.MarkDecorator] = []
    if case.id in EXPECTED_FAILURES:
        reason = EXPECTED_FAILURES[case.id]
        marks.append(
            pytest.mark.xfail(reason=f"{reason.kind}: {reason.text}", raises=AssertionError)
        )
    if case.id in SLOW_CASES:
        marks.append(pytest.mark.slow)
    return pytest.param(case, id=case.id, marks=marks)


def is_passing(outcome: Outcome, case: Case) -> bool:
    """Whether ``outcome`` is what the fixture expects."""
    return (
        outcome.state_root == case.expected_root
        and outcome.logs_hash == case.expected_logs_hash
        and (outcome.rejection is not None) == case.is_rejection_expected
    )


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_post_state(case: Case) -> None:
    outcome = run_case(DevVM, case)
    post = case.post()
    if case.is_rejection_expected:
        assert outcome.rejection is not None, (
            f"the transaction ran, the fixture expects it rejected ({post['expectException']})"
        )
    else:
        assert outcome.rejection is None, f"the transaction was rejected: {outcome.rejection}"
    assert outcome.state_root.hex() == case.expected_root.hex()
    assert outcome.logs_hash.hex() == case.expected_logs_hash.hex()


#: For each reason: py-evm's Prague VM with that one rule changed (it must pass the case),
#: and whether the reason is py-evm's own (its Cancun VM fails the Cancun fixture too) or
#: Prague's (py-evm's Cancun VM passes it: the fixture is right for Cancun).
_EXPLANATIONS: dict[str, tuple[type, bool]] = {
    Reason.EIP_7610: (PyEvmPragueEip7610VM, True),
    Reason.EIP_7623: (PyEvmPragueNoFloorVM, False),
    Reason.EIP_2537: (PyEvmPragueCancunPrecompilesVM, False),
}


@pytest.mark.parametrize("case_id", sorted(EXPECTED_FAILURES))
def test_expected_failure_is_explained(case_id: str) -> None:
    """Each expected failure is py-evm's Prague outcome exactly, and its stated rule is the
    whole difference from the fixture."""
    case = CASES_BY_ID[case_id]
    fixed_vm, is_py_evm_gap = _EXPLANATIONS[EXPECTED_FAILURES[case_id].kind]
    assert run_case(DevVM, case) == run_case(PyEvmPragueVM, case)
    assert not is_passing(run_case(PyEvmPragueVM, case), case)
    assert is_passing(run_case(fixed_vm, case), case)
    assert is_passing(run_case(PyEvmCancunVM, case), case) is not is_py_evm_gap


def test_cases_run_on_the_chains_vm() -> None:
    """The VM class under test is the one a default Chain runs, and its states execute on
    the fast loop over the devnet state database."""
    assert VM_CLASSES[ChainConfig(chain_id=1).interpreter] is DevVM
    case = CASES[0]
    state = build_state(DevVM, AtomicDB(), case.fixture()["env"], BLANK_ROOT_HASH)
    assert isinstance(state._account_db, DevAccountDB)
    assert state.computation_class is FastComputation


def test_expected_failures_name_vendored_cases() -> None:
    """A typo in the expected-failure or slow lists would silently do nothing."""
    assert sorted(set(EXPECTED_FAILURES) - set(CASES_BY_ID)) == []
    assert sorted(SLOW_CASES - set(CASES_BY_ID)) == []


def test_every_vendored_file_has_cases() -> None:
    """No fixture file is vendored without a post entry for the forks used."""
    files = {p.relative_to(FIXTURES_DIR).as_posix() for p in FIXTURES_DIR.rglob("*.json")}
    per_file = Counter(case.path for case in CASES)
    assert sorted(files - set(per_file)) == []
    assert len(CASES) == len(CASES_BY_ID)  # ids are unique

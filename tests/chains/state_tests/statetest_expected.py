"""State-test cases the chains' VM is expected to fail, each with its reason, and the slow ones.

Every expected failure is checked twice: the case must still fail (``xfail_strict``:
one that starts passing fails the run, so fix the list), and
``test_expected_failure_is_explained`` re-runs it through py-evm as shipped to confirm the
reason's kind:

- ``Reason.PY_EVM``: py-evm's own Cancun VM fails the (Cancun) fixture too, and the chains'
  VM gives exactly py-evm's Prague outcome: a limitation of py-evm, not of the fast loop or
  the state database.
- ``Reason.EIP_7623``: the fixture is Cancun's and py-evm's Cancun VM passes it, but under
  Prague EIP-7623's calldata floor (``21000 + 10 * tokens``, ``tokens = zero bytes + 4 *
  non-zero bytes`` of calldata) exceeds the gas the transaction would otherwise be charged,
  so the sender pays more and the state root differs; py-evm's Prague VM with the floor
  taken out passes the fixture.

Regenerate the lists by running the suite: an unlisted failure or a listed pass names the
case; ``--durations`` names the slow ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["EXPECTED_FAILURES", "SLOW_CASES", "Reason"]


@dataclass(frozen=True)
class Reason:
    """Why a case fails: ``kind`` (one of the class constants) and a sentence."""

    PY_EVM: ClassVar[str] = "py-evm"
    EIP_7623: ClassVar[str] = "prague-eip-7623"

    kind: str
    text: str

    def __post_init__(self) -> None:
        if self.kind not in (self.PY_EVM, self.EIP_7623):
            raise ValueError(f"unknown expected-failure kind {self.kind!r}")


_EIP_7610 = Reason(
    Reason.PY_EVM,
    "py-evm does not implement EIP-7610: a creation into an address with non-empty storage "
    "(no code, zero nonce) must fail as a collision; py-evm checks only code and nonce",
)
_FLOOR = Reason(
    Reason.EIP_7623,
    "Cancun fixture; under Prague the EIP-7623 calldata floor exceeds the gas used",
)

#: ``file::test::fork::index`` → reason.
EXPECTED_FAILURES: dict[str, Reason] = {
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::0": _EIP_7610,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::1": _EIP_7610,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::2": _EIP_7610,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::3": _EIP_7610,
    "Cancun/stEIP5656-MCOPY/MCOPY_memory_expansion_cost.json::MCOPY_memory_expansion_cost::Cancun::0": _FLOOR,  # noqa: E501
    "Cancun/stEIP5656-MCOPY/MCOPY_memory_expansion_cost.json::MCOPY_memory_expansion_cost::Cancun::1": _FLOOR,  # noqa: E501
    "stMemoryTest/memReturn.json::memReturn::Cancun::0": _FLOOR,
}

#: Cases that take more than a second on the fast loop (deep call recursion, long loops):
#: marked ``slow``.
SLOW_CASES: frozenset[str] = frozenset()

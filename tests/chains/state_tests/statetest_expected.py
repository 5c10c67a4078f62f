"""State-test cases the chains' VM is expected to fail, each with its reason.

Every expected failure is checked twice: the case must still fail (``xfail_strict``: one
that starts passing fails the run, so fix the list), and
``test_expected_failure_is_explained`` re-runs it through py-evm as shipped and through a
variant of py-evm's Prague VM with the one rule named by the reason changed, which must
pass the fixture. In every listed case the chains' VM gives exactly py-evm's Prague outcome.

Reasons (``Reason.kind``):

- ``EIP_7610``, a py-evm gap: py-evm does not implement EIP-7610 (a creation into an
  address with non-empty storage, but no code and a zero nonce, must fail as a collision;
  py-evm checks code and nonce only). py-evm's own Cancun VM fails the fixture too.
- ``EIP_7623``, a fork difference: the fixture is Cancun's (py-evm's Cancun VM passes it),
  and under Prague EIP-7623's calldata floor, ``21000 + 10 * (zero bytes + 4 * non-zero
  bytes of calldata)``, exceeds the gas the transaction would otherwise be charged.
- ``EIP_2537``, a fork difference: the fixture is Cancun's (py-evm's Cancun VM passes it),
  and the case sends value to address 0x10, an empty account under Cancun and a
  BLS12-381 precompile (warm, nothing to create) under Prague.

Regenerate by running the suite: an unlisted failure or a listed pass names its case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["EXPECTED_FAILURES", "SLOW_CASES", "Reason"]


@dataclass(frozen=True)
class Reason:
    """Why a case fails: ``kind`` (one of the class constants) and a sentence."""

    EIP_7610: ClassVar[str] = "py-evm lacks EIP-7610"
    EIP_7623: ClassVar[str] = "Cancun fixture, Prague EIP-7623"
    EIP_2537: ClassVar[str] = "Cancun fixture, Prague EIP-2537"

    kind: str
    text: str

    def __post_init__(self) -> None:
        if self.kind not in (self.EIP_7610, self.EIP_7623, self.EIP_2537):
            raise ValueError(f"unknown expected-failure kind {self.kind!r}")


_COLLISION = Reason(
    Reason.EIP_7610,
    "a creation into an address with storage but no code or nonce must collide; py-evm "
    "checks only code and nonce",
)
_FLOOR = Reason(
    Reason.EIP_7623, "the calldata floor exceeds the gas the transaction would be charged"
)
_BLS = Reason(
    Reason.EIP_2537,
    "SELFDESTRUCT to 0x10: an empty account under Cancun, a warm BLS12-381 precompile under Prague",
)

#: ``file::test::fork::index`` -> reason.
EXPECTED_FAILURES: dict[str, Reason] = {
    "Cancun/stEIP5656-MCOPY/MCOPY_memory_expansion_cost.json::MCOPY_memory_expansion_cost::Cancun::0": _FLOOR,  # noqa: E501
    "Cancun/stEIP5656-MCOPY/MCOPY_memory_expansion_cost.json::MCOPY_memory_expansion_cost::Cancun::1": _FLOOR,  # noqa: E501
    "Shanghai/stEIP3860-limitmeterinitcode/creationTxInitCodeSizeLimit.json::creationTxInitCodeSizeLimit::Cancun::0": _FLOOR,  # noqa: E501
    "stCreate2/RevertInCreateInInitCreate2Paris.json::RevertInCreateInInitCreate2Paris::Cancun::0": _COLLISION,  # noqa: E501
    "stCreate2/create2collisionSelfdestructed.json::create2collisionSelfdestructed::Cancun::0": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructed.json::create2collisionSelfdestructed::Cancun::1": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructed.json::create2collisionSelfdestructed::Cancun::2": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructed2.json::create2collisionSelfdestructed2::Cancun::0": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructed2.json::create2collisionSelfdestructed2::Cancun::1": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructedRevert.json::create2collisionSelfdestructedRevert::Cancun::0": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructedRevert.json::create2collisionSelfdestructedRevert::Cancun::1": _BLS,  # noqa: E501
    "stCreate2/create2collisionSelfdestructedRevert.json::create2collisionSelfdestructedRevert::Cancun::2": _BLS,  # noqa: E501
    "stCreate2/create2collisionStorageParis.json::create2collisionStorageParis::Cancun::0": _COLLISION,  # noqa: E501
    "stCreate2/create2collisionStorageParis.json::create2collisionStorageParis::Cancun::1": _COLLISION,  # noqa: E501
    "stCreate2/create2collisionStorageParis.json::create2collisionStorageParis::Cancun::2": _COLLISION,  # noqa: E501
    "stEIP2930/transactionCosts.json::transactionCosts::Cancun::0": _FLOOR,
    "stEIP2930/transactionCosts.json::transactionCosts::Cancun::1": _FLOOR,
    "stExtCodeHash/dynamicAccountOverwriteEmpty_Paris.json::dynamicAccountOverwriteEmpty_Paris::Cancun::0": _COLLISION,  # noqa: E501
    "stMemoryTest/memReturn.json::memReturn::Cancun::0": _FLOOR,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::0": _COLLISION,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::1": _COLLISION,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::2": _COLLISION,
    "stSStoreTest/InitCollisionParis.json::InitCollisionParis::Cancun::3": _COLLISION,
    "stTransactionTest/HighGasLimit.json::HighGasLimit::Cancun::0": _FLOOR,
    "stTransactionTest/OverflowGasRequire2.json::OverflowGasRequire2::Cancun::0": _FLOOR,
    "stTransactionTest/TransactionDataCosts652.json::TransactionDataCosts652::Cancun::0": _FLOOR,
    "stTransactionTest/TransactionDataCosts652.json::TransactionDataCosts652::Cancun::1": _FLOOR,
}

#: Cases that take over a second on the fast loop (long loops, deep recursion): marked
#: ``slow`` (``-m "not slow"`` leaves them out of a quick local run).
SLOW_CASES: frozenset[str] = frozenset(
    {
        "Cancun/stEIP1153-transientStorage/15_tstoreCannotBeDosd.json::15_tstoreCannotBeDosd::Cancun::0",
        "Cancun/stEIP1153-transientStorage/21_tstoreCannotBeDosdOOO.json::21_tstoreCannotBeDosdOOO::Cancun::0",
        "stCreate2/CREATE2_FirstByte_loop.json::CREATE2_FirstByte_loop::Cancun::0",
        "stShift/shiftCombinations.json::shiftCombinations::Cancun::0",
    }
)

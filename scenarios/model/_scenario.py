"""Scenarios as data: typed steps with parameters, defined once, run by a runner per mode.

The built-in :data:`SWAP_BORROW_REFINANCE` is DESIGN §5's sequence. A user writes their own
the same way, in Python or as a mapping (JSON/TOML)::

    Scenario.from_mapping({"name": "lever", "steps": [
        {"kind": "swap", "token_in": "USDC", "token_out": "WETH"},
        {"kind": "supply_collateral"},
        {"kind": "borrow", "target_ltv": 0.3},
    ]})

and runs it with ``SequentialRunner(scenario)`` (registered under a name of their choice).
Parameters left ``None`` come from the :class:`~scenarios.RunSpec` (``slippage``,
``target_ltv``); amounts are "the user's whole balance" of the step's input, so the first swap
spends the notional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from scenarios.model._runspec import ScenarioConfigError

__all__ = [
    "SWAP_BORROW_REFINANCE",
    "Borrow",
    "Refinance",
    "Scenario",
    "Step",
    "SupplyCollateral",
    "Swap",
]

_TOKENS = ("USDC", "WETH", "DAI")
_PAIRS = {("USDC", "WETH"), ("WETH", "USDC"), ("DAI", "USDC"), ("USDC", "DAI")}


@dataclass(frozen=True)
class Swap:
    """Swap the user's whole ``token_in`` balance for ``token_out`` on the AMM, losing at
    most ``slippage`` (fraction; ``None``: the spec's) against the quote at submission."""

    token_in: str = "USDC"
    token_out: str = "WETH"
    slippage: float | None = None
    name: str = "swap"

    def __post_init__(self) -> None:
        if (self.token_in, self.token_out) not in _PAIRS:
            raise ScenarioConfigError(
                f"swap {self.token_in}→{self.token_out}: no pool; pairs: "
                + ", ".join(f"{a}→{b}" for a, b in sorted(_PAIRS))
            )
        _check_fraction("slippage", self.slippage, low_open=False)


@dataclass(frozen=True)
class SupplyCollateral:
    """Supply the user's whole WETH balance to the lending market as collateral."""

    name: str = "supply_collateral"


@dataclass(frozen=True)
class Borrow:
    """Borrow USDC at ``target_ltv`` of the collateral's oracle value (``None``: the spec's)."""

    target_ltv: float | None = None
    name: str = "borrow"

    def __post_init__(self) -> None:
        _check_fraction("target_ltv", self.target_ltv, low_open=True)


@dataclass(frozen=True)
class Refinance:
    """Move the USDC debt into the CDP vault: the repayment is fronted (a flash mint in
    ``atomic``, the fronter's USDC otherwise), the collateral moves from the market to the
    vault, DAI is drawn and swapped to USDC, and the fronter is repaid."""

    slippage: float | None = None
    name: str = "refinance"

    def __post_init__(self) -> None:
        _check_fraction("slippage", self.slippage, low_open=False)


Step = Swap | SupplyCollateral | Borrow | Refinance
_KINDS: dict[str, type[Step]] = {
    "swap": Swap,
    "supply_collateral": SupplyCollateral,
    "borrow": Borrow,
    "refinance": Refinance,
}


@dataclass(frozen=True)
class Scenario:
    """A named sequence of steps."""

    name: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ScenarioConfigError(f"scenario {self.name!r} has no steps")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from ``{"name": str, "steps": [{"kind": ..., **params}, ...]}``; unknown
        kinds and parameters are errors naming the step."""
        unknown = sorted(set(data) - {"name", "steps"})
        if unknown:
            raise ScenarioConfigError(f"unknown scenario key(s): {', '.join(unknown)}")
        steps = []
        for i, raw in enumerate(data.get("steps", [])):
            params = dict(raw)
            kind = params.pop("kind", None)
            if kind not in _KINDS:
                raise ScenarioConfigError(
                    f"step {i}: kind={kind!r} is not one of {', '.join(_KINDS)}"
                )
            step_type = _KINDS[kind]
            known = {f.name for f in fields(step_type)}
            bad = sorted(set(params) - known)
            if bad:
                raise ScenarioConfigError(
                    f"step {i} ({kind}): unknown parameter(s) {', '.join(bad)}; "
                    f"known: {', '.join(sorted(known))}"
                )
            steps.append(step_type(**params))
        return cls(name=str(data.get("name", "custom")), steps=tuple(steps))


def _check_fraction(name: str, value: float | None, *, low_open: bool) -> None:
    if value is None:
        return
    ok = (0 < value < 1) if low_open else (0 <= value < 1)
    if isinstance(value, bool) or not isinstance(value, int | float) or not ok:
        raise ScenarioConfigError(f"{name}={value!r} must be in {'(0' if low_open else '[0'}, 1)")


#: DESIGN §5: swap USDC → WETH, supply it, borrow USDC at the target LTV, refinance into the CDP.
SWAP_BORROW_REFINANCE = Scenario(
    "swap-borrow-refinance",
    (Swap("USDC", "WETH"), SupplyCollateral(), Borrow(), Refinance()),
)

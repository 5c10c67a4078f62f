"""Scenarios as data: venues, steps and amounts, written once and placed on any chains.

A :class:`Scenario` names its venues (``{"amm": "amm", "lending": "lending", "cdp": "cdp"}``:
venue name → venue kind), where the user's assets start (``start_asset`` held at
``start_at``, a venue whose chain the placement decides) and an ordered tuple of steps. Each
step acts on one named venue; its amount is an :data:`Amount` expression:

================  ==========================================================================
text              meaning
================  ==========================================================================
``"all"``         the user's whole holding of the step's input (of the position, for a
                  repay/withdraw/free: the whole debt or collateral)
``"25%"``         that fraction of the holding (or of the position)
``1500`` / "1.5"  a literal number of whole tokens of the step's input
``"received:ID"`` what step ``ID`` produced of the step's input asset; ``"50% received:ID"``
                  half of it
``"ltv"``         (borrow, draw) debt = the spec's target LTV × the collateral's oracle
                  value; ``"ltv:0.4"`` a fixed LTV
================  ==========================================================================

Steps never say on which chain they run: the placement puts venues on chains, and the
planner (``scenarios/plan/_planner.py``) inserts a bridge hop wherever an asset is not on
the chain of the step that needs it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from scenarios.model import ScenarioConfigError

__all__ = [
    "AMM_PAIRS",
    "ASSETS",
    "DEFAULT_VENUES",
    "VENUE_KINDS",
    "AtLtv",
    "Borrow",
    "Bridge",
    "CdpRepay",
    "Draw",
    "Free",
    "Holding",
    "Lock",
    "Open",
    "Received",
    "Refinance",
    "Repay",
    "Scenario",
    "ScenarioError",
    "Step",
    "Supply",
    "Swap",
    "Transfer",
    "Units",
    "Wait",
    "Withdraw",
    "parse_amount",
]

#: Assets of the suite (DESIGN §5): USDC the numeraire, WETH the collateral, DAI the CDP's.
ASSETS = ("USDC", "WETH", "DAI")
#: Venue kinds and the assets they deal in.
VENUE_KINDS = ("amm", "lending", "cdp")
#: Token pairs an AMM venue has a pool for (either direction).
AMM_PAIRS = frozenset({frozenset({"USDC", "WETH"}), frozenset({"DAI", "USDC"})})
#: Lending market: loans in USDC against WETH collateral. CDP vault: DAI against WETH.
LOAN_ASSET = "USDC"
COLLATERAL_ASSET = "WETH"
CDP_DEBT_ASSET = "DAI"
#: The venues a scenario has when it declares none: one of each kind, named after it.
DEFAULT_VENUES: tuple[tuple[str, str], ...] = (
    ("amm", "amm"),
    ("lending", "lending"),
    ("cdp", "cdp"),
)

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ScenarioError(ScenarioConfigError):
    """A scenario, placement or plan is invalid; the message names the step and field."""


# -- amounts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """``fraction`` of what the user holds of the step's input (or of its position)."""

    fraction: float = 1.0

    def __str__(self) -> str:
        return "all" if self.fraction == 1.0 else f"{self.fraction:.6g}×holding"


@dataclass(frozen=True)
class Units:
    """A literal amount, in whole tokens of the step's input."""

    value: float

    def __str__(self) -> str:
        return f"{self.value:,.6g}"


@dataclass(frozen=True)
class Received:
    """``fraction`` of what step ``step`` produced of the step's input asset."""

    step: str
    fraction: float = 1.0

    def __str__(self) -> str:
        lead = "all" if self.fraction == 1.0 else f"{self.fraction:.6g}×"
        return f"{lead} received:{self.step}"


@dataclass(frozen=True)
class AtLtv:
    """Debt at ``ltv`` of the position's collateral oracle value (``None``: the spec's)."""

    ltv: float | None = None

    def __str__(self) -> str:
        return "LTV=spec" if self.ltv is None else f"LTV={self.ltv:.6g}"


Amount = Holding | Units | Received | AtLtv

_PCT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")


def parse_amount(raw: Any, where: str) -> Amount:
    """An :data:`Amount` from its text or number (see the module docstring); ``where`` names
    the step and field in the error."""
    if isinstance(raw, Holding | Units | Received | AtLtv):
        return raw
    if isinstance(raw, bool):
        raise ScenarioError(f"{where}: amount {raw!r} must be a number or an amount text")
    if isinstance(raw, int | float):
        return _units(float(raw), where)
    if not isinstance(raw, str):
        raise ScenarioError(f"{where}: amount {raw!r} must be a number or an amount text")
    text = raw.strip()
    if text == "all":
        return Holding()
    if text == "ltv":
        return AtLtv()
    if text.startswith("ltv:"):
        return AtLtv(_fraction(text[4:], where, "ltv", low_open=True, high_open=True))
    fraction = 1.0
    head, _, tail = text.partition(" ")
    match = _PCT.match(head)
    if match:
        fraction = _fraction(float(match.group(1)) / 100, where, "fraction", low_open=True)
        text = tail.strip()
        if not text:
            return Holding(fraction)
    if text.startswith("received:"):
        ref = text[len("received:") :].strip()
        if not _ID.match(ref):
            raise ScenarioError(f"{where}: 'received:' needs a step id, got {ref!r}")
        return Received(ref, fraction)
    if match is None:
        try:
            return _units(float(text), where)
        except ValueError:
            pass
    raise ScenarioError(
        f"{where}: amount {raw!r} is not one of: all, N%, a number, received:STEP, "
        "N% received:STEP, ltv, ltv:X"
    )


def _units(value: float, where: str) -> Units:
    if not math.isfinite(value) or value <= 0:
        raise ScenarioError(f"{where}: amount {value!r} must be a positive finite number")
    return Units(value)


def _fraction(raw: Any, where: str, name: str, *, low_open: bool, high_open: bool = False) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: {name}={raw!r} must be a number") from None
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not (math.isfinite(value) and low_ok and high_ok):
        interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise ScenarioError(f"{where}: {name}={raw!r} must be in {interval}")
    return value


# -- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """Common fields: ``id`` (unique in the scenario, default ``<kind><n>``) and ``venue``."""

    kind: ClassVar[str] = ""
    venue_kind: ClassVar[str | None] = None

    id: str
    venue: str | None

    def input_asset(self) -> str | None:
        """The asset the step takes from the user's wallet, if any."""
        return None

    def output_assets(self) -> tuple[str, ...]:
        """Assets the step puts into the user's wallet."""
        return ()

    def amounts(self) -> tuple[tuple[str, Amount], ...]:
        """(field, amount) pairs, for reference checks: the ``amount`` field if the step
        has one."""
        amount: Amount | None = getattr(self, "amount", None)
        return () if amount is None else (("amount", amount),)

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Swap(_Step):
    """Swap ``amount`` of ``sell`` for ``buy`` on an AMM venue, losing at most ``slippage``
    (``None``: the spec's) against the quote at submission."""

    kind: ClassVar[str] = "swap"
    venue_kind: ClassVar[str | None] = "amm"
    sell: str = "USDC"
    buy: str = "WETH"
    amount: Amount = field(default_factory=Holding)
    slippage: float | None = None

    def input_asset(self) -> str | None:
        return self.sell

    def output_assets(self) -> tuple[str, ...]:
        return (self.buy,)

    def describe(self) -> str:
        return f"swap {self.amount} {self.sell} → {self.buy}"


@dataclass(frozen=True)
class Supply(_Step):
    """Supply ``amount`` WETH to a lending venue as collateral."""

    kind: ClassVar[str] = "supply"
    venue_kind: ClassVar[str | None] = "lending"
    amount: Amount = field(default_factory=Holding)

    def input_asset(self) -> str | None:
        return COLLATERAL_ASSET

    def describe(self) -> str:
        return f"supply {self.amount} WETH as collateral"


@dataclass(frozen=True)
class Withdraw(_Step):
    """Withdraw ``amount`` of the user's WETH collateral (``all``: the whole collateral)."""

    kind: ClassVar[str] = "withdraw"
    venue_kind: ClassVar[str | None] = "lending"
    amount: Amount = field(default_factory=Holding)

    def output_assets(self) -> tuple[str, ...]:
        return (COLLATERAL_ASSET,)

    def describe(self) -> str:
        return f"withdraw {self.amount} collateral"


@dataclass(frozen=True)
class Borrow(_Step):
    """Borrow USDC; ``amount`` defaults to the spec's target LTV of the collateral."""

    kind: ClassVar[str] = "borrow"
    venue_kind: ClassVar[str | None] = "lending"
    amount: Amount = field(default_factory=AtLtv)

    def output_assets(self) -> tuple[str, ...]:
        return (LOAN_ASSET,)

    def describe(self) -> str:
        return f"borrow USDC at {self.amount}"


@dataclass(frozen=True)
class Repay(_Step):
    """Repay ``amount`` USDC of the user's debt (``all``: the whole debt)."""

    kind: ClassVar[str] = "repay"
    venue_kind: ClassVar[str | None] = "lending"
    amount: Amount = field(default_factory=Holding)

    def input_asset(self) -> str | None:
        return LOAN_ASSET

    def describe(self) -> str:
        return f"repay {self.amount} USDC debt"


@dataclass(frozen=True)
class Lock(_Step):
    """Lock ``amount`` WETH in a CDP vault."""

    kind: ClassVar[str] = "lock"
    venue_kind: ClassVar[str | None] = "cdp"
    amount: Amount = field(default_factory=Holding)

    def input_asset(self) -> str | None:
        return COLLATERAL_ASSET

    def describe(self) -> str:
        return f"lock {self.amount} WETH"


@dataclass(frozen=True)
class Draw(_Step):
    """Draw DAI from a CDP vault (``ltv``: debt = LTV × the locked collateral's value)."""

    kind: ClassVar[str] = "draw"
    venue_kind: ClassVar[str | None] = "cdp"
    amount: Amount = field(default_factory=AtLtv)

    def output_assets(self) -> tuple[str, ...]:
        return (CDP_DEBT_ASSET,)

    def describe(self) -> str:
        return f"draw DAI at {self.amount}"


@dataclass(frozen=True)
class Open(_Step):
    """Open a CDP position: lock ``amount`` WETH, then draw ``draw`` DAI."""

    kind: ClassVar[str] = "open"
    venue_kind: ClassVar[str | None] = "cdp"
    amount: Amount = field(default_factory=Holding)
    draw: Amount = field(default_factory=AtLtv)

    def input_asset(self) -> str | None:
        return COLLATERAL_ASSET

    def output_assets(self) -> tuple[str, ...]:
        return (CDP_DEBT_ASSET,)

    def amounts(self) -> tuple[tuple[str, Amount], ...]:
        return (("amount", self.amount), ("draw", self.draw))

    def describe(self) -> str:
        return f"open CDP: lock {self.amount} WETH, draw DAI at {self.draw}"


@dataclass(frozen=True)
class CdpRepay(_Step):
    """Repay ``amount`` DAI of the user's vault debt (``all``: the whole debt)."""

    kind: ClassVar[str] = "cdp_repay"
    venue_kind: ClassVar[str | None] = "cdp"
    amount: Amount = field(default_factory=Holding)

    def input_asset(self) -> str | None:
        return CDP_DEBT_ASSET

    def describe(self) -> str:
        return f"repay {self.amount} DAI vault debt"


@dataclass(frozen=True)
class Free(_Step):
    """Free ``amount`` WETH from the vault (``all``: the whole collateral)."""

    kind: ClassVar[str] = "free"
    venue_kind: ClassVar[str | None] = "cdp"
    amount: Amount = field(default_factory=Holding)

    def output_assets(self) -> tuple[str, ...]:
        return (COLLATERAL_ASSET,)

    def describe(self) -> str:
        return f"free {self.amount} WETH"


@dataclass(frozen=True)
class Refinance(_Step):
    """Move the USDC debt on lending venue ``venue`` into CDP venue ``to``, flash-funded:
    the repayment is funded (a flash mint inside one transaction in ``atomic``, a solver's
    fronting otherwise), the collateral moves to the vault, DAI is drawn and swapped to USDC
    on AMM venue ``via``, and the funding is paid back."""

    kind: ClassVar[str] = "refinance"
    venue_kind: ClassVar[str | None] = "lending"
    to: str = "cdp"
    via: str = "amm"
    slippage: float | None = None

    def output_assets(self) -> tuple[str, ...]:
        return (LOAN_ASSET,)

    def describe(self) -> str:
        return f"refinance the USDC debt into {self.to} (DAI → USDC on {self.via})"


@dataclass(frozen=True)
class Transfer(_Step):
    """Send ``amount`` of ``asset`` to ``to`` (a role name or a 0x address) on the chain of
    venue ``venue``."""

    kind: ClassVar[str] = "transfer"
    venue_kind: ClassVar[str | None] = None
    asset: str = "USDC"
    amount: Amount = field(default_factory=Holding)
    to: str = "fronter"

    def input_asset(self) -> str | None:
        return self.asset

    def describe(self) -> str:
        return f"transfer {self.amount} {self.asset} to {self.to}"


@dataclass(frozen=True)
class Bridge(_Step):
    """Move ``amount`` of ``asset`` to the chain of venue ``venue`` explicitly (the planner
    inserts hops by itself; this is for users who want to place them)."""

    kind: ClassVar[str] = "bridge"
    venue_kind: ClassVar[str | None] = None
    asset: str = "USDC"
    amount: Amount = field(default_factory=Holding)

    def input_asset(self) -> str | None:
        return self.asset

    def output_assets(self) -> tuple[str, ...]:
        return (self.asset,)

    def describe(self) -> str:
        return f"bridge {self.amount} {self.asset} to {self.venue}'s chain"


@dataclass(frozen=True)
class Wait(_Step):
    """Let ``seconds`` pass (no atomic form: one transaction cannot wait)."""

    kind: ClassVar[str] = "wait"
    venue_kind: ClassVar[str | None] = None
    seconds: float = 0.0

    def describe(self) -> str:
        return f"wait {self.seconds:g} s"


Step = (
    Swap
    | Supply
    | Withdraw
    | Borrow
    | Repay
    | Lock
    | Draw
    | Open
    | CdpRepay
    | Free
    | Refinance
    | Transfer
    | Bridge
    | Wait
)
STEP_KINDS: dict[str, type[_Step]] = {
    cls.kind: cls
    for cls in (
        Swap,
        Supply,
        Withdraw,
        Borrow,
        Repay,
        Lock,
        Draw,
        Open,
        CdpRepay,
        Free,
        Refinance,
        Transfer,
        Bridge,
        Wait,
    )
}
_AMOUNT_FIELDS = ("amount", "draw")
_SLIPPAGE_FIELDS = ("slippage",)


# -- scenario ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A named, ordered sequence of steps on named venues (see the module docstring).

    ``venues``: venue name → kind; ``start_asset`` is what the user holds at t0 (the spec's
    notional of it), on the chain of venue ``start_at`` (``None``: the first step's venue);
    ``doc`` says what the scenario shows.

    ``premium_at`` names an AMM venue whose WETH/USDC pool trades at a premium of the run's
    ``arb_gap_bps`` over the reference price (its arbitrageur holds it at P·(1 + gap)
    instead of P): a price gap between two venues, for arbitrage scenarios.
    ``inventory``: the user holds inventory on every chain, so a hop's asset is taken from
    inventory on the destination at once (fronted in kind) and the hop itself runs after the
    last step, as the rebalancing transfer that repays the inventory (see the planner).
    """

    name: str
    steps: tuple[Step, ...]
    venues: tuple[tuple[str, str], ...] = DEFAULT_VENUES
    start_asset: str = "USDC"
    start_at: str | None = None
    doc: str = ""
    premium_at: str | None = None
    inventory: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError(f"scenario name {self.name!r} must be a non-empty string")
        if not self.steps:
            raise ScenarioError(f"scenario {self.name!r} has no steps")
        seen: set[str] = set()
        for i, step in enumerate(self.steps):
            if step.id in seen:
                raise ScenarioError(
                    f"scenario {self.name!r} step {i} field 'id': {step.id!r} is used twice"
                )
            seen.add(step.id)

    @property
    def venue_kinds(self) -> dict[str, str]:
        return dict(self.venues)

    @property
    def first_venue(self) -> str:
        for step in self.steps:
            if step.venue is not None:
                return step.venue
        return self.venues[0][0]

    @property
    def start_venue(self) -> str:
        return self.start_at if self.start_at is not None else self.first_venue

    @property
    def has_atomic_form(self) -> bool:
        """Whether the scenario fits in one transaction on one chain (no ``wait``)."""
        return not any(isinstance(s, Wait) for s in self.steps)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise ScenarioError(f"scenario {self.name!r} has no step {step_id!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from ``{"name", "doc", "venues": {name: kind}, "start": {"asset", "at"},
        "steps": [{"kind": ..., **fields}, ...]}`` (a TOML file's tables); unknown keys and
        bad values are errors naming the step and field."""
        if not isinstance(data, Mapping):
            raise ScenarioError(f"a scenario must be a table, got {type(data).__name__}")
        known_keys = ("name", "doc", "venues", "start", "steps", "premium_at", "inventory")
        unknown = sorted(set(data) - set(known_keys))
        if unknown:
            raise ScenarioError(
                f"unknown scenario key(s): {', '.join(unknown)}; known: {', '.join(known_keys)}"
            )
        premium_at = data.get("premium_at")
        if premium_at is not None and not isinstance(premium_at, str):
            raise ScenarioError(f"premium_at: {premium_at!r} must be a venue name")
        inventory = data.get("inventory", False)
        if not isinstance(inventory, bool):
            raise ScenarioError(f"inventory: {inventory!r} must be true or false")
        name = data.get("name", "custom")
        venues_raw = data.get("venues")
        if venues_raw is None:
            venues = DEFAULT_VENUES
        else:
            if not isinstance(venues_raw, Mapping) or not venues_raw:
                raise ScenarioError("venues: must be a non-empty table of name = kind")
            venues = tuple((str(k), str(v)) for k, v in venues_raw.items())
        start = data.get("start", {})
        if not isinstance(start, Mapping):
            raise ScenarioError("start: must be a table with 'asset' and 'at'")
        bad_start = sorted(set(start) - {"asset", "at"})
        if bad_start:
            raise ScenarioError(f"start: unknown key(s) {', '.join(bad_start)}; known: asset, at")
        raw_steps = data.get("steps", [])
        if not isinstance(raw_steps, list):
            raise ScenarioError("steps: must be an array of tables")
        steps = tuple(_step_from_mapping(i, raw) for i, raw in enumerate(raw_steps))
        return cls(
            name=str(name),
            steps=steps,
            venues=venues,
            start_asset=str(start.get("asset", "USDC")),
            start_at=None if start.get("at") is None else str(start["at"]),
            doc=str(data.get("doc", "")),
            premium_at=premium_at,
            inventory=inventory,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The inverse of :meth:`from_mapping` (amounts as their text)."""
        steps = []
        for step in self.steps:
            row: dict[str, Any] = {"kind": step.kind, "id": step.id}
            for f in fields(step):
                if f.name in ("id", "kind"):
                    continue
                value = getattr(step, f.name)
                if value is None:
                    continue
                row[f.name] = _amount_text(value) if f.name in _AMOUNT_FIELDS else value
            steps.append(row)
        out: dict[str, Any] = {
            "name": self.name,
            "venues": dict(self.venues),
            "start": {"asset": self.start_asset},
            "steps": steps,
        }
        if self.start_at is not None:
            out["start"]["at"] = self.start_at
        if self.doc:
            out["doc"] = self.doc
        if self.premium_at is not None:
            out["premium_at"] = self.premium_at
        if self.inventory:
            out["inventory"] = True
        return out


def _amount_text(amount: Amount) -> str | float:
    if isinstance(amount, Holding):
        return "all" if amount.fraction == 1.0 else f"{amount.fraction * 100:.12g}%"
    if isinstance(amount, Units):
        return amount.value
    if isinstance(amount, Received):
        lead = "" if amount.fraction == 1.0 else f"{amount.fraction * 100:.12g}% "
        return f"{lead}received:{amount.step}"
    return "ltv" if amount.ltv is None else f"ltv:{amount.ltv!r}"


def _step_from_mapping(i: int, raw: Any) -> Step:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"step {i}: must be a table with a 'kind'")
    params = dict(raw)
    kind = params.pop("kind", None)
    if kind not in STEP_KINDS:
        raise ScenarioError(
            f"step {i} field 'kind': {kind!r} is not one of {', '.join(STEP_KINDS)}"
        )
    step_type = STEP_KINDS[kind]
    step_id = params.pop("id", f"{kind}{i + 1}")
    label = f"step {i} ({step_id!r}, {kind})"
    if not isinstance(step_id, str) or not _ID.match(step_id):
        raise ScenarioError(
            f"step {i} field 'id': {step_id!r} must be 1-32 lower-case letters, digits, '-', '_'"
        )
    known = {f.name for f in fields(step_type) if f.name != "id"}
    bad = sorted(set(params) - known)
    if bad:
        raise ScenarioError(
            f"{label}: unknown field(s) {', '.join(bad)}; known: {', '.join(sorted(known))}"
        )
    kwargs: dict[str, Any] = {"id": step_id, "venue": params.pop("venue", None)}
    default_venue = step_type.venue_kind
    if kwargs["venue"] is None and default_venue is not None:
        kwargs["venue"] = default_venue
    if kwargs["venue"] is not None and not isinstance(kwargs["venue"], str):
        raise ScenarioError(f"{label} field 'venue': {kwargs['venue']!r} must be a venue name")
    for name, value in params.items():
        if name in _AMOUNT_FIELDS:
            kwargs[name] = parse_amount(value, f"{label} field {name!r}")
        elif name in _SLIPPAGE_FIELDS:
            kwargs[name] = _fraction(value, label, name, low_open=False, high_open=True)
        elif name == "seconds":
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ScenarioError(f"{label} field 'seconds': {value!r} must be ≥ 0")
            kwargs[name] = float(value)
        elif name in ("sell", "buy", "asset"):
            if value not in ASSETS:
                raise ScenarioError(
                    f"{label} field {name!r}: {value!r} is not one of {', '.join(ASSETS)}"
                )
            kwargs[name] = value
        else:
            if not isinstance(value, str):
                raise ScenarioError(f"{label} field {name!r}: {value!r} must be a string")
            kwargs[name] = value
    step: Step = step_type(**kwargs)  # type: ignore[assignment]
    return step

"""The planner: (scenario, placement, mode) → :class:`Plan`, the legs that will run.

A leg is one action on one chain: a venue call (``swap``, ``supply``, ``borrow``, ...), a
bridge ``hop`` the planner inserted because an asset is not on the chain of the step that
needs it, or a funding leg the mode needs (``flash_mint`` … ``flash_repay`` inside one
transaction; a solver's ``front_repay`` … ``repay_fronter`` across blocks or chains).

Hops: USDC and WETH are at home on chain A (the testbed's token home, where their
canonical contracts live), DAI on the chain of the first CDP venue (its only minter); a
wrapped token only travels home, so a hop between two chains that are neither home goes
through home (two legs). The whole holding travels unless the step's amount is a literal or
a ``received:`` reference, in which case that amount does.

Inventory (a scenario with ``inventory = true``, in a mode that keeps the placement, but for
``intent``, whose solver fronts every hop from its own inventory already): the
user holds inventory on every chain, so instead of waiting for a hop the asset is fronted
in kind on the destination at once (``front_inventory``: the fronter's inventory there,
the amount the hop would carry) and the hop runs after the last step as the rebalancing
transfer (``hop`` of the ``inventory`` amount), followed by ``repay_inventory`` — the
inventory-based strategy of cross-chain arbitrage (Öz et al., arXiv:2501.17335), next to
the bridge-based one (plain ``bridged``).

How a mode shapes its plan is a :class:`Mode` strategy (:data:`MODES`): which placement it
runs on (``atomic`` and ``sequential`` collapse every venue onto chain A, ``bridged`` keeps
the placement), how a refinance is funded, and how legs group into transactions. A new mode
is a new :class:`Mode` registered with :func:`register_mode`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scenarios.plan._model import (
    CDP_DEBT_ASSET,
    COLLATERAL_ASSET,
    LOAN_ASSET,
    Amount,
    AtLtv,
    Borrow,
    Bridge,
    CdpRepay,
    Draw,
    Free,
    Holding,
    Lock,
    Open,
    Received,
    Refinance,
    Repay,
    Scenario,
    ScenarioError,
    Step,
    Supply,
    Swap,
    Transfer,
    Units,
    Wait,
    Withdraw,
)
from scenarios.plan._placement import Placement
from scenarios.plan._validate import validate

__all__ = [
    "MODES",
    "ATOMIC",
    "BRIDGED",
    "Funding",
    "INTENT",
    "Leg",
    "Mode",
    "Plan",
    "SEQUENTIAL",
    "SHARED_SEQUENCER",
    "SUPERBLOCK",
    "build_plan",
    "get_mode",
    "register_mode",
]

#: Home chain of the assets that are not DAI (see the module docstring).
TOKEN_HOME = "A"


@dataclass(frozen=True)
class Leg:
    """One action of a plan.

    ``action``: ``swap``, ``supply``, ``withdraw``, ``borrow``, ``repay``, ``lock``, ``draw``,
    ``cdp_repay``, ``free``, ``transfer``, ``wait``, ``hop``, ``flash_mint``, ``flash_repay``,
    ``front_repay``, ``repay_fronter``, ``front_inventory``, ``repay_inventory``. ``amount``
    is an :data:`Amount` or the name of a quantity the interpreter reads when the leg runs
    (``"debt"``: the user's whole loan, ``"collateral"``: the whole market collateral,
    ``"dai_for_debt"``: the DAI that buys the debt's USDC on ``via``, ``"fronted"``: what the
    fronter paid, ``"dai_drawn"``: the DAI the previous draw produced, ``"inventory"``: what
    was fronted in kind of the leg's asset). ``tx`` numbers the transaction the leg is part
    of (legs of one transaction share it; a hop is its own); ``inside`` marks legs run inside
    a flash callback.
    """

    n: int
    step: str
    action: str
    chain: str
    tx: int
    venue: str | None = None
    asset: str | None = None
    amount: Amount | str | None = None
    to_chain: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    inside: bool = False
    note: str = ""

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def describe(self) -> str:
        amount = "" if self.amount is None else str(self.amount)
        p = dict(self.params)
        if self.action == "hop":
            return f"bridge {amount} {self.asset} {self.chain} → {self.to_chain}"
        if self.action == "front_inventory":
            return f"front {amount} {self.asset} (as bridged from {p['from']})"
        if self.action == "swap":
            return f"swap {amount} {p['sell']} → {p['buy']} on {self.venue}"
        if self.action == "transfer":
            return f"transfer {amount} {self.asset} to {p['to']}"
        if self.action == "wait":
            return f"wait {p['seconds']:g} s"
        what = f" {self.asset}" if self.asset else ""
        where = f" on {self.venue}" if self.venue else ""
        return f"{self.action} {amount}{what}{where}".replace("  ", " ")


@dataclass(frozen=True)
class Plan:
    """What a mode will run: the legs, in order, and what they cost up front."""

    scenario: Scenario
    placement: Placement
    mode: str
    legs: tuple[Leg, ...]
    funding: str
    chains: int

    @property
    def hops(self) -> tuple[Leg, ...]:
        return tuple(leg for leg in self.legs if leg.action == "hop")

    @property
    def transactions(self) -> int:
        return len({leg.tx for leg in self.legs if leg.action != "wait"})

    def fees(self) -> list[tuple[int, str]]:
        """(leg, fee) for every leg that charges one, as the plan knows it: each swap
        0.3 % of its input, a flash mint the vault's flash fee on the DAI minted, a hop the
        bridge's fee (none in the testbed)."""
        out = []
        for leg in self.legs:
            if leg.action == "swap":
                out.append((leg.n, "0.3% of input (AMM)"))
            elif leg.action == "flash_mint":
                out.append((leg.n, "vault flash fee on the DAI minted"))
            elif leg.action == "hop":
                out.append((leg.n, "bridge fee 0"))
            elif leg.action == "front_inventory":
                out.append((leg.n, "inventory capital until rebalanced"))
        return out

    def table(self) -> str:
        """The plan as a readable table (``testbed plan``)."""
        head = [
            f"scenario  {self.scenario.name}",
            f"mode      {self.mode}  (funding: {self.funding})",
            f"placement {self.placement.text()}  ({self.chains} chain(s); user's "
            f"{self.scenario.start_asset} starts on {self.placement.start_chain(self.scenario)})",
            f"legs      {len(self.legs)}, transactions {self.transactions}, "
            f"bridge hops {len(self.hops)}",
        ]
        fees = dict(self.fees())
        rows = [["#", "tx", "chain", "step", "action", "fee"]]
        for leg in self.legs:
            chain = leg.chain if leg.to_chain is None else f"{leg.chain}→{leg.to_chain}"
            text = ("  ↳ " if leg.inside else "") + leg.describe()
            if leg.note:
                text += f"  ({leg.note})"
            rows.append([str(leg.n), str(leg.tx), chain, leg.step, text, fees.get(leg.n, "")])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(head + [""] + [line.rstrip() for line in lines])

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "mode": self.mode,
            "placement": self.placement.to_json(),
            "funding": self.funding,
            "chains": self.chains,
            "legs": [
                {
                    "n": leg.n,
                    "tx": leg.tx,
                    "step": leg.step,
                    "action": leg.action,
                    "chain": leg.chain,
                    "to_chain": leg.to_chain,
                    "venue": leg.venue,
                    "asset": leg.asset,
                    "amount": None if leg.amount is None else str(leg.amount),
                    "inside": leg.inside,
                }
                for leg in self.legs
            ],
        }


# -- modes ------------------------------------------------------------------------------------


class Funding(ABC):
    """How a refinance's repayment is funded: a strategy with one hook, :meth:`expand`."""

    name = ""

    @abstractmethod
    def expand(self, b: _Builder, step: Refinance) -> None:
        """Add the legs that fund ``step``'s repayment to the plan being built."""


class FlashFunding(Funding):
    """Inside one transaction: flash-mint the DAI that buys the debt's USDC, swap it, repay
    the market, move the collateral into the vault, draw the DAI back plus the fee."""

    name = "flash mint (inside the transaction)"

    def expand(self, b: _Builder, step: Refinance) -> None:
        lending, cdp, amm = step.venue or "lending", step.to, step.via
        b.need_same_chain(step, (lending, cdp, amm))
        chain = b.chain_of(lending)
        b.leg(step, "flash_mint", chain, venue=cdp, asset="DAI", amount="dai_for_debt")
        b.leg(
            step,
            "swap",
            chain,
            venue=amm,
            amount="dai_drawn",
            params=(("sell", "DAI"), ("buy", "USDC"), ("slippage", step.slippage)),
            inside=True,
        )
        b.leg(step, "repay", chain, venue=lending, asset="USDC", amount="debt", inside=True)
        b.leg(
            step, "withdraw", chain, venue=lending, asset="WETH", amount="collateral", inside=True
        )
        b.leg(step, "lock", chain, venue=cdp, asset="WETH", amount="collateral", inside=True)
        b.leg(step, "draw", chain, venue=cdp, asset="DAI", amount="flash_owed", inside=True)
        b.leg(step, "flash_repay", chain, venue=cdp, asset="DAI", amount="flash_owed")
        b.place(COLLATERAL_ASSET, None)
        b.place(LOAN_ASSET, chain)


class FrontedFunding(Funding):
    """Across blocks or chains: a solver (the fronter) repays the user's debt on the lending
    chain from its inventory; the collateral moves to the vault; the DAI drawn is swapped to
    USDC on ``via``; the fronter is repaid there."""

    name = "fronted by a solver"

    def expand(self, b: _Builder, step: Refinance) -> None:
        lending, cdp, amm = step.venue or "lending", step.to, step.via
        lend_chain, cdp_chain, amm_chain = b.chain_of(lending), b.chain_of(cdp), b.chain_of(amm)
        b.leg(step, "front_repay", lend_chain, venue=lending, asset="USDC", amount="debt")
        b.leg(step, "withdraw", lend_chain, venue=lending, asset="WETH", amount="collateral")
        b.place(COLLATERAL_ASSET, lend_chain)
        b.move(step, COLLATERAL_ASSET, cdp_chain, Holding())
        b.leg(step, "lock", cdp_chain, venue=cdp, asset="WETH", amount=Holding())
        b.place(COLLATERAL_ASSET, None)
        b.leg(
            step,
            "draw",
            cdp_chain,
            venue=cdp,
            asset="DAI",
            amount="dai_for_fronted",
            params=(("via", amm),),
        )
        b.place(CDP_DEBT_ASSET, cdp_chain)
        b.move(step, CDP_DEBT_ASSET, amm_chain, Holding())
        b.leg(
            step,
            "swap",
            amm_chain,
            venue=amm,
            amount=Holding(),
            params=(("sell", "DAI"), ("buy", "USDC"), ("slippage", step.slippage)),
            note="guard: fronted·(1 − slippage)",
        )
        b.place(CDP_DEBT_ASSET, None)
        b.place(LOAN_ASSET, amm_chain)
        b.leg(step, "repay_fronter", amm_chain, asset="USDC", amount="fronted")


@dataclass(frozen=True)
class Mode:
    """How a mode shapes its plan: see the module docstring."""

    name: str
    funding: Funding
    is_one_transaction: bool = False
    is_one_chain: bool = False
    #: Whether a solver fills every hop from its own inventory at once (``intent``): the
    #: user's inventory (a scenario's ``inventory`` option) would front the hop twice.
    is_solver_filled: bool = False

    def placement_for(self, scenario: Scenario, placement: Placement) -> Placement:
        """The placement the mode runs on."""
        if self.is_one_chain:
            return Placement.one_chain(scenario)
        return placement


#: ``atomic``: every venue on chain A, the whole plan in one transaction, flash-funded.
ATOMIC = Mode("atomic", FlashFunding(), is_one_transaction=True, is_one_chain=True)
#: ``sequential``: every venue on chain A, one transaction per block, fronted refinance.
SEQUENTIAL = Mode("sequential", FrontedFunding(), is_one_chain=True)
#: ``bridged``: the placement as given, hops through the bridge, fronted refinance.
BRIDGED = Mode("bridged", FrontedFunding())


class SlotFunding(FrontedFunding):
    """The fronted refinance with every leg in one slot: the solver repays the debt and is
    repaid from the DAI swapped back within the same slot (no time at risk)."""

    name = "fronted by a solver, repaid within the slot"


#: ``superblock``: the placement as given, the whole plan one cross-chain bundle executed
#: atomically (two-phase commit), hops delivered inside the slot.
SUPERBLOCK = Mode("superblock", SlotFunding())
#: ``shared-sequencer``: the placement as given, each run of legs up to a hop one bundle
#: included in one slot (each leg may revert alone), hops through the bridge.
SHARED_SEQUENCER = Mode("shared-sequencer", FrontedFunding())

#: ``intent``: the placement as given, each hop an ERC-7683 order a solver fills from its
#: inventory (repaid after the bridge), fronted refinance.
INTENT = Mode("intent", FrontedFunding(), is_solver_filled=True)

MODES: dict[str, Mode] = {
    m.name: m for m in (ATOMIC, SUPERBLOCK, SHARED_SEQUENCER, INTENT, BRIDGED, SEQUENTIAL)
}


def register_mode(mode: Mode, *, replace: bool = False) -> None:
    """Make the planner know ``mode`` (a new coordination design)."""
    if mode.name in MODES and not replace:
        raise ScenarioError(f"a plan mode {mode.name!r} is already registered")
    MODES[mode.name] = mode


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise ScenarioError(f"mode={name!r} has no planner; known: {', '.join(MODES)}") from None


# -- the builder ------------------------------------------------------------------------------


@dataclass
class _Builder:
    scenario: Scenario
    placement: Placement
    mode: Mode
    legs: list[Leg] = field(default_factory=list)
    where: dict[str, str | None] = field(default_factory=dict)
    tx: int = 0
    #: Rebalancing hops of an inventory scenario: (step, asset, source, destination).
    deferred: list[tuple[Step, str, str, str]] = field(default_factory=list)

    def chain_of(self, venue: str) -> str:
        return self.placement.chain_of[venue]

    def home_of(self, asset: str) -> str:
        if asset == CDP_DEBT_ASSET:
            cdps = [n for n, k in self.scenario.venues if k == "cdp"]
            return self.chain_of(cdps[0]) if cdps else TOKEN_HOME
        return TOKEN_HOME

    def place(self, asset: str, chain: str | None) -> None:
        self.where[asset] = chain

    def need_same_chain(self, step: Step, venues: tuple[str, ...]) -> None:
        chains = {self.chain_of(v) for v in venues}
        if len(chains) > 1:
            raise ScenarioError(
                f"step {step.id!r} ({step.kind}): {self.mode.name} funds it inside one "
                f"transaction, so {', '.join(venues)} must share a chain"
            )

    def leg(
        self,
        step: Step,
        action: str,
        chain: str,
        *,
        venue: str | None = None,
        asset: str | None = None,
        amount: Amount | str | None = None,
        to_chain: str | None = None,
        params: tuple[tuple[str, Any], ...] = (),
        inside: bool = False,
        note: str = "",
    ) -> None:
        if not (self.mode.is_one_transaction and self.legs) and not inside:
            self.tx += 1
        if self.tx == 0:
            self.tx = 1
        self.legs.append(
            Leg(
                n=len(self.legs) + 1,
                step=step.id,
                action=action,
                chain=chain,
                tx=self.tx,
                venue=venue,
                asset=asset,
                amount=amount,
                to_chain=to_chain,
                params=params,
                inside=inside,
                note=note,
            )
        )

    def move(self, step: Step, asset: str, dest: str, amount: Amount | str) -> None:
        """Hops bringing ``asset`` to ``dest`` (through its home if neither end is home)."""
        src = self.where.get(asset)
        if src is None or src == dest:
            self.where[asset] = dest
            return
        hop_amount = amount if isinstance(amount, Units | Received) else Holding()
        if (
            self.scenario.inventory
            and not self.mode.is_one_chain
            and not self.mode.is_solver_filled
        ):
            self.leg(
                step,
                "front_inventory",
                dest,
                asset=asset,
                amount=hop_amount,
                params=(("from", src),),
                note="fronted in kind from inventory",
            )
            self.deferred.append((step, asset, src, dest))
            self.where[asset] = dest
            return
        self.hops(step, asset, src, dest, hop_amount)
        self.where[asset] = dest

    def hops(self, step: Step, asset: str, src: str, dest: str, amount: Amount | str) -> None:
        """The hop legs from ``src`` to ``dest`` (through the asset's home if neither is)."""
        home = self.home_of(asset)
        path = [src, dest] if home in (src, dest) else [src, home, dest]
        hop_amount = amount
        for a, b in zip(path, path[1:], strict=False):
            self.leg(step, "hop", a, asset=asset, amount=hop_amount, to_chain=b)
            hop_amount = Holding() if isinstance(hop_amount, Units | str) else hop_amount

    def rebalance(self) -> None:
        """The deferred hops of an inventory scenario, each then repaying the inventory."""
        for step, asset, src, dest in self.deferred:
            self.hops(step, asset, src, dest, "inventory")
            self.leg(step, "repay_inventory", dest, asset=asset, amount="inventory")

    def iter_steps(self) -> Iterator[Step]:
        yield from self.scenario.steps


def build_plan(scenario: Scenario, placement: Placement | None, mode: str) -> Plan:
    """The plan of ``scenario`` in ``mode`` (see the module docstring); validates first."""
    strategy = get_mode(mode)
    if placement is None:
        placement = Placement.one_chain(scenario)
    validate(scenario, placement)
    effective = strategy.placement_for(scenario, placement)
    if placement.start is not None and strategy.is_one_chain:
        effective = Placement(effective.venues, None)
    b = _Builder(scenario, effective, strategy)
    b.where[scenario.start_asset] = effective.start_chain(scenario)
    for step in scenario.steps:
        _plan_step(b, step)
    b.rebalance()
    return Plan(
        scenario=scenario,
        placement=effective,
        mode=mode,
        legs=tuple(b.legs),
        funding=_funding_name(b, scenario, strategy),
        chains=effective.chains,
    )


def _funding_name(b: _Builder, scenario: Scenario, strategy: Mode) -> str:
    names = []
    if any(isinstance(s, Refinance) for s in scenario.steps):
        names.append(strategy.funding.name)
    if b.deferred:
        names.append("inventory on the destination chain, rebalanced by the bridge")
    return "; ".join(names) or "none"


_SIMPLE = {
    Supply: ("supply", COLLATERAL_ASSET),
    Withdraw: ("withdraw", COLLATERAL_ASSET),
    Borrow: ("borrow", LOAN_ASSET),
    Repay: ("repay", LOAN_ASSET),
    Lock: ("lock", COLLATERAL_ASSET),
    Draw: ("draw", CDP_DEBT_ASSET),
    CdpRepay: ("cdp_repay", CDP_DEBT_ASSET),
    Free: ("free", COLLATERAL_ASSET),
}


def _plan_step(b: _Builder, step: Step) -> None:
    if isinstance(step, Refinance):
        b.mode.funding.expand(b, step)
        return
    if isinstance(step, Wait):
        chain = b.where.get(b.scenario.start_asset) or "A"
        b.leg(step, "wait", chain, params=(("seconds", step.seconds),))
        return
    if isinstance(step, Bridge):
        dest = b.chain_of(step.venue or "")
        b.move(step, step.asset, dest, step.amount)
        return
    if isinstance(step, Transfer):
        chain = b.chain_of(step.venue) if step.venue else (b.where.get(step.asset) or "A")
        b.move(step, step.asset, chain, step.amount)
        b.leg(
            step, "transfer", chain, asset=step.asset, amount=step.amount, params=(("to", step.to),)
        )
        return
    chain = b.chain_of(step.venue or "")
    asset_in = step.input_asset()
    if isinstance(step, Swap):
        b.move(step, step.sell, chain, step.amount)
        b.leg(
            step,
            "swap",
            chain,
            venue=step.venue,
            amount=step.amount,
            params=(("sell", step.sell), ("buy", step.buy), ("slippage", step.slippage)),
        )
        b.place(step.buy, chain)
        return
    if isinstance(step, Open):
        b.move(step, COLLATERAL_ASSET, chain, step.amount)
        b.leg(step, "lock", chain, venue=step.venue, asset=COLLATERAL_ASSET, amount=step.amount)
        b.leg(step, "draw", chain, venue=step.venue, asset=CDP_DEBT_ASSET, amount=step.draw)
        b.place(CDP_DEBT_ASSET, chain)
        return
    action, asset = _SIMPLE[type(step)]
    amount = getattr(step, "amount", None)
    if asset_in is not None:
        b.move(step, asset_in, chain, amount if amount is not None else Holding())
    b.leg(step, action, chain, venue=step.venue, asset=asset, amount=amount)
    for out in step.output_assets():
        b.place(out, chain)
    if isinstance(amount, AtLtv) and not isinstance(step, Borrow | Draw):
        raise ScenarioError(f"step {step.id!r}: 'ltv' applies to borrow and draw only")

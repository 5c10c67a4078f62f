"""The legs of a plan and what runs them: the binding of venue names to a World's
contracts, the :class:`PlanContext` of a plan in progress, one handler per leg action
(:data:`HANDLERS`) and the :class:`Execution` interface every mode implements.

The interpreter (:mod:`scenarios.runners._interpreter`) walks a plan with these; the modes'
executions (one chain, bridged, atomic batch, slot modes, intent) build on them.
"""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chains import Chain, Contract, Receipt
from scenarios.model import MarketConfig, RunResult, RunSpec, ScenarioConfigError
from scenarios.plan import AtLtv, Holding, Leg, Plan, Received, ScenarioError, Units
from scenarios.runners._bridged import (
    HOP_DEADLINE,
    BridgedState,
    Delay,
    Delivery,
    Transfer,
)
from scenarios.runners._one_chain import (
    MAX_UINT256,
    USDC,
    WAD,
    RunState,
    StepFailed,
    to_wad,
)
from scenarios.world import AmmVenue, CdpVenue, LendingVenue, World

__all__ = [
    "DECIMALS",
    "EVENT_NAMES",
    "HANDLERS",
    "Binding",
    "Execution",
    "PlanContext",
    "bind",
    "hosted_placements",
]

logger = logging.getLogger(__name__)

DECIMALS = {"USDC": 6, "WETH": 18, "DAI": 18}
#: The AMM's fee factor γ (0.3 % fee).
AMM_GAMMA = 0.997
#: Timeline event name of each action (the names the runners used before plans).
EVENT_NAMES = {"supply": "supply_collateral", "withdraw": "withdraw_collateral"}
Wait = Delay | Delivery
Process = Generator[Wait, Any, None]


# -- binding: venue names → the World's contracts -----------------------------------------------


@dataclass(frozen=True)
class Binding:
    """The World's contracts a plan runs on: each venue name's venue, and each asset's
    token on each chain (home or wrapped)."""

    amm: dict[str, AmmVenue]
    lending: dict[str, LendingVenue]
    cdp: dict[str, CdpVenue]
    tokens: dict[tuple[str, str], Contract]
    chains: dict[str, Chain]
    is_one_chain: bool

    def token(self, asset: str, chain: str) -> Contract:
        try:
            return self.tokens[(asset, chain)]
        except KeyError:
            raise ScenarioError(f"no {asset} token on chain {chain} in this world") from None


def hosted_placements(world: World) -> list[str]:
    """The venue placements this World hosts (kind=chain), for error messages."""
    out = ["amm=A,lending=A,cdp=A"]
    if world.hosting is not None and not world.hosting.is_standard:
        out.append(world.hosting.text())
    else:
        out.append("amm=A,lending=B,cdp=C" if world.chains == 3 else "amm=A,lending=B,cdp=A")
    return out


def bind(world: World, plan: Plan) -> Binding:
    """Map the plan's venues onto the World (see the module docstring)."""
    kinds = plan.scenario.venue_kinds
    chain_of = plan.placement.chain_of
    used = {v: chain_of[v] for v in kinds if v in chain_of}
    chains = {c.name: c for c in world.devnet.chains}
    if plan.placement.chains > world.chains:
        raise ScenarioError(
            f"placement {plan.placement.text()} needs {plan.placement.chains} chains, the "
            f"world has {world.chains}"
        )
    if plan.placement.is_single_chain and set(used.values()) <= {"A"}:
        s = world.suite
        tokens: dict[tuple[str, str], Contract] = {
            ("USDC", "A"): s.usdc,
            ("WETH", "A"): s.weth,
            ("DAI", "A"): s.dai,
        }
        hosted = [world.amm, *world.extra_amms]
        names = [v for v, k in plan.scenario.venues if k == "amm"]
        if len(names) > len(hosted):
            raise ScenarioError(
                f"venue {names[len(hosted)]!r} (amm): this world hosts {len(hosted)} AMM(s) on "
                f"A for one-chain plans; build it for the scenario (World.build(chains, "
                "hosting=...))"
            )
        return Binding(
            amm=dict(zip(names, hosted, strict=False)),
            lending={v: world.lending for v, k in kinds.items() if k == "lending"},
            cdp={v: world.cdp for v, k in kinds.items() if k == "cdp"},
            tokens=tokens,
            chains=chains,
            is_one_chain=True,
        )
    layout = world.bridged
    tokens = {}
    for asset, forms in (("USDC", layout.usdc), ("WETH", layout.weth), ("DAI", layout.dai)):
        for chain, token in forms.items():
            tokens[(asset, chain)] = token
    if layout.venues:
        return _bind_general(world, plan, used, tokens, chains)
    where = {"amm": layout.amm.chain.name, "lending": layout.lending.chain.name}
    where["cdp"] = layout.cdp.chain.name
    for venue, chain in used.items():
        if where[kinds[venue]] != chain:
            raise ScenarioError(
                f"placement {plan.placement.text()}: this {world.chains}-chain world hosts "
                f"{kinds[venue]} venues on {where[kinds[venue]]}, not {chain}; hosted "
                f"placements: {'; '.join(hosted_placements(world))}"
            )
    return Binding(
        amm={v: layout.amm for v, k in kinds.items() if k == "amm"},
        lending={v: layout.lending for v, k in kinds.items() if k == "lending"},
        cdp={v: layout.cdp for v, k in kinds.items() if k == "cdp"},
        tokens=tokens,
        chains=chains,
        is_one_chain=False,
    )


def _bind_general(
    world: World,
    plan: Plan,
    used: dict[str, str],
    tokens: dict[tuple[str, str], Contract],
    chains: dict[str, Chain],
) -> Binding:
    """The general layout's venues: the i-th venue of a kind on a chain (in the scenario's
    venue order) is that chain's i-th instance of the kind."""
    venues = world.bridged.venues
    seen: dict[tuple[str, str], int] = {}
    bound: dict[str, dict[str, Any]] = {"amm": {}, "lending": {}, "cdp": {}}
    for name, kind in plan.scenario.venues:
        if name not in used:
            continue
        chain = used[name]
        i = seen.get((kind, chain), 0)
        seen[(kind, chain)] = i + 1
        venue = venues.get((kind, chain, i))
        if venue is None:
            raise ScenarioError(
                f"placement {plan.placement.text()}: venue {name!r} ({kind}) on {chain}, but "
                f"this world hosts {world.hosting.text()}; hosted placements: "
                f"{'; '.join(hosted_placements(world))}"
            )
        bound[kind][name] = venue
    return Binding(
        amm=bound["amm"],
        lending=bound["lending"],
        cdp=bound["cdp"],
        tokens=tokens,
        chains=chains,
        is_one_chain=False,
    )


# -- the run context ------------------------------------------------------------------------------


@dataclass
class PlanContext:
    """One plan in progress: the state (holdings, recorder, actors), the binding, what each
    step received, what the fronter is owed, the t0 quotes."""

    plan: Plan
    binding: Binding
    state: RunState
    execution: Execution
    received: dict[str, dict[str, int]] = field(default_factory=dict)
    fronted: int = 0
    inventory: dict[str, int] = field(default_factory=dict)  # asset → fronted in kind
    quotes: dict[int, int] = field(default_factory=dict)  # leg n → quoted output (t0)

    @property
    def user(self) -> str:
        return self.state.user

    @property
    def spec(self) -> RunSpec:
        return self.state.spec

    def now(self) -> float:
        return self.state.world.devnet.now

    def chain(self, label: str) -> Chain:
        return self.binding.chains[label]

    def balance(self, asset: str, chain: str) -> int:
        return int(self.binding.token(asset, chain).balanceOf(self.user))

    def send(
        self, leg: Leg, fn: Any, *args: Any, sender: str | None = None, **extra: Any
    ) -> Receipt:
        event = extra.pop("event", None) or EVENT_NAMES.get(leg.action, leg.action)
        step = extra.pop("step", None) or self.execution.step_label(leg, event)
        return self.state.send(
            step, leg.chain, event, fn, *args, sender=sender or self.user, **extra
        )


def _amount(ctx: PlanContext, leg: Leg, *, held: int, position: int | None = None) -> int:
    """Base units for ``leg``'s amount: ``held`` is the wallet balance of the leg's input on
    its chain, ``position`` the position it draws on (collateral, debt), if any."""
    amount = leg.amount
    asset = leg.asset or leg.param("sell")
    base = held if position is None else position
    if amount is None or isinstance(amount, Holding):
        fraction = 1.0 if amount is None else amount.fraction
        return base if fraction == 1.0 else base * to_wad(fraction) // WAD
    if isinstance(amount, Units):
        return int(Decimal(str(amount.value)) * 10 ** DECIMALS[asset])
    if isinstance(amount, Received):
        got = ctx.received.get(amount.step, {}).get(asset, 0)
        return got if amount.fraction == 1.0 else got * to_wad(amount.fraction) // WAD
    raise ScenarioError(f"leg {leg.n} ({leg.action}): amount {amount!r} does not apply here")


# -- handlers: one per action --------------------------------------------------------------------


def _swap(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    amm = ctx.binding.amm[leg.venue or ""]
    sell, buy = leg.param("sell"), leg.param("buy")
    token_in = _amm_token(amm, sell)
    token_out = _amm_token(amm, buy)
    held = int(token_in.balanceOf(ctx.user))
    amount = held if leg.amount in ("dai_drawn",) else _amount(ctx, leg, held=held)
    if amount == 0:
        label = ctx.execution.step_label(leg, "swap")
        raise StepFailed(label, leg.chain, f"no {sell} to swap")
    path = [token_in.address, token_out.address]
    slippage = ctx.spec.slippage if leg.param("slippage") is None else leg.param("slippage")
    if leg.step and leg.param("sell") == "DAI" and leg.note.startswith("guard: fronted"):
        reference = ctx.fronted
    else:
        reference = ctx.execution.swap_reference(ctx, leg, amm, amount, path)
    receipt = ctx.send(
        leg,
        amm.router.swap_exact_tokens_for_tokens,
        amount,
        reference * to_wad(1 - slippage) // WAD,
        path,
        ctx.user,
        int(ctx.now()) + 600,
        event="swap_dai" if sell == "DAI" and leg.note else "swap",
    )
    ctx.state.rec.swap_fee(_usd(ctx, sell, amount))
    ctx.state.book_swap(leg.chain, receipt, sell, buy)
    pool = amm.dai_usdc if "DAI" in (sell, buy) else amm.weth_usdc
    ctx.state.actors.touched.add(pool.address)
    yield from ()


def _supply(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    lending = ctx.binding.lending[leg.venue or ""]
    amount = _amount(ctx, leg, held=int(lending.weth.balanceOf(ctx.user)))
    ctx.send(leg, lending.market.supply_collateral, amount, ctx.user)
    yield from ()


def _withdraw(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    lending = ctx.binding.lending[leg.venue or ""]
    collateral = int(lending.market.collateral(ctx.user))
    amount = (
        collateral if leg.amount == "collateral" else _amount(ctx, leg, held=0, position=collateral)
    )
    ctx.send(leg, lending.market.withdraw_collateral, amount, ctx.user)
    yield from ()


def _borrow(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    lending = ctx.binding.lending[leg.venue or ""]
    market = lending.market
    if isinstance(leg.amount, AtLtv):
        ltv = ctx.spec.target_ltv if leg.amount.ltv is None else leg.amount.ltv
        value = market.collateral_to_loan(market.collateral(ctx.user))
        amount = value * to_wad(ltv) // WAD
        debt = int(market.debt_of(ctx.user))
        amount = max(0, amount - debt)
    else:
        amount = _amount(ctx, leg, held=0)
    ctx.execution.open_position(ctx, "market")
    ctx.send(leg, market.borrow, amount, ctx.user)
    yield from ()


def _repay(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    lending = ctx.binding.lending[leg.venue or ""]
    debt = int(lending.market.debt_of(ctx.user))
    held = int(lending.usdc.balanceOf(ctx.user))
    if leg.amount in (None, "debt") or leg.amount == Holding():
        amount = MAX_UINT256 if held >= debt else held
    else:
        amount = min(_amount(ctx, leg, held=held, position=debt), held)
    ctx.send(leg, lending.market.repay, amount, ctx.user)
    yield from ()


def _front_repay(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    lending = ctx.binding.lending[leg.venue or ""]
    fronter = ctx.state.world.roles.fronter
    receipt = ctx.send(leg, lending.market.repay, MAX_UINT256, ctx.user, sender=fronter)
    fronted = int(receipt.return_value)
    ctx.execution.close_position(ctx, "market")
    ctx.fronted = fronted
    rec = ctx.state.rec
    rec.fronted_usdc = fronted / USDC
    rec.fronted_at = ctx.now()
    ctx.state.owed_to_fronter = fronted / USDC
    yield from ()


def _repay_fronter(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    usdc = ctx.binding.token("USDC", leg.chain)
    fronter = ctx.state.world.roles.fronter
    pay = min(ctx.fronted, int(usdc.balanceOf(ctx.user)))
    ctx.send(leg, usdc.transfer, fronter, pay)
    ctx.state.owed_to_fronter = (ctx.fronted - pay) / USDC
    if pay == ctx.fronted:
        ctx.state.rec.repaid_at = ctx.now()
    yield from ()


def _lock(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    cdp = ctx.binding.cdp[leg.venue or ""]
    amount = _amount(ctx, leg, held=int(cdp.weth.balanceOf(ctx.user)))
    ctx.send(leg, cdp.vault.lock, amount, ctx.user)
    yield from ()


def _draw(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    cdp = ctx.binding.cdp[leg.venue or ""]
    if leg.amount == "dai_for_fronted":
        via = ctx.binding.amm[leg.param("via")]
        amount = via.router.get_amounts_in(ctx.fronted, [via.dai.address, via.usdc.address])[0]
        amount = ctx.execution.gross_up(ctx, leg, amount)
    elif isinstance(leg.amount, AtLtv):
        ltv = ctx.spec.target_ltv if leg.amount.ltv is None else leg.amount.ltv
        price = cdp.oracle.price(cdp.weth.address, 2**64)
        value = int(cdp.vault.ink(ctx.user)) * int(price) // WAD
        amount = max(0, value * to_wad(ltv) // WAD - int(cdp.vault.debt_of(ctx.user)))
    else:
        amount = _amount(ctx, leg, held=0)
    ctx.execution.open_position(ctx, "vault")
    ctx.send(leg, cdp.vault.draw, amount, ctx.user)
    yield from ()


def _cdp_repay(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    cdp = ctx.binding.cdp[leg.venue or ""]
    debt = int(cdp.vault.debt_of(ctx.user))
    held = int(cdp.dai.balanceOf(ctx.user))
    amount = min(_amount(ctx, leg, held=held, position=debt), held)
    ctx.send(leg, cdp.vault.repay, amount, ctx.user)
    yield from ()


def _free(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    cdp = ctx.binding.cdp[leg.venue or ""]
    amount = _amount(ctx, leg, held=0, position=int(cdp.vault.ink(ctx.user)))
    ctx.send(leg, cdp.vault.free, amount, ctx.user)
    yield from ()


def _transfer(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    token = ctx.binding.token(leg.asset or "", leg.chain)
    to = leg.param("to")
    roles = dataclasses.asdict(ctx.state.world.roles)
    address = roles.get(to, to)
    amount = _amount(ctx, leg, held=int(token.balanceOf(ctx.user)))
    ctx.send(leg, token.transfer, address, amount)
    yield from ()


def _hop(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    """Bridge the leg's amount of its asset to ``to_chain``; wait for the delivery."""
    asset = leg.asset or ""
    src, dst = leg.chain, leg.to_chain or ""
    token = ctx.binding.token(asset, src)
    state = ctx.state
    if not isinstance(state, BridgedState):
        raise ScenarioConfigError(f"leg {leg.n}: a hop needs the bridged layout")
    home = _home(ctx, asset)
    symbol = asset if src == home else "w" + asset
    hop = f"hop:{symbol} {src}→{dst}"
    held = int(token.balanceOf(ctx.user))
    if leg.amount == "inventory":  # the rebalancing hop: what was fronted in kind
        amount = min(ctx.inventory.get(asset, 0), held)
    else:
        amount = _amount(ctx, leg, held=held)
    now = ctx.now()
    kind = "weth" if asset == "WETH" else "usd"
    units = float(Decimal(amount) / Decimal(10 ** DECIMALS[asset]))
    value = units * state.actors.price_at(now) if kind == "weth" else units
    bridge = state.layout.bridge(ctx.chain(src))
    preset = ctx.execution.hop_preset(ctx.spec)
    if preset != ctx.spec.latency:
        extra: dict[str, Any] = {"preset": preset}
    else:
        extra = {}
    receipt = ctx.send(
        leg,
        bridge.bridge_out,
        token.address,
        amount,
        ctx.chain(dst).chain_id,
        ctx.user,
        int(now) + HOP_DEADLINE,
        step=hop,
        event="bridge_out",
        hop=hop,
        amount=units,
        value_usd=value,
        to_chain=dst,
        **extra,
    )
    message_id = "0x" + bytes(receipt.return_value).hex()
    transfer = Transfer(hop, message_id, kind, units, value, now, dst)
    state.in_flight[message_id] = transfer
    state.hops[message_id] = transfer
    state.flight_usd += value
    state.flight(now)
    yield Delivery(message_id)


def _front_inventory(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    """The fronter's inventory on the leg's chain gives the user what the hop from
    ``from`` would have carried, at once; the user owes it in kind until rebalanced."""
    asset = leg.asset or ""
    amount = _amount(ctx, leg, held=ctx.balance(asset, str(leg.param("from"))))
    token = ctx.binding.token(asset, leg.chain)
    ctx.send(leg, token.transfer, ctx.user, amount, sender=ctx.state.world.roles.fronter)
    ctx.inventory[asset] = ctx.inventory.get(asset, 0) + amount
    _owe(ctx, asset, amount)
    rec = ctx.state.rec
    rec.fronted_usdc += _usd(ctx, asset, amount)
    if rec.fronted_at is None:
        rec.fronted_at = ctx.now()
    yield from ()


def _repay_inventory(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    """Give the fronter back what it fronted in kind (as much as the user holds)."""
    asset = leg.asset or ""
    token = ctx.binding.token(asset, leg.chain)
    owed = ctx.inventory.get(asset, 0)
    pay = min(owed, int(token.balanceOf(ctx.user)))
    ctx.send(leg, token.transfer, ctx.state.world.roles.fronter, pay)
    ctx.inventory[asset] = owed - pay
    _owe(ctx, asset, -pay)
    if not any(ctx.inventory.values()):
        ctx.state.rec.repaid_at = ctx.now()
    yield from ()


def _owe(ctx: PlanContext, asset: str, amount: int) -> None:
    """Book ``amount`` base units of ``asset`` owed to the fronter (negative: repaid)."""
    state = ctx.state
    if asset == "WETH":
        state.owed_weth += amount / WAD
    else:
        state.owed_to_fronter += amount / 10 ** DECIMALS[asset]


def _wait(ctx: PlanContext, leg: Leg) -> Generator[Wait, Any, None]:
    yield Delay(float(leg.param("seconds")))


#: The handler of each leg action: a generator (it may wait for a delivery).
HANDLERS: dict[str, Callable[[PlanContext, Leg], Generator[Wait, Any, None]]] = {
    "swap": _swap,
    "supply": _supply,
    "withdraw": _withdraw,
    "borrow": _borrow,
    "repay": _repay,
    "front_repay": _front_repay,
    "repay_fronter": _repay_fronter,
    "lock": _lock,
    "draw": _draw,
    "cdp_repay": _cdp_repay,
    "free": _free,
    "transfer": _transfer,
    "hop": _hop,
    "wait": _wait,
    "front_inventory": _front_inventory,
    "repay_inventory": _repay_inventory,
}


def _home(ctx: PlanContext, asset: str) -> str:
    if asset == "DAI":
        cdps = list(ctx.binding.cdp.values())
        return cdps[0].chain.name if cdps else "A"
    return "A"


def _amm_token(amm: AmmVenue, asset: str) -> Contract:
    return {"USDC": amm.usdc, "WETH": amm.weth, "DAI": amm.dai}[asset]


def _usd(ctx: PlanContext, asset: str, amount: int) -> float:
    """USD value of ``amount`` base units at the current reference price."""
    if asset == "USDC":
        return amount / USDC
    if asset == "DAI":
        return amount / WAD
    return amount / WAD * ctx.state.actors.price_at(ctx.now())


# -- executions: one strategy per mode ------------------------------------------------------------


class Execution(ABC):
    """How a mode executes a plan: the state it keeps, what it does before each leg, what a
    swap is guarded against, and how the run ends. A new mode is a new subclass."""

    name = ""

    @abstractmethod
    def make_state(
        self, world: World, spec: RunSpec, plan: Plan, binding: Binding, market: MarketConfig
    ) -> RunState:
        """The run's state on the mode's world (chains, venues, recorder)."""

    def before_leg(self, ctx: PlanContext, leg: Leg) -> None:
        """Bring the venue the leg touches up to date (no-op by default)."""
        return None  # an optional hook: nothing by default

    def swap_reference(
        self, ctx: PlanContext, leg: Leg, amm: AmmVenue, amount: int, path: Sequence[str]
    ) -> int:
        """The output a swap's slippage guard is taken against: the quote at submission."""
        return int(amm.router.get_amounts_out(amount, path)[1])

    def hop_preset(self, spec: RunSpec) -> str:
        """The latency preset a hop's message travels under (what the cost model prices
        its bridge fee by): the spec's."""
        return spec.latency

    def step_label(self, leg: Leg, event: str) -> str:
        """The ``step`` a transaction is recorded under (and ``failed_step`` names): the
        scenario step's id."""
        return leg.step

    def gross_up(self, ctx: PlanContext, leg: Leg, amount: int) -> int:
        """What a leg producing ``amount`` of its asset must produce so that ``amount``
        arrives where the plan needs it (the default: the same; a mode whose hops take a
        cut on chain grosses it up)."""
        return amount

    def open_position(self, ctx: PlanContext, name: str) -> None:
        """A position (``market``, ``vault``) is about to open."""
        return None  # an optional hook: nothing by default

    def close_position(self, ctx: PlanContext, name: str) -> None:
        """A position closed."""
        return None  # an optional hook: nothing by default

    @abstractmethod
    def run(self, ctx: PlanContext) -> RunResult:
        """Execute the plan's legs on the clock and return the run's result."""

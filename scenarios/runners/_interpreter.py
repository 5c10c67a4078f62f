"""One interpreter for every mode: a :class:`~scenarios.plan.Plan` executed on a World.

The interpreter walks the plan's legs as one *process* on the devnet's virtual clock (the
bridged runner's driver: the process yields ``Delay`` — the next block of a chain — or
``Delivery`` — a bridge message, delivered by the real relayer after its sampled latency),
so the market actors and the relayer act in between, in the clock's total order. Each leg
is submitted one block of its chain after the event it reacts to. A leg's action is a
handler in :data:`~scenarios.runners._legs.HANDLERS` (with the binding, the plan context and
the :class:`~scenarios.runners._legs.Execution` interface, in ``_legs``); what differs
between modes is an ``Execution`` strategy:

- :class:`OneChainExecution` (``sequential``): the suite on chain A, one transaction per
  block, swap guards against the quote at submission;
- :class:`BridgedExecution` (``bridged``): the bridged layout's venues, hops through the
  relayer (latency preset of the spec), the touched venue synced before each leg (see
  ``scenarios/_bridged.py`` on the actor cadence), swap guards against the step's t0 quote;
- :class:`AtomicExecution` (``atomic``): the whole plan as one batch transaction through the
  user's :class:`BatchExecutor` (``contracts/BatchExecutor.vy``), flash-funded.

Which venues a placement maps to: the World hosts the one-chain suite on A (plus further AMMs
on A for one-chain plans with several AMM venues) and a multi-chain layout — a standard one
(AMM on A, lending on B, CDP on C, or on A with 2 chains) or the general one of its
:class:`~scenarios.world.Hosting`, where the i-th venue of a kind on a chain is that chain's
i-th instance. A plan the World does not host is refused before anything runs, naming what
it hosts. A scenario's ``premium_at`` pool is moved to P0·(1 + gap) at t0 and held there
by its arbitrageur (:func:`push_to_price`).

The t0 quote (for ``shortfall_bps``) walks the same plan with the venues' view functions
at t0 — swap outputs, the borrow at the target LTV, the DAI bought for the debt plus the
flash fee — on the run's own venues: the quote of the scenario's own plan.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Generator, Sequence
from decimal import Decimal
from typing import Any

from bridge import LatencyModel, MessageEvent, get_preset
from scenarios.model import MarketConfig, RunResult, RunSpec, ScenarioConfigError
from scenarios.plan import Leg, Placement, Plan, Received, ScenarioError
from scenarios.runners._bridged import (
    ACTOR_EVENTS,
    BridgedState,
    Delay,
    _Driver,
    _keepers,
    get_unbacked_usdc,
)
from scenarios.runners._legs import (
    AMM_GAMMA,
    DECIMALS,
    HANDLERS,
    Binding,
    Execution,
    PlanContext,
    Process,
    Wait,
    _home,
    bind,
)
from scenarios.runners._one_chain import (
    MAX_UINT256,
    RunState,
    _market_for,
    one_chain_state,
)
from scenarios.runners._settlement import begin_settlement
from scenarios.runners._walk import walk_plan
from scenarios.world import AmmVenue, Hosting, World, fetch_token0

__all__ = ["EXECUTIONS", "BridgedExecution", "OneChainExecution", "execute_plan", "push_to_price"]

logger = logging.getLogger(__name__)


class OneChainExecution(Execution):
    """``sequential``: the suite on chain A, one transaction per block."""

    name = "sequential"

    def make_state(
        self, world: World, spec: RunSpec, plan: Plan, binding: Binding, market: MarketConfig
    ) -> RunState:
        return one_chain_state(world, spec, market)

    def run(self, ctx: PlanContext) -> RunResult:
        driver = _Driver(ctx.state, 0)  # type: ignore[arg-type]
        driver.drive(_process(ctx))
        return ctx.state.finish()


class BridgedExecution(Execution):
    """``bridged``: the bridged layout, the relayer on the spec's latency preset."""

    name = "bridged"

    def __init__(
        self, actor_events: int = ACTOR_EVENTS, *, latency: LatencyModel | None = None
    ) -> None:
        if actor_events < 1:
            raise ScenarioConfigError(f"actor_events must be ≥ 1, got {actor_events}")
        self.actor_events = actor_events
        #: A latency model replacing the spec's preset (e.g. ``bridge.Constant(600)``).
        self.latency = latency

    def make_state(
        self, world: World, spec: RunSpec, plan: Plan, binding: Binding, market: MarketConfig
    ) -> RunState:
        layout = world.bridged
        relayer = layout.relayer
        model = self.latency if self.latency is not None else self.latency_model(spec)
        relayer.latency = dict.fromkeys(relayer.lanes, model)
        relayer.seed = spec.seed
        hops = len(plan.hops)
        expected = hops * model.quantile(0.5) + 13 * 2.0
        interval = max(1, math.ceil(expected / (market.tick * self.actor_events)))
        # the plan's own venues (a general layout hosts several of a kind)
        amm = next(iter(binding.amm.values()), layout.amm)
        lending = next(iter(binding.lending.values()), layout.lending)
        cdp = next(iter(binding.cdp.values()), layout.cdp)
        return BridgedState(
            world,
            spec,
            market,
            amm,
            lending,
            cdp,
            _keepers(layout, lending, cdp),
            layout=layout,
            interval=interval,
        )

    def latency_model(self, spec: RunSpec) -> LatencyModel:
        """The relayer's latency when none was given: the spec's preset."""
        return get_preset(spec.latency)

    def before_leg(self, ctx: PlanContext, leg: Leg) -> None:
        state = ctx.state
        now = state.world.devnet.now
        if leg.action == "swap":
            state.actors.sync(now, amms=[ctx.binding.amm[leg.venue or ""]], keepers=[])
        elif leg.venue is not None and leg.action not in ("hop", "repay_fronter"):
            keeper = state.keepers.get(leg.chain)
            if keeper is not None:
                state.actors.sync(now, amms=[], keepers=[keeper])

    def swap_reference(
        self, ctx: PlanContext, leg: Leg, amm: AmmVenue, amount: int, path: Sequence[str]
    ) -> int:
        """The step's t0 quote (the guard the user signs up front)."""
        if leg.n in ctx.quotes:
            return ctx.quotes[leg.n]
        return super().swap_reference(ctx, leg, amm, amount, path)

    def step_label(self, leg: Leg, event: str) -> str:
        """Bridged runs label each transaction by its action (``front_repay``, ``lock``,
        ...): a failure names the action and chain where the run stopped."""
        return event

    def open_position(self, ctx: PlanContext, name: str) -> None:
        assert isinstance(ctx.state, BridgedState)
        ctx.state.open_positions.add(name)

    def close_position(self, ctx: PlanContext, name: str) -> None:
        assert isinstance(ctx.state, BridgedState)
        ctx.state.open_positions.discard(name)

    def process(self, ctx: PlanContext) -> Process:
        """The plan as a clock process (default: leg after leg, :func:`_process`)."""
        return _process(ctx)

    def run(self, ctx: PlanContext) -> RunResult:
        state = ctx.state
        assert isinstance(state, BridgedState)
        world = state.world
        layout = state.layout
        settlement = begin_settlement(layout, state.spec)
        state.flight(state.t0)
        driver = _Driver(state, len(ctx.plan.hops))

        def listen(event: MessageEvent) -> None:
            settlement.on_message(event)
            driver.on_message(event)

        layout.listener = listen
        try:
            driver.drive(self.process(ctx))
        finally:
            layout.listener = None
            settlement.end()
        state.actors.sync(world.devnet.now, amms=[], keepers=list(state.keepers.values()))
        state.extrapolate_health()
        state.rec.unbacked_usdc = get_unbacked_usdc(state.hops, layout.relayer.reconcile())
        state.rec.reorg_count = settlement.reorgs
        return state.finish(end=driver.gave_up_at)


EXECUTIONS: dict[str, Callable[[], Execution]] = {
    "sequential": OneChainExecution,
    "bridged": BridgedExecution,
}


def _process(ctx: PlanContext) -> Generator[Wait, Any, None]:
    """The plan's legs as a clock process (see the module docstring)."""
    for leg in ctx.plan.legs:
        if leg.action != "wait":
            yield Delay(ctx.chain(leg.chain).config.block_time)
            ctx.execution.before_leg(ctx, leg)
        tracked = _tracked_outputs(ctx, leg)
        before = {a: ctx.balance(a, leg.chain) for a in tracked}
        yield from HANDLERS[leg.action](ctx, leg)
        for asset in tracked:
            got = ctx.balance(asset, leg.chain) - before[asset]
            bucket = ctx.received.setdefault(leg.step, {})
            bucket[asset] = bucket.get(asset, 0) + max(0, got)


def _tracked_outputs(ctx: PlanContext, leg: Leg) -> tuple[str, ...]:
    """Assets whose receipt by ``leg`` a later step refers to (only those are measured)."""
    refs = {
        a.step
        for step in ctx.plan.scenario.steps
        for _, a in step.amounts()
        if isinstance(a, Received)
    }
    if leg.step not in refs or leg.action in ("hop", "wait"):
        return ()
    return ctx.plan.scenario.step(leg.step).output_assets()


def begin(ctx: PlanContext) -> None:
    """Start the actors, fund the user where the plan's assets start, take the t0 quote."""
    state = ctx.state
    world = state.world
    _join_amms(ctx)
    state.actors.start(state.t0)
    state.actors.observers.append(lambda now: state.sample_health())
    notional = int(Decimal(str(ctx.spec.notional)) * 10 ** DECIMALS[ctx.plan.scenario.start_asset])
    asset = ctx.plan.scenario.start_asset
    start = ctx.plan.placement.start_chain(ctx.plan.scenario)
    token = ctx.binding.token(asset, start)
    if start == "A" or (asset == "DAI" and start == _home(ctx, "DAI")):
        token.mint(ctx.user, notional, sender=world.roles.deployer)
    else:
        # a wrapped token is only minted by the bridge: the fronter's inventory funds it
        token.transfer(ctx.user, notional, sender=world.roles.fronter)
    walk = walk_plan(
        ctx.plan,
        ctx.binding,
        notional=notional,
        account=ctx.user,
        target_ltv=ctx.spec.target_ltv,
        slippage=ctx.spec.slippage,
        price=state.actors.price_at(state.t0),
        deadline=int(state.t0) + 600,
        recipients=dataclasses.asdict(world.roles),
    )
    state.quote = walk.holdings
    ctx.quotes = walk.quotes
    state.rec.event(state.t0, state.amm.chain.name, "start", price=state.actors.price_at(state.t0))


def _join_amms(ctx: PlanContext) -> None:
    """Let the actors arbitrage every AMM the plan trades on (not only the state's), and
    hold the scenario's ``premium_at`` pool at P·(1 + arb_gap_bps/10⁴): its pool is moved
    there at t0 (:func:`push_to_price`) and its arbitrageur keeps it there."""
    actors = ctx.state.actors
    pools = {amm.weth_usdc.address for amm in actors.amms}
    for amm in ctx.binding.amm.values():
        if amm.weth_usdc.address not in pools:
            pools.add(amm.weth_usdc.address)
            actors.amms.append(amm)
    premium_at = ctx.plan.scenario.premium_at
    if premium_at is None:
        return
    amm = ctx.binding.amm[premium_at]
    factor = 1 + ctx.spec.arb_gap_bps / 1e4
    actors.premium[amm.weth_usdc.address] = factor
    push_to_price(amm, actors.path.s0 * factor, ctx.state.world.roles.arbitrageur)


def push_to_price(amm: AmmVenue, price: float, trader: str) -> None:
    """Trade ``amm``'s WETH/USDC pool so its marginal price y/x is ``price`` (USDC per WETH):
    with reserves (x, y), k = x·y and fee 1 − γ, buying WETH with dy = (√(k·p) − y)/γ leaves
    x' = √(k/p), y' = y + dy, so y'/x' = p up to the fee kept in the pool (+(1 − γ)·dy/y');
    selling WETH is the mirror image."""
    pool = amm.weth_usdc
    r0, r1, _ = pool.get_reserves()
    weth_is_0 = fetch_token0(pool) == amm.weth.address
    x, y = (int(r0), int(r1)) if weth_is_0 else (int(r1), int(r0))
    p = price * 10**6 / 10**18  # USDC base units per WETH base unit
    k = x * y
    gamma = AMM_GAMMA
    if y < p * x:
        amount, path = int((math.sqrt(k * p) - y) / gamma), [amm.usdc.address, amm.weth.address]
    else:
        amount, path = int((math.sqrt(k / p) - x) / gamma), [amm.weth.address, amm.usdc.address]
    if amount > 0:
        amm.router.swap_exact_tokens_for_tokens(amount, 0, path, trader, MAX_UINT256, sender=trader)


def execute_plan(
    world: World,
    spec: RunSpec,
    plan: Plan,
    *,
    execution: Execution | None = None,
    market: MarketConfig | None = None,
) -> RunResult:
    """Run ``plan`` in ``world`` under ``spec`` (its mode's :class:`Execution` unless given)."""
    world.check_spec(spec)
    if execution is None:
        try:
            execution = EXECUTIONS[plan.mode]()
        except KeyError:
            raise ScenarioError(
                f"mode {plan.mode!r} has no plan execution; known: {', '.join(EXECUTIONS)}"
            ) from None
    if not plan.placement.is_single_chain and world.chains != spec.chains:
        raise ScenarioConfigError(
            f"chains={spec.chains} but the world was built with {world.chains} chains; "
            f"build World.build({spec.chains}) for this spec"
        )
    if plan.placement.chains > world.chains:
        raise ScenarioError(
            f"placement {plan.placement.text()} needs {plan.placement.chains} chains, the "
            f"world has {world.chains}"
        )
    world.check_hosting(plan_hosting(plan, world.chains))
    binding = bind(world, plan)
    with world.session():
        state = execution.make_state(world, spec, plan, binding, _market_for(world, market))
        ctx = PlanContext(plan, binding, state, execution)
        begin(ctx)
        return execution.run(ctx)


def plan_hosting(plan: Plan, chains: int) -> Hosting:
    """What ``plan`` needs a world of ``chains`` chains to host."""
    return Hosting.for_placement(
        plan.scenario.venues,
        plan.placement.chain_of,
        chains,
        inventory=any(leg.action == "front_inventory" for leg in plan.legs),
    )


def default_placement(spec_chains: int, scenario: Any) -> Placement:
    """The placement a bridged run of ``spec.chains`` chains uses when none is given."""
    return Placement.spread(scenario, spec_chains)

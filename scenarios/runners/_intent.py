"""The ``intent`` mode: the planner's cross-chain hops become ERC-7683 orders a solver fills
at once from its inventory and is repaid for after the slow bridge.

The plan is the ``bridged`` plan (same legs, the refinance fronted by the fronter); every
``hop`` leg runs as an order instead of a bridge transfer:

1. **open** (the user, on the hop's source chain): the user quotes the solver's price
   (:func:`get_quote`, public: the cost model's solver-premium terms), escrows the whole
   input in that chain's ``OriginSettler`` (``contracts/OriginSettler.vy``) and asks for
   ``output = input − premium`` of the same asset's form on the destination, by
   ``fillDeadline`` = open + :data:`FILL_WINDOW`. The escrow is the user's capital in
   flight (``capital_in_flight``) until the fill.
2. **fill** (the solver, one block of the destination later): if its working inventory of
   the output there covers the order (inventory capped at the cost model's
   ``solver_inventory_usd`` at t0 prices, minus what its earlier fills still have out), the
   solver calls ``DestinationSettler.fill``: the output goes from its inventory to the user,
   and the fill proof leaves through the messenger. The user's next leg goes on from
   there: ``user_latency_s`` counts fills, not bridge latencies. Otherwise the solver
   **declines**: the order stays open until its deadline, then the user calls
   ``DestinationSettler.expire``, the refund proof travels the bridge, the origin settler
   returns the escrow exactly, and the run stops there (``failed_step`` = the order,
   outcome ``partial``, or ``reverted`` if nothing else committed), priced by the cost
   model's unwind like any unfinished run.
3. **settle** (the bridge): the relayer delivers the fill proof after the spec's latency
   preset; ``OriginSettler.settle`` repays the solver the escrowed input on the source
   chain. The solver then **rebalances**: it bridges that input back to the destination
   through the ``TokenBridge`` (same preset), so its inventory there is whole again.

The run waits for every settlement and rebalance: ``latency_s`` runs to the last
settlement (the order's life cycle), ``user_latency_s`` to the user's final position.
What the solver carries — its output value × (settled − filled) as capital tied up, and
the mark-to-market of a WETH output over that window as price risk — is recorded in the
``solver`` timeline event and ``solver_capital_usd_s``; the user pays the quote's premium,
recorded per fill (``premium_usd``) and booked by the cost model as ``solver_premium``.

The market: as ``bridged`` (actors every ``interval`` ticks, the touched venue synced
before each user leg); the cadence is set for the user's run — its legs' blocks and one
block per fill, the same at every preset — and coarsened for a declined order's wait (the
deadline plus a median latency). The actors stop when the user's run ends: the solver's
settlements and rebalances run on the relayer alone, and the user's result is valued at
its own end, as in every mode.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_abi import encode

from bridge import LatencyModel, MessageEvent
from chains import Chain, TransactionReverted
from scenarios.model import CostModel, MarketConfig, RunResult, RunSpec, get_risk_bearer
from scenarios.plan import Leg, Plan, Received, ScenarioError
from scenarios.runners._bridged import (
    HOP_DEADLINE,
    STEP_PRIORITY,
    BridgedState,
    Delay,
    Delivery,
    Transfer,
    _Driver,
    get_unbacked_usdc,
)
from scenarios.runners._interpreter import EXECUTIONS, BridgedExecution, _tracked_outputs
from scenarios.runners._legs import DECIMALS, HANDLERS, Binding, PlanContext, _amount, _home
from scenarios.runners._one_chain import RunState, StepFailed
from scenarios.world import IntentLayout, World

__all__ = [
    "FILL_GAS",
    "FILL_WINDOW",
    "IntentExecution",
    "Quote",
    "Solver",
    "get_quote",
]

YEAR = 365 * 86_400.0
#: Seconds from open to an order's fill deadline (assumption: a few minutes — Across lets
#: the depositor choose; fills take seconds, so a solver that has not filled by then will not).
FILL_WINDOW = 300
#: Gas of ``DestinationSettler.fill`` as the solver prices it (measured on the testbed:
#: 129,000-146,000 for the token transfer plus the proof message; rounded up).
FILL_GAS = 150_000

Wait = Delay | Delivery
Process = Generator[Wait, Any, None]


@dataclass(frozen=True)
class Quote:
    """A solver's price for an order: ``output`` = ``amount_in`` − the premium in the
    asset's base units (see :func:`get_quote`)."""

    asset: str
    amount_in: int
    output: int
    value_usd: float
    premium_usd: float
    capital_usd: float
    risk_usd: float
    gas_usd: float
    rebalance_usd: float
    tau_s: float


def get_quote(
    asset: str,
    amount_in: int,
    *,
    price: float,
    sigma: float,
    model: CostModel,
    preset: str,
    dest_chain: str,
) -> Quote:
    """The solver's quote for ``amount_in`` base units of ``asset`` (fair value: the same
    amount on the destination, one form of one asset):

        V        = amount_in at P (WETH) or at par (USDC, DAI)
        τ        = the preset's expected latency (``BridgeFee.expected_s``): until the fill
                   proof repays the solver
        capital  = r_solver · V · τ / YEAR
        risk     = λ · V · σ_a · √(τ / YEAR), σ_a = σ for WETH, 0 for the dollar assets
        gas      = FILL_GAS at the destination's chain kind, at P
        rebalance= the preset's bridge fee on V (fee_bps · V + relay gas + relayer capital):
                   moving the repaid input back to where the inventory was spent
        premium  = capital + risk + gas + rebalance   (no expected-default term: the input
                   sits in escrow and pays out only on the fill proof)
        output   = amount_in − ⌈premium / unit price⌉ in base units, floored at 0.

    The cost model's ``solver_rate`` (r_solver) and ``solver_risk_charge`` (λ) are the
    fronter's: the same solver prices both kinds of capital.
    """
    decimals = DECIMALS[asset]
    units = amount_in / 10**decimals
    unit_price = price if asset == "WETH" else 1.0
    value = units * unit_price
    fee = model.bridge_fee(preset)
    tau = fee.expected_s
    capital = model.solver_rate * value * tau / YEAR
    sigma_a = sigma if asset == "WETH" else 0.0
    risk = model.solver_risk_charge * value * sigma_a * math.sqrt(tau / YEAR)
    gas = model.gas_usd(dest_chain, FILL_GAS, price)
    relay_gas = model.gas_usd(dest_chain, fee.relay_gas, price, kind=fee.relay_kind)
    rebalance = fee.fee_usd(value, relay_gas)
    premium = capital + risk + gas + rebalance
    cut = math.ceil(premium / unit_price * 10**decimals)
    return Quote(
        asset=asset,
        amount_in=amount_in,
        output=max(0, amount_in - cut),
        value_usd=value,
        premium_usd=premium,
        capital_usd=capital,
        risk_usd=risk,
        gas_usd=gas,
        rebalance_usd=rebalance,
        tau_s=tau,
    )


@dataclass
class SolverFill:
    """One order the solver filled: what it paid out where, and when it got it back."""

    order_id: str
    asset: str
    src: str
    dst: str
    amount_in: int
    output: int
    value_usd: float
    price_fill: float
    premium_usd: float
    filled_at: float
    settled_at: float | None = None
    price_settled: float | None = None
    rebalanced_at: float | None = None


@dataclass
class Solver:
    """The solver actor: an address with inventory on every chain (seeded in the intent
    layout), a working cap per (chain, asset) in base units, the outputs its fills still have
    out, and its record of fills and declines."""

    address: str
    layout: IntentLayout
    cap: dict[str, int]  # asset → base units it will commit per chain
    outstanding: dict[tuple[str, str], int] = field(default_factory=dict)
    peak: dict[tuple[str, str], int] = field(default_factory=dict)
    fills: list[SolverFill] = field(default_factory=list)
    declines: list[dict[str, Any]] = field(default_factory=list)

    def fetch_available(self, asset: str, chain: str) -> int:
        """What it can still commit on ``chain``: min(balance, cap) − outstanding."""
        balance = int(self.layout.token(asset, chain).balanceOf(self.address))
        used = self.outstanding.get((chain, asset), 0)
        return max(0, min(balance, self.cap[asset]) - used)

    def commit(self, asset: str, chain: str, amount: int) -> None:
        key = (chain, asset)
        self.outstanding[key] = self.outstanding.get(key, 0) + amount
        self.peak[key] = max(self.peak.get(key, 0), self.outstanding[key])

    def release(self, asset: str, chain: str, amount: int) -> None:
        key = (chain, asset)
        self.outstanding[key] = self.outstanding.get(key, 0) - amount


@dataclass
class _Order:
    """An order in progress (the runner's view)."""

    leg: Leg
    order_id: bytes
    origin_data: bytes
    quote: Quote
    src: str
    dst: str
    opened_at: float
    deadline: int
    label: str


class IntentExecution(BridgedExecution):
    """``intent``: see the module docstring. ``inventory_usd`` overrides the cost model's
    ``solver_inventory_usd`` (the solver's working inventory per chain and asset)."""

    name = "intent"

    def __init__(
        self,
        *,
        latency: LatencyModel | None = None,
        inventory_usd: float | None = None,
        fill_window: int = FILL_WINDOW,
    ) -> None:
        super().__init__(latency=latency)
        if fill_window < 1:
            raise ScenarioError(f"fill_window must be ≥ 1 s, got {fill_window}")
        self.inventory_usd = inventory_usd
        self.fill_window = fill_window
        self.solver: Solver | None = None
        self.proofs: dict[str, tuple[str, Any]] = {}  # message id → (kind, record)
        self.pending: set[str] = set()  # proofs and rebalances the run still waits for
        self.driver: _IntentDriver | None = None
        self.market_tick = 12.0

    # -- setup --------------------------------------------------------------------------
    def make_state(
        self, world: World, spec: RunSpec, plan: Plan, binding: Binding, market: MarketConfig
    ) -> RunState:
        state = super().make_state(world, spec, plan, binding, market)
        assert isinstance(state, BridgedState)
        # the user's run is its legs' blocks and one block per fill, at every preset (the
        # actors stop when it ends; settlements run on the relayer alone); a declined
        # order's wait sets its own cadence (:meth:`_expire_and_refund`)
        expected = 2.0 * (len(plan.legs) + len(plan.hops))
        state.interval = max(1, math.ceil(expected / (market.tick * self.actor_events)))
        state.actors.interval = state.interval
        self.market_tick = market.tick
        cost = spec.cost_model()
        budget = cost.solver_inventory_usd if self.inventory_usd is None else self.inventory_usd
        if budget < 0:
            raise ScenarioError(f"solver inventory must be ≥ 0 USD, got {budget}")
        price = market.weth_price
        cap = {
            "USDC": int(Decimal(str(budget)) * 10**6),
            "DAI": int(Decimal(str(budget)) * 10**18),
            "WETH": int(Decimal(str(budget)) / Decimal(str(price)) * 10**18),
        }
        self.solver = Solver(world.intent.solver, world.intent, cap)
        return state

    def process(self, ctx: PlanContext) -> Process:
        for leg in ctx.plan.legs:
            if leg.action != "wait":
                yield Delay(ctx.chain(leg.chain).config.block_time)
                self.before_leg(ctx, leg)
            if leg.action == "hop":
                yield from self._order(ctx, leg)
                continue
            tracked = _tracked_outputs(ctx, leg)
            before = {a: ctx.balance(a, leg.chain) for a in tracked}
            yield from HANDLERS[leg.action](ctx, leg)
            for asset in tracked:
                got = ctx.balance(asset, leg.chain) - before[asset]
                bucket = ctx.received.setdefault(leg.step, {})
                bucket[asset] = bucket.get(asset, 0) + max(0, got)

    def run(self, ctx: PlanContext) -> RunResult:
        """The user's run, valued at its end as in every mode; then the solver's side
        (settlements, rebalances) with the market stopped, added to the result:
        ``latency_s`` to the last settlement, the solver's capital, the ``solver`` event."""
        state = ctx.state
        assert isinstance(state, BridgedState)
        world, layout = state.world, state.layout
        state.flight(state.t0)
        hops = max(1, len(ctx.plan.hops))
        driver = _IntentDriver(state, hops, self)
        self.driver = driver
        layout.listener = driver.on_message
        try:
            driver.drive(self.process(ctx))
            state.actors.sync(world.devnet.now, amms=[], keepers=list(state.keepers.values()))
            state.extrapolate_health()
            state.rec.unbacked_usdc = get_unbacked_usdc(state.hops, layout.relayer.reconcile())
            result = state.finish(end=driver.gave_up_at)
            settling = _IntentDriver(state, hops, self)
            self.driver = settling
            layout.listener = settling.on_message
            settling.drive(self._await_settlements())
        finally:
            layout.listener = None
        capital = self._record_solver(ctx)
        metrics = dict(result.metrics)
        commits = [e["t"] for e in result.timeline if "gas" in e and e["event"] != "holdings"]
        settled = (
            [f.settled_at - state.t0 for f in self.solver.fills if f.settled_at]
            if (self.solver)
            else []
        )
        if commits and settled:
            metrics["latency_s"] = max(max(commits), max(settled)) - min(commits)
        metrics["solver_capital_usd_s"] = float(metrics["solver_capital_usd_s"]) + capital
        metrics["risk_bearer"] = get_risk_bearer(
            float(metrics["capital_in_flight_usd_s"]),
            float(metrics["fronted_usdc"]) * float(metrics["fronted_s"]),
            capital,
        )
        return dataclasses.replace(result, metrics=metrics, timeline=list(state.rec.timeline))

    def gross_up(self, ctx: PlanContext, leg: Leg, amount: int) -> int:
        """The DAI drawn to buy back the fronted USDC must still cover it after the orders
        carrying it take their premiums: for each order of that asset between this leg and
        its use, the least input x with output(x) ≥ the amount needed (two fixed-point
        steps of x ← x + (needed − output(x)), exact for the affine premium of a dollar
        asset)."""
        asset = leg.asset or ""
        price = ctx.state.actors.price_at(ctx.now())
        model = ctx.spec.cost_model()
        hops = [h for h in ctx.plan.legs if h.n > leg.n and h.action == "hop" and h.asset == asset]
        needed = amount
        for hop in reversed(hops):
            x = needed
            for _ in range(3):
                quote = get_quote(
                    asset,
                    x,
                    price=price,
                    sigma=ctx.spec.sigma,
                    model=model,
                    preset=ctx.spec.latency,
                    dest_chain=hop.to_chain or "",
                )
                if quote.output >= needed:
                    break
                x += needed - quote.output
            needed = x
        return needed

    # -- the order of one hop --------------------------------------------------------------
    def _order(self, ctx: PlanContext, leg: Leg) -> Process:
        state = ctx.state
        assert isinstance(state, BridgedState) and self.solver is not None
        asset, src, dst = leg.asset or "", leg.chain, leg.to_chain or ""
        if dst not in ctx.binding.chains:
            raise ScenarioError(f"leg {leg.n}: unknown destination chain {dst!r}")
        intent = state.world.intent
        token_in = ctx.binding.token(asset, src)
        token_out = ctx.binding.token(asset, dst)
        symbol = asset if src == _home(ctx, asset) else "w" + asset
        label = f"order:{symbol} {src}→{dst}"
        amount = _amount(ctx, leg, held=int(token_in.balanceOf(ctx.user)))
        now = ctx.now()
        price = state.actors.price_at(now)
        quote = get_quote(
            asset,
            amount,
            price=price,
            sigma=ctx.spec.sigma,
            model=ctx.spec.cost_model(),
            preset=ctx.spec.latency,
            dest_chain=dst,
        )
        origin = intent.origin[src]
        dest_chain = ctx.chain(dst)
        deadline = int(now) + self.fill_window
        order_data = encode(
            ["address", "uint256", "address", "uint256", "address", "uint256"],
            [
                token_in.address,
                amount,
                token_out.address,
                max(1, quote.output),
                ctx.user,
                dest_chain.chain_id,
            ],
        )
        units = amount / 10 ** DECIMALS[asset]
        receipt = ctx.send(
            leg,
            origin.open,
            (deadline, origin.ORDER_DATA_TYPE(), order_data),
            step=label,
            event="open",
            order=label,
            amount=units,
            value_usd=quote.value_usd,
            to_chain=dst,
        )
        opened = next(e for e in receipt.events if e.name == "Open")
        resolved = opened.args["resolvedOrder"]
        order = _Order(
            leg,
            bytes(opened.args["orderId"]),
            bytes(resolved[7][0][2]),
            quote,
            src,
            dst,
            now,
            deadline,
            label,
        )
        order_key = "0x" + order.order_id.hex()
        kind = "weth" if asset == "WETH" else "usd"
        transfer = Transfer(label, order_key, kind, units, quote.value_usd, now, dst)
        state.in_flight[order_key] = transfer
        state.flight_usd += quote.value_usd
        state.flight(now)
        # the solver sees the Open event and acts in the destination's next block
        yield Delay(dest_chain.config.block_time)
        if self._fill(ctx, order):
            if isinstance(leg.amount, Received):
                # a later ``received:STEP`` amount means what arrived, net of the premium
                bucket = ctx.received.setdefault(leg.amount.step, {})
                bucket[asset] = max(0, bucket.get(asset, 0) - (amount - quote.output))
            return
        yield from self._expire_and_refund(ctx, order)

    def _fill(self, ctx: PlanContext, order: _Order) -> bool:
        """The solver fills ``order`` if its inventory covers it; False when it declines."""
        state = ctx.state
        assert isinstance(state, BridgedState) and self.solver is not None
        solver, quote = self.solver, order.quote
        now = ctx.now()
        asset = quote.asset
        available = self.solver.fetch_available(asset, order.dst)
        reason = ""
        if quote.output <= 0:
            reason = "the premium exceeds the order's value"
        elif available < quote.output:
            reason = f"inventory short: {available} of {quote.output} base units available"
        if not reason:
            destination = state.world.intent.destination[order.dst]
            try:
                receipt = destination.fill.transact(
                    order.order_id,
                    order.origin_data,
                    encode(["address"], [solver.address]),
                    sender=solver.address,
                )
            except TransactionReverted as exc:
                reason = f"fill reverted: {exc.reason}"
            else:
                message = "0x" + bytes(receipt.return_value).hex()
                price = state.actors.price_at(now)
                fill = SolverFill(
                    "0x" + order.order_id.hex(),
                    asset,
                    order.src,
                    order.dst,
                    quote.amount_in,
                    quote.output,
                    quote.output / 10 ** DECIMALS[asset] * (price if asset == "WETH" else 1.0),
                    price,
                    quote.premium_usd,
                    now,
                )
                solver.fills.append(fill)
                solver.commit(asset, order.dst, quote.output)
                self.proofs[message] = ("settle", fill)
                self.pending.add(message)
                self._arrived(ctx, order, now)
                state.rec.event(
                    now,
                    order.dst,
                    "fill",
                    order=order.label,
                    message=message,
                    output=quote.output / 10 ** DECIMALS[asset],
                    premium_usd=quote.premium_usd,
                    premium_parts={
                        "capital": quote.capital_usd,
                        "risk": quote.risk_usd,
                        "gas": quote.gas_usd,
                        "rebalance": quote.rebalance_usd,
                    },
                    latency_s=now - order.opened_at,
                    solver_gas=receipt.gas_used,
                    price=price,
                )
                if asset == "WETH":
                    cut = (quote.amount_in - quote.output) / 10**18
                    state.rec.exposure(now, order.dst, -cut, price)
                return True
        solver.declines.append({"order": order.label, "reason": reason})
        state.rec.event(now, order.dst, "declined", order=order.label, reason=reason)
        return False

    def _arrived(self, ctx: PlanContext, order: _Order, now: float) -> None:
        """The user holds the order's output: no longer in flight."""
        state = ctx.state
        assert isinstance(state, BridgedState)
        key = "0x" + order.order_id.hex()
        transfer = state.in_flight.pop(key)
        state.flight_usd -= transfer.value
        state.flight(now)
        state.rec.arrivals.append(now)

    def _expire_and_refund(self, ctx: PlanContext, order: _Order) -> Process:
        """No fill: wait out the deadline, expire the order on the destination (the user
        sends it), wait for the refund proof, then stop the run at this order."""
        state = ctx.state
        assert isinstance(state, BridgedState)
        dest_chain = ctx.chain(order.dst)
        wait = order.deadline + 1 - ctx.now()
        model = self.latency if self.latency is not None else self.latency_model(ctx.spec)
        expected = wait + model.quantile(0.5)
        cadence = max(1, math.ceil(expected / (self.market_tick * self.actor_events)))
        state.interval = state.actors.interval = max(state.interval, cadence)
        yield Delay(max(wait, dest_chain.config.block_time))
        destination = state.world.intent.destination[order.dst]
        receipt = ctx.send(
            order.leg,
            destination.expire,
            order.order_id,
            order.origin_data,
            step=order.label,
            event="expire",
            order=order.label,
        )
        message = "0x" + bytes(receipt.return_value).hex()
        self.proofs[message] = ("refund", order)
        event = yield Delivery(message)
        if event is None or event.status != "executed":
            raise StepFailed(order.label, order.src, "refund proof not delivered")
        key = "0x" + order.order_id.hex()
        transfer = state.in_flight.pop(key)
        state.flight_usd -= transfer.value
        state.flight(event.time)
        state.rec.event(event.time, order.src, "refunded", order=order.label, message=message)
        raise StepFailed(
            order.label,
            order.dst,
            "no solver filled the order: expired and refunded "
            f"({self.solver.declines[-1]['reason'] if self.solver else ''})",
        )

    # -- settlement and rebalancing -------------------------------------------------------
    def _await_settlements(self) -> Process:
        """After the user's last leg: wait until every fill is settled and rebalanced."""
        while self.pending:
            message = min(self.pending)
            yield Delivery(message)

    def on_proof(self, event: MessageEvent) -> None:
        """A proof or rebalance message changed state (see the module docstring)."""
        kind, record = self.proofs[event.id]
        driver = self.driver
        assert driver is not None
        clock = driver.clock
        at = max(float(math.ceil(event.time)), clock.now)
        if event.status == "executed":
            if kind == "settle":
                clock.schedule(
                    at,
                    lambda: self._settled(event, record),
                    priority=STEP_PRIORITY,
                    label="intent settle",
                )
                return
            if kind == "rebalance":
                record.rebalanced_at = event.time
                self.pending.discard(event.id)
                driver.state.rec.event(
                    event.time, record.dst, "rebalanced", order=record.order_id, message=event.id
                )
            waiter = driver.waiting.pop(event.id, None)
            if waiter is not None:
                clock.schedule(at, functools.partial(waiter, event), priority=STEP_PRIORITY)
        elif event.status in ("expired", "refunded", "failed"):
            driver.state.rec.event(
                event.time, "-", f"proof_{event.status}", message=event.id, detail=event.detail
            )
            if event.status != "failed":
                self.pending.discard(event.id)
                pending = driver.waiting.pop(event.id, None)
                if pending is not None:
                    clock.schedule(at, functools.partial(pending, event), priority=STEP_PRIORITY)

    def _settled(self, event: MessageEvent, fill: SolverFill) -> None:
        """The solver was repaid on the source: book it, bridge the input back."""
        driver = self.driver
        assert self.solver is not None and driver is not None
        state = driver.state
        now = state.world.devnet.now
        fill.settled_at = event.time
        fill.price_settled = state.actors.price_at(event.time)
        self.solver.release(fill.asset, fill.dst, fill.output)
        self.pending.discard(event.id)
        state.rec.event(
            event.time,
            fill.src,
            "settled",
            order=fill.order_id,
            message=event.id,
            latency_s=event.time - fill.filled_at,
        )
        token = state.world.intent.token(fill.asset, fill.src)
        dest = state.world.devnet.chains[_index(state.world, fill.dst)]
        repaid = min(int(token.balanceOf(self.solver.address)), fill.amount_in)
        bridge = state.layout.bridge(_chain(state.world, fill.src))
        receipt = bridge.bridge_out.transact(
            token.address,
            repaid,
            dest.chain_id,
            self.solver.address,
            int(now) + HOP_DEADLINE,
            sender=self.solver.address,
        )
        message = "0x" + bytes(receipt.return_value).hex()
        self.proofs[message] = ("rebalance", fill)
        self.pending.add(message)
        state.rec.event(now, fill.src, "rebalance_out", order=fill.order_id, message=message)
        resume = driver.waiting.pop(event.id, None)
        if resume is not None:
            resume(event)

    def _record_solver(self, ctx: PlanContext) -> float:
        """The ``solver`` timeline event: fills, declines, capital and risk (formulas:
        capital_usd_s = Σ V_fill · (settled − filled); risk_pnl_usd = Σ over WETH fills of
        output units · (P(settled) − P(filled)), the mark-to-market of the inventory the
        solver had out; premium_usd = Σ quoted premiums)."""
        state = ctx.state
        solver = self.solver
        if solver is None:
            return 0.0
        end = state.world.devnet.now
        capital = 0.0
        risk = 0.0
        for f in solver.fills:
            settled = f.settled_at if f.settled_at is not None else end
            capital += f.value_usd * (settled - f.filled_at)
            if f.asset == "WETH":
                p_end = (
                    f.price_settled if f.price_settled is not None else state.actors.price_at(end)
                )
                risk += f.output / 1e18 * (p_end - f.price_fill)
        state.rec.event(
            end,
            "-",
            "solver",
            fills=len(solver.fills),
            declined=len(solver.declines),
            premium_usd=sum(f.premium_usd for f in solver.fills),
            capital_usd_s=capital,
            risk_pnl_usd=risk,
            peak={f"{c}:{a}": v / 10 ** DECIMALS[a] for (c, a), v in sorted(solver.peak.items())},
            cap={a: v / 10 ** DECIMALS[a] for a, v in sorted(solver.cap.items())},
            cycle_s=[
                (f.rebalanced_at - f.filled_at) if f.rebalanced_at is not None else None
                for f in solver.fills
            ],
            settle_s=[
                (f.settled_at - f.filled_at) if f.settled_at is not None else None
                for f in solver.fills
            ],
        )
        return capital


class _IntentDriver(_Driver):
    """The bridged driver, with the intent's own messages (proofs, rebalances) routed to
    :meth:`IntentExecution.on_proof`."""

    def __init__(self, state: BridgedState, hops: int, execution: IntentExecution) -> None:
        super().__init__(state, hops)
        self.execution = execution

    def on_message(self, event: MessageEvent) -> None:
        if event.id in self.execution.proofs:
            self.execution.on_proof(event)
            return
        super().on_message(event)


def _index(world: World, name: str) -> int:
    return [c.name for c in world.devnet.chains].index(name)


def _chain(world: World, name: str) -> Chain:
    return world.devnet.chains[_index(world, name)]


EXECUTIONS["intent"] = IntentExecution

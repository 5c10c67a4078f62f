"""The ``bridged`` runner: swap → borrow → refinance across chains joined by the bridge.

Layout and token topology are in ``scenarios/world/_layout.py`` (3 chains: AMM on A, lending on B,
CDP on C; 2 chains: AMM and CDP on A, lending on B). The run is one *process* on the
devnet's virtual clock: a generator that submits a transaction and then yields what it
waits for — :class:`Delay` (the next block of a chain) or :class:`Delivery` (a bridge
message, delivered by the real :class:`bridge.Relayer` after its lane's sampled latency).
The driver resumes it from clock events, so the market actors (price ticks, arbitrage,
keepers on every chain) and the relayer act in between, in the clock's total order; the
process's own events run last at an instant (:data:`STEP_PRIORITY`). Every user step is
submitted one block (of its chain) after the event it reacts to, counted from the first
whole second at or after it (block timestamps are whole seconds), so the user's
transactions, and the hops' send times, fall on whole seconds.

Steps (3 chains; the 2-chain layout skips the A → C and C → A hops, its CDP being on A)::

    A  swap USDC → WETH                       (slippage guard against the t0 quote)
    A  bridge WETH → B                        hop 1 (lock on A, mint wWETH on B)
    B  supply_collateral, borrow (target LTV)
    B  front_repay: the fronter (a solver with wUSDC inventory on B) repays the user's debt
    B  withdraw_collateral
    B  bridge wWETH → A                       hop 2 (burn; wrapped goes only home)
    A  bridge WETH → C                        hop 3
    C  lock, draw the DAI that buys back the fronted USDC on A (quoted on A's pool)
    C  bridge DAI → A                         hop 4 (lock DAI on C, mint wDAI on A)
    A  swap_dai wDAI → USDC                   (guard: at least fronted·(1 − slippage))
    A  repay_fronter                          fronting ends

A reverted step ends the run: outcome ``partial`` (``reverted`` if it was the first) with
``failed_step`` = the action's name, and the state left behind — tokens on the wrong chain,
in flight, an open position — is valued at the reference price (``stranded_usdc``). A hop
that is refunded, or not delivered by the horizon, fails the same way (``hop:…``).

Actor cadence: with long bridge waits, acting on every 12 s price tick would cost
hundreds of thousands of transactions (a 7-day hop is 50,400 ticks). The runner therefore
lets the actors act every ``interval`` ticks, chosen so a run has about
:data:`ACTOR_EVENTS` actor events (``interval`` = 1, every tick, for the sub-minute
presets), and *syncs* the venue a step touches just before it (arbitrage to the band at
the current tick's price before a swap on A; the chain's keeper checks before a step on
B or C), so every user step sees the same market as with per-tick actors. What the coarse
cadence changes: LVR is that of a pool arbitraged every ``interval`` ticks, and the health
factor between samples is extrapolated along the reference path (HF ∝ collateral price,
debt accrual between samples ignored), so ``min_health_factor`` still sees intra-interval
dips. The price path itself is always the 12 s grid, identical for every mode of a seed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge import MessageEvent, UnbackedMint, get_preset
from chains import Chain, Contract, Receipt, TransactionReverted
from scenarios.model import Holdings, MarketConfig, RunResult, RunSpec, ScenarioConfigError
from scenarios.runners._actors import Keeper
from scenarios.runners._one_chain import (
    MAX_UINT256,
    USDC,
    WAD,
    RunState,
    StepFailed,
    _market_for,
    to_wad,
)
from scenarios.world import BridgedLayout, CdpVenue, LendingVenue, World

__all__ = ["ACTOR_EVENTS", "HOP_DEADLINE", "STEP_PRIORITY", "BridgedRunner", "Delay", "Delivery"]

logger = logging.getLogger(__name__)

#: Clock priority of the process's steps: after chain seals (0), the relayer's scans (10)
#: and actions (20) at the same instant, so a step sees everything due by then.
STEP_PRIORITY = 100
#: Seconds a bridge message may take before it can be expired and refunded.
HOP_DEADLINE = 14 * 86_400
#: Seconds after a hop's send is orphaned by a reorg before the run counts it lost: a
#: reorg that re-pools its transactions mines the send again at once (automine) or in the
#: next block.
ORPHAN_GRACE = 2.0
#: Target number of actor events per run (sets the actor cadence, see the module docstring).
ACTOR_EVENTS = 16


@dataclass(frozen=True)
class Delay:
    """Resume the process ``seconds`` from now."""

    seconds: float


@dataclass(frozen=True)
class Delivery:
    """Resume the process when bridge message ``message_id`` has executed on its
    destination; the process receives the relayer's ``executed`` :class:`MessageEvent`."""

    message_id: str


#: Health factors and collateral ratios at or above this mean "no debt" (max uint256).
_NO_DEBT = 2**255

Wait = Delay | Delivery
Process = Generator[Wait, Any, None]


@dataclass
class Transfer:
    """One bridge hop of the run: what it carries and when it left."""

    hop: str
    message_id: str
    kind: str  # "usd" (valued at par) or "weth" (valued at the reference price)
    units: float
    value: float  # USD at the reference price when sent
    sent_at: float
    dest: str


@dataclass
class BridgedState(RunState):
    """A :class:`RunState` over the bridged layout: holdings on every chain and in flight,
    the capital-in-flight curve, per-hop records and timed health samples."""

    layout: BridgedLayout = field(default=None)  # type: ignore[assignment]
    interval: int = 1
    in_flight: dict[str, Transfer] = field(default_factory=dict)
    hops: dict[str, Transfer] = field(default_factory=dict)  # every hop sent, by message id
    flight_usd: float = 0.0
    health_at: list[tuple[float, float | None]] = field(default_factory=list)
    open_positions: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.actors.interval = self.interval

    # -- holdings ---------------------------------------------------------------------------
    def fetch_holdings(self) -> Holdings:
        """(u, w) over every chain (home and wrapped forms), positions, tokens in flight and
        the debt to the fronter."""
        user, layout = self.user, self.layout
        plain = sum(t.balanceOf(user) for t in layout.usdc.values()) / USDC
        dai = sum(t.balanceOf(user) for t in layout.dai.values()) / WAD
        weth = sum(t.balanceOf(user) for t in layout.weth.values()) / WAD
        market, vault, view = self.lending.market, self.cdp.vault, self.view
        flying_usd = sum(t.units for t in self.in_flight.values() if t.kind == "usd")
        flying_weth = sum(t.units for t in self.in_flight.values() if t.kind == "weth")
        usd = (
            plain
            + dai
            + flying_usd
            - view(market.debt_of, user) / USDC
            - view(vault.debt_of, user) / WAD
            - self.owed_to_fronter
        )
        weth += (view(market.collateral, user) + view(vault.ink, user)) / WAD + flying_weth
        if self.owed_weth:
            weth -= self.owed_weth
        return Holdings(usd=usd, weth=weth, plain_usd=plain - self.owed_to_fronter)

    # -- health -----------------------------------------------------------------------------
    def sample_health(self) -> None:
        """The market HF and the vault's ratio / liquidation ratio of the positions the
        process has open (it knows which: no chain reads while none is), timed."""
        values: list[float] = []
        try:
            if "market" in self.open_positions:
                hf = int(self.view(self.lending.market.health_factor, self.user))
                if hf < _NO_DEBT:
                    values.append(hf / WAD)
            if "vault" in self.open_positions:
                ratio = int(self.view(self.cdp.vault.collateral_ratio, self.user))
                if ratio < _NO_DEBT:
                    values.append(ratio / WAD / self.world.suite.config.liquidation_ratio)
        except TransactionReverted as exc:  # a stale oracle: no sample this time
            logger.debug("health sample skipped: %s", exc.reason)
        self.rec.health.extend(values)
        self.health_at.append((self.world.devnet.now, min(values) if values else None))

    def extrapolate_health(self) -> None:
        """Between two samples more than a tick apart, the position's HF follows the
        collateral price: add h_i · min P / P(t_i) over the ticks in effect until the next
        sample (see the module docstring)."""
        if self.interval <= 1:
            return
        path, actors = self.actors.path, self.actors
        for (t, h), (t_next, _) in zip(self.health_at, self.health_at[1:], strict=False):
            if h is None:
                continue
            k, k_next = actors.tick_at(t), actors.tick_at(t_next)
            if k_next <= k:
                continue
            base = path.log_return(k)
            path.log_return(k_next)
            low = min(path._log[k : k_next + 1])
            self.rec.health.append(h * math.exp(low - base))

    # -- transfers --------------------------------------------------------------------------
    def flight(self, t: float) -> None:
        self.rec.in_flight(t, max(0.0, self.flight_usd))


class BridgedRunner:
    """``bridged``: the scenario over the bridged layout (see the module docstring).

    ``market`` overrides the market model; ``actor_events`` the target number of actor
    events per run (the cadence, see the module docstring).
    """

    name = "bridged"

    def __init__(self, market: MarketConfig | None = None, *, actor_events: int = ACTOR_EVENTS):
        if actor_events < 1:
            raise ScenarioConfigError(f"actor_events must be ≥ 1, got {actor_events}")
        self.market = market
        self.actor_events = actor_events

    def run(self, world: World, spec: RunSpec) -> RunResult:
        world.check_spec(spec)
        if world.chains != spec.chains:
            raise ScenarioConfigError(
                f"chains={spec.chains} but the world was built with {world.chains} chains; "
                f"build World.build({spec.chains}) for this spec"
            )
        layout = world.bridged
        market = _market_for(world, self.market)
        hops = 4 if world.chains == 3 else 2
        with world.session():
            relayer = layout.relayer
            model = get_preset(spec.latency)
            relayer.latency = dict.fromkeys(relayer.lanes, model)
            relayer.seed = spec.seed
            state = BridgedState(
                world,
                spec,
                market,
                layout.amm,
                layout.lending,
                layout.cdp,
                _keepers(layout),
                layout=layout,
                interval=self._interval(hops, model.quantile(0.5), market),
            )
            state.begin()
            state.flight(state.t0)
            driver = _Driver(state, hops)
            layout.listener = driver.on_message
            try:
                driver.drive(_process(state))
            finally:
                layout.listener = None
            # the end state is valued (and checked for liquidation) at fresh oracles
            state.actors.sync(world.devnet.now, amms=[], keepers=list(state.keepers.values()))
            state.extrapolate_health()
            state.rec.unbacked_usdc = get_unbacked_usdc(state.hops, relayer.reconcile())
            return state.finish(end=driver.gave_up_at)

    def _interval(self, hops: int, median_latency: float, market: MarketConfig) -> int:
        """Path ticks per actor event for a run expected to last ``hops`` median latencies
        plus its ~13 blocks."""
        expected = hops * median_latency + 13 * 2.0
        return max(1, math.ceil(expected / (market.tick * self.actor_events)))


def get_unbacked_usdc(hops: dict[str, Transfer], unbacked: list[UnbackedMint]) -> float:
    """``unbacked_usdc`` (``scenarios/model/_metrics.py``): Σ value when sent of the run's
    hops the relayer reports as unbacked mints."""
    return sum(hops[mint.id].value for mint in unbacked if mint.id in hops)


def _keepers(
    layout: BridgedLayout, lending: LendingVenue | None = None, cdp: CdpVenue | None = None
) -> dict[str, Keeper]:
    """One keeper per chain whose venues read an oracle: the market's chain (which also
    keeps the wUSDC feed fresh) and the vault's (default: the layout's market and vault)."""
    lending = layout.lending if lending is None else lending
    cdp = layout.cdp if cdp is None else cdp
    return {
        lending.chain.name: Keeper(
            lending.chain.name,
            lending.chain,
            lending.oracle,
            lending.weth.address,
            pegged=(lending.usdc.address,),
        ),
        cdp.chain.name: Keeper(cdp.chain.name, cdp.chain, cdp.oracle, cdp.weth.address),
    }


class _Driver:
    """Runs a process on the clock: resumes it after delays and on deliveries; records
    deliveries, relay failures and refunds; gives up at the horizon."""

    def __init__(self, state: BridgedState, hops: int) -> None:
        self.state = state
        self.clock = state.world.devnet.clock
        self.waiting: dict[str, Callable[[Any], None]] = {}
        self.is_done = False
        self.gave_up_at: float | None = None
        self.horizon = state.t0 + hops * HOP_DEADLINE + 86_400
        self.process: Process | None = None
        self.current: Wait | None = None
        #: hops whose send a reorg orphaned for good (``_check_orphaned``)
        self.lost: set[str] = set()

    def drive(self, process: Process) -> None:
        self.process = process
        self.clock.schedule(self.clock.now, lambda: self._resume(None), priority=STEP_PRIORITY)
        devnet = self.state.world.devnet
        while not self.is_done:
            t = self.clock.next_event_time()
            if t is None or t > self.horizon:
                self._give_up(
                    f"not delivered by the horizon ({self.horizon - self.state.t0:.0f} s)"
                )
                break
            devnet.advance_to(t)

    def _resume(self, value: Any) -> None:
        assert self.process is not None
        try:
            wait = self.process.send(value)
        except StopIteration:
            self.is_done = True
            return
        except StepFailed as failure:
            self.is_done = True
            self.state.rec.failed(
                self.clock.now,
                failure.chain,
                failure.step,
                failure.reason,
                gas=failure.gas,
                price=self.state.actors.price_at(self.clock.now),
            )
            return
        self.current = wait
        if isinstance(wait, Delay):
            self.clock.schedule(
                self.clock.now + wait.seconds,
                lambda: self._resume(None),
                priority=STEP_PRIORITY,
                label="bridged step",
            )
        elif wait.message_id in self.lost:
            transfer = self.state.hops.get(wait.message_id)
            self._lose(transfer.hop if transfer is not None else "run")
        else:
            self.waiting[wait.message_id] = self._resume

    def on_message(self, event: MessageEvent) -> None:
        """The relayer's lifecycle events for this run's messages."""
        state = self.state
        transfer = state.in_flight.get(event.id)
        if transfer is None:
            return
        if event.status == "executed":
            del state.in_flight[event.id]
            state.flight_usd -= transfer.value
            state.flight(event.time)
            state.rec.arrivals.append(event.time)
            state.rec.event(
                event.time,
                transfer.dest,
                "delivered",
                hop=transfer.hop,
                message=event.id,
                latency_s=event.time - transfer.sent_at,
                tx=event.tx_hash or "",
            )
            resume = self.waiting.pop(event.id, None)
            if resume is not None:
                # blocks have whole-second timestamps: the process reacts from the first
                # whole second at or after the delivery (then waits its block)
                self.clock.schedule(
                    max(float(math.ceil(event.time)), self.clock.now),
                    lambda: resume(event),
                    priority=STEP_PRIORITY,
                    label="bridged delivery",
                )
        elif event.status in ("failed", "expired"):
            state.rec.event(
                event.time,
                transfer.dest,
                f"relay_{event.status}",
                hop=transfer.hop,
                message=event.id,
                detail=event.detail,
            )
        elif event.status == "orphaned":
            # a reorg took the send off its source chain: lost unless it is mined again
            # (a reorg that re-pools its transactions) within a block of the source
            self.clock.schedule(
                self.clock.now + ORPHAN_GRACE,
                lambda: self._check_orphaned(event.id),
                priority=STEP_PRIORITY,
                label="bridged orphan check",
            )
        elif event.status == "refunded":
            # the tokens are back with the user on the source chain: no longer in flight
            del state.in_flight[event.id]
            state.flight_usd -= transfer.value
            state.flight(event.time)
            if self.waiting.pop(event.id, None) is not None:
                self.is_done = True
                state.rec.failed(
                    event.time, transfer.dest, transfer.hop, "message expired and refunded"
                )

    def _check_orphaned(self, message_id: str) -> None:
        """The hop's send is still orphaned: its value never left the source chain (the
        lock or burn is undone), the run stops at this hop (``orphaned_usdc``)."""
        state = self.state
        record = state.layout.relayer.get(message_id)
        transfer = state.in_flight.get(message_id)
        if record is None or record.status != "orphaned" or transfer is None:
            return
        del state.in_flight[message_id]
        state.flight_usd -= transfer.value
        state.flight(self.clock.now)
        state.rec.orphaned_usdc += transfer.value
        state.rec.event(
            self.clock.now, transfer.dest, "orphaned", hop=transfer.hop, message=message_id
        )
        self.lost.add(message_id)
        if self.waiting.pop(message_id, None) is not None and not self.is_done:
            self._lose(transfer.hop)

    def _lose(self, hop: str) -> None:
        self.is_done = True
        self.state.rec.failed(
            self.clock.now, "-", hop, "the hop's send was orphaned by a reorg (never relayed)"
        )

    def _give_up(self, reason: str) -> None:
        self.is_done = True
        self.gave_up_at = self.clock.now
        hop = ""
        if isinstance(self.current, Delivery):
            transfer = self.state.in_flight.get(self.current.message_id)
            hop = transfer.hop if transfer is not None else ""
        self.state.rec.failed(self.clock.now, "-", hop or "run", reason)


def _process(st: BridgedState) -> Process:
    """The scenario as a process (see the module docstring)."""
    spec, user = st.spec, st.user
    amm, lending, cdp = st.amm, st.lending, st.cdp
    a, b, c = amm.chain, lending.chain, cdp.chain
    fronter = st.world.roles.fronter
    actors = st.actors
    keepers = st.keepers

    def block(chain: Chain) -> Delay:
        return Delay(chain.config.block_time)

    def sync_amm() -> None:
        actors.sync(st.world.devnet.now, amms=[amm], keepers=[])

    def sync_keeper(chain: Chain) -> None:
        keeper = keepers.get(chain.name)
        if keeper is not None:
            actors.sync(st.world.devnet.now, amms=[], keepers=[keeper])

    def swap(step: str, path: list[str], amount_in: int, min_out: int, pool: str) -> None:
        """The user's guarded router swap on A (slippage applied to ``min_out``)."""
        receipt = st.send(
            step,
            a.name,
            step,
            amm.router.swap_exact_tokens_for_tokens,
            amount_in,
            min_out * to_wad(1 - spec.slippage) // WAD,
            path,
            user,
            int(st.world.devnet.now) + 600,
            sender=user,
        )
        sell, buy = ("USDC", "WETH") if path[-1] == amm.weth.address else ("DAI", "USDC")
        st.book_swap(a.name, receipt, sell, buy)
        actors.touched.add(pool)

    # 1. swap USDC → WETH on A, guarded against the t0 quote
    notional = amm.usdc.balanceOf(user)
    quoted = amm.router.get_amounts_out(notional, [amm.usdc.address, amm.weth.address])[1]
    yield block(a)
    sync_amm()
    swap("swap", [amm.usdc.address, amm.weth.address], notional, quoted, amm.weth_usdc.address)
    st.rec.swap_fee(notional / USDC)

    # 2. WETH to B
    yield block(a)
    yield from _hop(st, "hop:WETH A→B", a, amm.weth, b, "weth")

    # 3. supply and borrow on B
    yield block(b)
    sync_keeper(b)
    collateral = lending.weth.balanceOf(user)
    st.send(
        "supply_collateral",
        b.name,
        "supply_collateral",
        lending.market.supply_collateral,
        collateral,
        user,
        sender=user,
    )
    yield block(b)
    sync_keeper(b)
    value = lending.market.collateral_to_loan(lending.market.collateral(user))
    st.open_positions.add("market")  # sampled after the borrow (skipped if it reverts)
    st.send(
        "borrow",
        b.name,
        "borrow",
        lending.market.borrow,
        value * to_wad(spec.target_ltv) // WAD,
        user,
        sender=user,
    )

    # 4. refinance: the fronter repays on B, the collateral travels to the vault's chain
    yield block(b)
    sync_keeper(b)
    receipt = st.send(
        "front_repay",
        b.name,
        "front_repay",
        lending.market.repay,
        MAX_UINT256,
        user,
        sender=fronter,
    )
    fronted = int(receipt.return_value)
    st.open_positions.discard("market")
    st.rec.fronted_usdc = fronted / USDC
    st.rec.fronted_at = st.world.devnet.now
    st.owed_to_fronter = fronted / USDC
    yield block(b)
    sync_keeper(b)
    collateral = lending.market.collateral(user)
    st.send(
        "withdraw_collateral",
        b.name,
        "withdraw_collateral",
        lending.market.withdraw_collateral,
        collateral,
        user,
        sender=user,
    )
    yield block(b)
    yield from _hop(st, f"hop:wWETH {b.name}→{a.name}", b, lending.weth, a, "weth")
    if c is not a:
        yield block(a)
        yield from _hop(st, f"hop:WETH {a.name}→{c.name}", a, amm.weth, c, "weth")

    yield block(c)
    sync_keeper(c)
    st.send("lock", c.name, "lock", cdp.vault.lock, cdp.weth.balanceOf(user), user, sender=user)
    yield block(c)
    sync_keeper(c)
    # the DAI that buys back the fronted USDC on A's DAI/USDC pool (read across chains,
    # as a solver would quote it off chain)
    dai_in = amm.router.get_amounts_in(fronted, [amm.dai.address, amm.usdc.address])[0]
    st.open_positions.add("vault")
    st.send("draw", c.name, "draw", cdp.vault.draw, dai_in, user, sender=user)
    if c is not a:
        yield block(c)
        yield from _hop(st, f"hop:DAI {c.name}→{a.name}", c, cdp.dai, a, "usd")

    yield block(a)
    sync_amm()
    dai_balance = amm.dai.balanceOf(user)
    swap(
        "swap_dai", [amm.dai.address, amm.usdc.address], dai_balance, fronted, amm.dai_usdc.address
    )
    st.rec.swap_fee(dai_balance / WAD)
    yield block(a)
    pay = min(fronted, amm.usdc.balanceOf(user))
    st.send("repay_fronter", a.name, "repay_fronter", amm.usdc.transfer, fronter, pay, sender=user)
    st.owed_to_fronter = (fronted - pay) / USDC
    if pay == fronted:
        st.rec.repaid_at = st.world.devnet.now


def _hop(
    st: BridgedState, hop: str, source: Chain, token: Contract, dest: Chain, kind: str
) -> Generator[Wait, Any, MessageEvent]:
    """Bridge the user's whole ``token`` balance on ``source`` to ``dest``; wait for it."""
    user = st.user
    amount = token.balanceOf(user)
    now = st.world.devnet.now
    decimals = 6 if kind == "usd" and token is st.layout.usdc.get(source.name) else 18
    units = float(Decimal(amount) / Decimal(10**decimals))
    value = units * st.actors.price_at(now) if kind == "weth" else units
    bridge = st.layout.bridge(source)
    receipt: Receipt = st.send(
        hop,
        source.name,
        "bridge_out",
        bridge.bridge_out,
        token.address,
        amount,
        dest.chain_id,
        user,
        int(now) + HOP_DEADLINE,
        sender=user,
        hop=hop,
        amount=units,
        value_usd=value,
        to_chain=dest.name,
    )
    message_id = "0x" + bytes(receipt.return_value).hex()
    transfer = Transfer(hop, message_id, kind, units, value, now, dest.name)
    st.in_flight[message_id] = transfer
    st.hops[message_id] = transfer
    st.flight_usd += value
    st.flight(now)
    event: MessageEvent = yield Delivery(message_id)
    return event

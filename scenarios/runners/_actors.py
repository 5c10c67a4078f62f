"""Market actors on the devnet's virtual clock: arbitrageurs, oracle keepers, background flow.

:class:`MarketActors` schedules one clock event per tick of the price path.
At tick k (time ``t0 + k·tick``), with S = S(t_k):

1. each AMM's arbitrageur trades the WETH/USDC pool back to the no-arbitrage band around S
   (:func:`~scenarios.model.arbitrage_input`; a real swap through the router) and books its
   profit at S — the LPs' loss-versus-rebalancing net of fees (``lvr_usdc``) — except on the
   first arbitrage after one of the user's swaps on that pool (the runner marks the pool in
   ``touched``): that trade mostly undoes the user's price impact, so its profit is booked
   apart as a backrun (``backrun_usdc``, in the timeline);
2. each chain's keeper reports S to its oracle when its last report is ``heartbeat`` old or
   S moved more than ``deviation`` from it; the report lands ``keeper_delay`` later (a
   separate clock event); the oracle's own OSM delay, if any, applies on chain;
3. with ``flow_usdc`` > 0, a noise trader swaps a seeded Exp(mean) USDC amount in a random
   direction on each AMM.

With ``interval`` > 1 (bridged runs with long waits) the actors act every ``interval``
ticks and only arbitrage; :meth:`MarketActors.sync` brings an AMM or a keeper up to the
current tick just before a user step touches it. A keeper's ``pegged`` tokens (a market's
wUSDC) are re-reported at $1 on every heartbeat so their feeds never go stale.

Events at the same instant run in the clock's total order, and the actors run before a
runner's step at that instant (the runner advances the clock first), so runs are
deterministic. The actors' transactions are not the user's: they count in no cost metric.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chains import TransactionReverted
from scenarios.model import MarketConfig, PricePath, arbitrage_input
from scenarios.world import AmmVenue, World, fetch_token0

__all__ = ["Keeper", "MarketActors"]

logger = logging.getLogger(__name__)

_MAX_UINT256 = 2**256 - 1
WAD = 10**18


@dataclass
class Keeper:
    """Reports the reference WETH price for ``token`` to ``oracle`` on one chain."""

    venue_name: str
    chain: object
    oracle: object
    token: str
    last_price: float = 0.0
    last_at: float = -1e18
    #: Stablecoins (e.g. a market's wrapped USDC) reported at $1 on every heartbeat, so
    #: their feeds stay fresh however long a run lasts.
    pegged: tuple[str, ...] = ()
    pegged_at: float = -1e18
    #: Whether the oracle delays reports (an OSM): then the price in effect is read on chain.
    is_delayed: bool = False
    #: The last report the oracle accepted (WAD); without a delay, the price in effect.
    onchain_raw: int | None = None


@dataclass
class MarketActors:
    """The actors of one run (see the module docstring); ``start`` once, ``stop`` at the end."""

    world: World
    path: PricePath
    config: MarketConfig
    amms: list[AmmVenue]
    keepers: list[Keeper]
    seed: int
    #: Path ticks between two actor events (1: every tick). Bridged runs with long bridge
    #: waits act less often and :meth:`sync` the venues before each user step instead.
    interval: int = 1
    t0: float = 0.0
    lvr_usdc: float = 0.0
    backrun_usdc: float = 0.0
    touched: set[str] = field(default_factory=set)
    arb_trades: int = 0
    keeper_reports: int = 0
    flow_trades: int = 0
    observers: list[Callable[[float], None]] = field(default_factory=list)
    #: Pools held at a premium over the reference: pool address → factor (1 + gap); their
    #: arbitrageur trades them back to P·factor instead of P.
    premium: dict[str, float] = field(default_factory=dict)
    _event: Any = field(default=None, repr=False)  # the next tick's ScheduledEvent
    _tick: int = 0
    _weth_is_0: dict[str, bool] = field(default_factory=dict, repr=False)  # pool → order
    _synced: dict[str, int] = field(default_factory=dict, repr=False)  # venue → last tick
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def start(self, t0: float) -> None:
        """Begin at ``t0``: every keeper reports S0 (tick 0), then the ticks follow."""
        self.t0 = t0
        self._rng = random.Random(f"flow:{self.seed}")
        for keeper in self.keepers:
            keeper.last_price = self.path.s0
            keeper.last_at = t0
            self._report(keeper, self.path.s0)
            self._report_pegged(keeper, t0)
            self._synced[keeper.venue_name] = 0
        for amm in self.amms:
            self._synced[_amm_key(amm)] = 0
        self._schedule(self.interval)

    def stop(self) -> None:
        """Cancel the next tick (the devnet revert forgets queued events anyway)."""
        if self._event is not None:
            self.world.devnet.clock.cancel(self._event)
            self._event = None

    def price_at(self, t: float) -> float:
        """The reference price in effect at clock time ``t``."""
        return self.path.at(max(0.0, t - self.t0))

    def _schedule(self, k: int) -> None:
        self._tick = k
        self._event = self.world.devnet.clock.schedule(
            self.t0 + k * self.config.tick, self._on_tick, priority=-10, label=f"market tick {k}"
        )

    def tick_at(self, t: float) -> int:
        """Index of the path tick in effect at clock time ``t``."""
        return int((max(0.0, t - self.t0)) / self.config.tick + 1e-9)

    def _on_tick(self) -> None:
        k = self._tick
        price = self.path.at_tick(k)
        now = self.world.devnet.now
        if self.config.arbitrage:
            for amm in self.amms:
                self._arbitrage(amm, price)
                self._synced[_amm_key(amm)] = k
        if self.interval == 1:
            # coarse cadence: keepers report only when synced before a step (nothing else
            # reads an oracle) and the runner extrapolates health between samples
            for keeper in self.keepers:
                self._keep(keeper, price, now)
                self._synced[keeper.venue_name] = k
        if self.config.flow_usdc > 0:
            for amm in self.amms:
                self._flow(amm, price)
        if self.interval == 1:
            for observe in self.observers:
                observe(now)
        self._schedule(k + self.interval)

    def sync(self, now: float, *, amms: list[AmmVenue], keepers: list[Keeper]) -> None:
        """Bring the given venues up to the path tick in effect at ``now``, as if the actors
        acted on every tick: arbitrage each AMM and let each keeper check its oracle, unless
        they already acted on this tick (with ``interval`` 1 this never trades)."""
        k = self.tick_at(now)
        price = self.path.at_tick(k)
        for amm in amms:
            key = _amm_key(amm)
            if self.config.arbitrage and self._synced.get(key) != k:
                self._arbitrage(amm, price)
                self._synced[key] = k
        for keeper in keepers:
            if self._synced.get(keeper.venue_name) != k:
                self._keep(keeper, price, now)
                self._synced[keeper.venue_name] = k

    # -- arbitrage --------------------------------------------------------------------------
    def _arbitrage(self, amm: AmmVenue, price: float) -> None:
        pool = amm.weth_usdc
        factor = self.premium.get(pool.address)
        if factor is not None:  # a pool held at a premium: its reference is P·factor
            price *= factor
        r0, r1, _ = pool.get_reserves()
        weth_is_0 = self._weth_is_0.get(pool.address)
        if weth_is_0 is None:
            weth_is_0 = self._weth_is_0[pool.address] = fetch_token0(pool) == amm.weth.address
        x, y = (r0, r1) if weth_is_0 else (r1, r0)
        p_raw = price * 10**6 / 10**18  # USDC base units per WETH base unit
        side, amount = arbitrage_input(int(x), int(y), p_raw)
        if side == "none":
            return
        path = [amm.weth.address, amm.usdc.address]
        if side == "buy":
            path.reverse()
        arb = self.world.roles.arbitrageur
        try:
            amounts = amm.router.swap_exact_tokens_for_tokens(
                amount, 0, path, arb, _MAX_UINT256, sender=arb
            )
        except TransactionReverted as exc:  # e.g. inventory exhausted: log, keep ticking
            logger.warning("arbitrage on %s reverted: %s", amm.chain.name, exc.reason)
            return
        amount_in, amount_out = int(amounts[0]), int(amounts[-1])
        if side == "sell":
            profit = amount_out / 10**6 - amount_in / 10**18 * price
        else:
            profit = amount_out / 10**18 * price - amount_in / 10**6
        if pool.address in self.touched:  # first trade after a user swap: a backrun
            self.touched.discard(pool.address)
            self.backrun_usdc += profit
        else:
            self.lvr_usdc += profit
        self.arb_trades += 1

    # -- keepers ------------------------------------------------------------------------------
    def _keep(self, keeper: Keeper, price: float, now: float) -> None:
        if keeper.pegged and now - keeper.pegged_at >= self.config.heartbeat:
            self._report_pegged(keeper, now)
        stale = now - keeper.last_at >= self.config.heartbeat
        moved = abs(price - keeper.last_price) > self.config.deviation * keeper.last_price
        if not (stale or moved):
            return
        keeper.last_price = price
        keeper.last_at = now
        if self.config.keeper_delay > 0:
            self.world.devnet.clock.schedule(
                now + self.config.keeper_delay,
                lambda: self._report(keeper, price),
                priority=-9,
                label=f"keeper report {keeper.venue_name}",
            )
        else:
            self._report(keeper, price)

    def _report(self, keeper: Keeper, price: float) -> None:
        oracle = keeper.oracle
        raw = int(price * WAD)
        try:
            oracle.set_price(  # type: ignore[attr-defined]
                keeper.token, raw, sender=self.world.roles.deployer
            )
            keeper.onchain_raw = raw
            self.keeper_reports += 1
        except TransactionReverted as exc:  # an OSM hop still pending: report next time
            logger.debug("keeper %s: %s", keeper.venue_name, exc.reason)

    def _report_pegged(self, keeper: Keeper, now: float) -> None:
        keeper.pegged_at = now
        for token in keeper.pegged:
            try:
                keeper.oracle.set_price(  # type: ignore[attr-defined]
                    token, WAD, sender=self.world.roles.deployer
                )
                self.keeper_reports += 1
            except TransactionReverted as exc:
                logger.debug("keeper %s (pegged): %s", keeper.venue_name, exc.reason)

    # -- background flow ----------------------------------------------------------------------
    def _flow(self, amm: AmmVenue, price: float) -> None:
        usdc = self._rng.expovariate(1 / self.config.flow_usdc)
        buy = self._rng.random() < 0.5
        if buy:
            path, amount = [amm.usdc.address, amm.weth.address], int(usdc * 10**6)
        else:
            path, amount = [amm.weth.address, amm.usdc.address], int(usdc / price * 10**18)
        if amount <= 0:
            return
        flow = self.world.roles.flow
        try:
            amm.router.swap_exact_tokens_for_tokens(
                amount, 0, path, flow, _MAX_UINT256, sender=flow
            )
            self.flow_trades += 1
        except TransactionReverted as exc:
            logger.warning("background flow on %s reverted: %s", amm.chain.name, exc.reason)

    def fetch_oracle_gap(self, keeper: Keeper, now: float) -> float:
        """|oracle price in effect − reference| / reference for ``keeper``'s oracle (read on
        chain only when the oracle delays reports; otherwise it is the last accepted one)."""
        if not keeper.is_delayed and keeper.onchain_raw is not None:
            reported = keeper.onchain_raw
        else:
            reported, _ = keeper.oracle.latest(keeper.token)  # type: ignore[attr-defined]
        ref = self.price_at(now)
        return abs(reported / WAD - ref) / ref


def _amm_key(amm: AmmVenue) -> str:
    """The actors' bookkeeping key of an AMM: its WETH/USDC pool (one chain may host several)."""
    return "amm:" + amm.weth_usdc.address

"""The one-chain runners: ``atomic`` (one composer transaction) and ``sequential`` (one
transaction per block).

Both run on chain A of a :class:`~scenarios.World`, inside :meth:`World.session` (reverted to
the post-deployment anchor afterwards), with the same market actors on the same seeded price
path. The run starts at the world's start time t0: the keepers report S0, the user receives
the notional, the t0 quote is taken; the first transaction lands one block later.

``sequential`` interprets any :class:`~scenarios.Scenario`; each transaction goes in its own
block, ``block_time`` apart (chain A's configured block time). The refinance is six
transactions — the fronter repays the user's market debt from its USDC inventory, the user
withdraws the collateral, locks it in the vault, draws the DAI quoted for the debt, swaps it
to USDC and repays the fronter — because an externally owned account cannot hold a flash
mint across blocks; the fronting is therefore explicit and measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from chains import Contract, ContractFunction, Receipt, TransactionReverted
from scenarios.model import (
    SWAP_BORROW_REFINANCE,
    Borrow,
    Holdings,
    MarketConfig,
    PricePath,
    Recorder,
    Refinance,
    RunResult,
    RunSpec,
    Scenario,
    ScenarioConfigError,
    Step,
    SupplyCollateral,
    Swap,
)
from scenarios.runners._actors import Keeper, MarketActors
from scenarios.world import AmmVenue, CdpVenue, LendingVenue, World, fetch_token0

__all__ = ["AtomicRunner", "RunState", "SequentialRunner"]

logger = logging.getLogger(__name__)

WAD = 10**18
USDC = 10**6
MAX_UINT256 = 2**256 - 1


def to_wad(value: float) -> int:
    """A fraction as an 18-decimal integer, exactly through its decimal text (rounded down)."""
    return int((Decimal(str(value)) * WAD).to_integral_value(rounding=ROUND_FLOOR))


class StepFailed(Exception):
    """A step's transaction reverted; carries what the recorder needs."""

    def __init__(self, step: str, chain: str, reason: str | None, gas: int = 0) -> None:
        super().__init__(f"{step} on {chain}: {reason}")
        self.step = step
        self.chain = chain
        self.reason = reason
        self.gas = gas


@dataclass
class RunState:
    """One run in progress: the world, the spec, the actors, the recorder, the clock cursor."""

    world: World
    spec: RunSpec
    market: MarketConfig
    amm: AmmVenue
    lending: LendingVenue
    cdp: CdpVenue
    keepers: dict[str, Keeper]
    actors: MarketActors = field(init=False)
    rec: Recorder = field(init=False)
    t0: float = field(init=False)
    owed_to_fronter: float = 0.0
    #: WETH the fronter fronted in kind (inventory-based plans) and is still owed.
    owed_weth: float = 0.0
    quote: Holdings = field(default_factory=lambda: Holdings(0.0, 0.0))
    #: Reads already answered at the one state of :meth:`reads_at_one_state`, else None.
    _one_state: dict[tuple[Any, ...], tuple[Any, TransactionReverted | None]] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        world, spec = self.world, self.spec
        self.t0 = world.start_time
        path = PricePath(
            self.market.weth_price, spec.sigma, spec.drift, tick=self.market.tick, seed=spec.seed
        )
        amms = [self.amm]
        self.actors = MarketActors(
            world, path, self.market, amms, list(self.keepers.values()), seed=spec.seed
        )
        self.rec = Recorder(self.t0, spec.notional)

    @property
    def user(self) -> str:
        return self.world.roles.user

    def begin(self) -> None:
        """Start the actors, fund the user, take the t0 quote, sample health on every tick."""
        self.actors.start(self.t0)
        self.actors.observers.append(lambda now: self.sample_health())
        notional = int(Decimal(str(self.spec.notional)) * USDC)
        self.amm.usdc.mint(self.user, notional, sender=self.world.roles.deployer)
        self.quote = self.fetch_quote(notional)
        self.rec.event(self.t0, self.amm.chain.name, "start", price=self.actors.price_at(self.t0))

    def fetch_quote(self, notional: int) -> Holdings:
        """Holdings the scenario would end with at the t0 quotes (atomic, no market move)."""
        amm, lending, cdp = self.amm, self.lending, self.cdp
        collateral = amm.router.get_amounts_out(notional, [amm.usdc.address, amm.weth.address])[1]
        borrowed = (
            lending.market.collateral_to_loan(collateral) * to_wad(self.spec.target_ltv) // WAD
        )
        dai_in = amm.router.get_amounts_in(borrowed, [amm.dai.address, amm.usdc.address])[0]
        dai_debt = dai_in + cdp.vault.flash_fee(dai_in)
        return Holdings(usd=borrowed / USDC - dai_debt / WAD, weth=collateral / WAD)

    def advance(self, t: float) -> float:
        """Move the clock to ``t`` (market actors act on the way)."""
        self.world.devnet.advance_to(max(t, self.world.devnet.now))
        return self.world.devnet.now

    def send(
        self, step: str, chain_name: str, event: str, fn: Any, *args: Any, sender: str, **extra: Any
    ) -> Receipt:
        """Transact ``fn(*args)`` from ``sender``; record it or raise :class:`StepFailed`."""
        now = self.world.devnet.now
        try:
            receipt: Receipt = fn.transact(*args, sender=sender)
        except TransactionReverted as exc:
            gas = exc.receipt.gas_used if exc.receipt is not None else 0
            raise StepFailed(step, chain_name, exc.reason, gas) from exc
        extra.setdefault("price", self.actors.price_at(now))
        self.rec.tx(now, chain_name, event, receipt, step=step, **extra)
        keeper = self.keepers.get(chain_name)
        if keeper is not None:
            self.rec.oracle_gaps.append(self.actors.fetch_oracle_gap(keeper, now))
        self.sample_health()
        return receipt

    def book_swap(self, chain_name: str, receipt: Receipt, sell: str, buy: str) -> None:
        """Record the change of the user's WETH exposure a router swap made (its return
        value is ``[amount_in, amount_out]``)."""
        if "WETH" not in (sell, buy):
            return
        amounts = list(receipt.return_value)
        dw = amounts[-1] / WAD if buy == "WETH" else -amounts[0] / WAD
        now = self.world.devnet.now
        self.rec.exposure(now, chain_name, dw, self.actors.price_at(now))

    def view(self, fn: ContractFunction, *args: Any) -> Any:
        """``fn(*args)``, a view; inside :meth:`reads_at_one_state` each read (contract and
        calldata) is asked once (its result or its revert), since the state stands still."""
        memo = self._one_state
        if memo is None:
            return fn(*args)
        key = (fn.contract.chain.chain_id, fn.contract.address, fn.encode(*args))
        hit = memo.get(key)
        if hit is None:
            try:
                hit = memo[key] = (fn(*args), None)
            except TransactionReverted as exc:
                hit = memo[key] = (None, exc)
        if hit[1] is not None:
            raise hit[1]
        return hit[0]

    @contextlib.contextmanager
    def reads_at_one_state(self) -> Iterator[None]:
        """A scope in which nothing is sent and the clock stands still (the caller's
        promise): :meth:`view` answers a repeated read from the first."""
        self._one_state = {}
        try:
            yield
        finally:
            self._one_state = None

    def sample_health(self) -> None:
        """Append the user's market HF and vault ratio / liquidation ratio, if open."""
        user, market, vault, view = self.user, self.lending.market, self.cdp.vault, self.view
        try:
            if view(market.debt_of, user) > 0:
                self.rec.health.append(view(market.health_factor, user) / WAD)
            if view(vault.debt_of, user) > 0:
                ratio = view(vault.collateral_ratio, user) / WAD
                self.rec.health.append(ratio / (view(vault.liquidation_ratio) / WAD))
        except TransactionReverted as exc:  # a stale oracle: no sample this time
            logger.debug("health sample skipped: %s", exc.reason)

    def fetch_holdings(self) -> Holdings:
        """The user's holdings (u, w) on the one-chain layout, plus what it owes the fronter."""
        user, amm, lending, cdp, view = self.user, self.amm, self.lending, self.cdp, self.view
        plain = amm.usdc.balanceOf(user) / USDC
        usd = (
            plain
            + amm.dai.balanceOf(user) / WAD
            - view(lending.market.debt_of, user) / USDC
            - view(cdp.vault.debt_of, user) / WAD
            - self.owed_to_fronter
        )
        weth = (
            amm.weth.balanceOf(user)
            + view(lending.market.collateral, user)
            + view(cdp.vault.ink, user)
        ) / WAD
        if self.owed_weth:
            weth -= self.owed_weth
        return Holdings(usd=usd, weth=weth, plain_usd=plain - self.owed_to_fronter)

    def fetch_unwind_state(self) -> dict[str, float]:
        """What the unwind valuation needs from the end state: open debt (USD), the
        fronter's unpaid claim and the WETH/USDC pool's USDC reserve."""
        debt = (
            self.view(self.lending.market.debt_of, self.user) / USDC
            + self.view(self.cdp.vault.debt_of, self.user) / WAD
        )
        reserves = self.amm.weth_usdc.get_reserves()
        token0 = fetch_token0(self.amm.weth_usdc)
        is_usdc0 = str(token0).lower() == str(self.amm.usdc.address).lower()
        pool_usd = (reserves[0] if is_usdc0 else reserves[1]) / USDC
        return {"debt": debt, "owed": self.owed_to_fronter, "pool_usd": pool_usd}

    def is_liquidatable(self) -> bool:
        """Whether a position of the user is below HF 1 now."""
        user, market, vault, view = self.user, self.lending.market, self.cdp.vault, self.view
        try:
            if view(market.debt_of, user) > 0 and view(market.health_factor, user) < WAD:
                return True
            return bool(view(vault.debt_of, user) > 0 and not view(vault.is_safe, user))
        except TransactionReverted:
            return False

    def finish(
        self,
        extra_holdings: Holdings | None = None,
        *,
        end: float | None = None,
        is_sampled: bool = False,
    ) -> RunResult:
        """Stop the actors, value the end state, apply the metric formulas. ``end`` is the
        run's end T (default: the last commit; a runner that gave up passes that moment).
        ``is_sampled``: health was sampled at this very state (the caller's last
        :meth:`send`, nothing after it), so the sample is not taken again.

        Valuing sends nothing and the clock stands still: each view is read once
        (:meth:`reads_at_one_state`)."""
        now = self.world.devnet.now
        if end is None:
            end = max(self.rec.commits) if self.rec.commits else now
        with self.reads_at_one_state():
            return self._finish_at(end, extra_holdings, is_sampled=is_sampled)

    def _finish_at(
        self, end: float, extra_holdings: Holdings | None, *, is_sampled: bool
    ) -> RunResult:
        if not is_sampled:
            self.sample_health()
        self.actors.stop()
        holdings = self.fetch_holdings()
        if extra_holdings is not None:
            holdings = Holdings(
                holdings.usd + extra_holdings.usd,
                holdings.weth + extra_holdings.weth,
                holdings.plain_usd + extra_holdings.plain_usd,
            )
        p0 = self.actors.price_at(self.t0)
        p_end = self.actors.price_at(end)
        # exposure the swaps did not record (a one-transaction batch, a liquidation) is
        # booked at the end, so the exposure curve ends at the end holdings
        self.rec.exposure(
            end, "-", holdings.weth - self.rec.exposure_weth, self.actors.price_at(end)
        )
        metrics = self.rec.metrics(
            end=end,
            p0=p0,
            p_end=p_end,
            holdings=holdings,
            quote=self.quote,
            lvr_usdc=self.actors.lvr_usdc,
            liquidatable=self.is_liquidatable(),
        )
        self.rec.event(
            end,
            "-",
            "holdings",
            usd=holdings.usd,
            weth=holdings.weth,
            price=p_end,
            arb_trades=self.actors.arb_trades,
            keeper_reports=self.actors.keeper_reports,
            backrun_usdc=self.actors.backrun_usdc,
            **self.fetch_unwind_state(),
        )
        return RunResult(
            spec=self.spec,
            metrics=metrics,
            capital_in_flight=list(self.rec.flight),
            timeline=list(self.rec.timeline),
        )


def one_chain_state(world: World, spec: RunSpec, market: MarketConfig) -> RunState:
    """A :class:`RunState` on chain A's suite."""
    suite = world.suite
    keeper = Keeper(
        suite.chain.name,
        suite.chain,
        suite.oracle,
        suite.weth.address,
        is_delayed=suite.config.oracle_delay > 0,
    )
    return RunState(
        world, spec, market, world.amm, world.lending, world.cdp, {suite.chain.name: keeper}
    )


def _market_for(world: World, market: MarketConfig | None) -> MarketConfig:
    cfg = market if market is not None else MarketConfig()
    return dataclasses.replace(cfg, weth_price=world.suite.config.weth_price)


class AtomicRunner:
    """``atomic``: the whole scenario in one composer transaction, all or nothing."""

    name = "atomic"

    def __init__(
        self, scenario: Scenario = SWAP_BORROW_REFINANCE, market: MarketConfig | None = None
    ) -> None:
        if scenario.steps != SWAP_BORROW_REFINANCE.steps:
            raise ScenarioConfigError(
                f"atomic mode runs the composer's scenario only "
                f"({SWAP_BORROW_REFINANCE.name}); {scenario.name!r} differs"
            )
        self.scenario = scenario
        self.market = market

    def run(self, world: World, spec: RunSpec) -> RunResult:
        """One composer ``run`` one block after t0; a revert leaves nothing behind."""
        world.check_spec(spec)
        with world.session():
            state = one_chain_state(world, spec, _market_for(world, self.market))
            state.begin()
            amm, cdp, user = state.amm, state.cdp, state.user
            chain = amm.chain.name
            state.advance(state.t0 + amm.chain.config.block_time)
            notional = amm.usdc.balanceOf(user)
            collateral_q = amm.router.get_amounts_out(
                notional, [amm.usdc.address, amm.weth.address]
            )[1]
            borrowed_q = (
                state.lending.market.collateral_to_loan(collateral_q)
                * to_wad(spec.target_ltv)
                // WAD
            )
            dai_q = amm.router.get_amounts_in(borrowed_q, [amm.dai.address, amm.usdc.address])[0]
            params = (
                notional,
                collateral_q * to_wad(1 - spec.slippage) // WAD,
                to_wad(spec.target_ltv),
                dai_q * to_wad(1 + spec.slippage) // WAD,
                cdp.vault.liquidation_ratio(),
                int(world.devnet.now) + 600,
            )
            try:
                receipt = state.send(
                    "swap+borrow+refinance",
                    chain,
                    "composer.run",
                    world.suite.composer.run,
                    params,
                    sender=user,
                )
            except StepFailed as failure:
                step = _atomic_failed_step(failure.reason)
                state.rec.failed(world.devnet.now, chain, step, failure.reason, gas=failure.gas)
            else:
                state.actors.touched.update({amm.weth_usdc.address, amm.dai_usdc.address})
                for ev in receipt.events:
                    if ev.name == "Swap" and ev.address == amm.weth_usdc.address:
                        state.rec.swap_fee(notional / USDC)
                    elif ev.name == "Swap" and ev.address == amm.dai_usdc.address:
                        dai_in = ev.args["amount0_in"] + ev.args["amount1_in"]
                        state.rec.swap_fee(dai_in / WAD)
                    elif ev.name == "FlashMint":
                        state.rec.flash_fee(ev.args["fee"] / WAD)
            return state.finish()


class SequentialRunner:
    """``sequential``: one transaction per block on one chain (see the module docstring)."""

    name = "sequential"

    def __init__(
        self, scenario: Scenario = SWAP_BORROW_REFINANCE, market: MarketConfig | None = None
    ) -> None:
        self.scenario = scenario
        self.market = market

    def run(self, world: World, spec: RunSpec) -> RunResult:
        world.check_spec(spec)
        with world.session():
            state = one_chain_state(world, spec, _market_for(world, self.market))
            state.begin()
            block_time = state.amm.chain.config.block_time
            cursor = [state.t0]

            def next_block() -> None:
                cursor[0] += block_time
                state.advance(cursor[0])

            try:
                for step in self.scenario.steps:
                    _run_step(state, spec, step, next_block)
            except StepFailed as failure:
                state.rec.failed(
                    world.devnet.now, failure.chain, failure.step, failure.reason, gas=failure.gas
                )
            return state.finish()


def _run_step(state: RunState, spec: RunSpec, step: Step, next_block: Any) -> None:
    """Execute one scenario step on the one-chain layout, one transaction per block."""
    amm, lending, user = state.amm, state.lending, state.user
    chain = amm.chain.name
    tokens = {"USDC": amm.usdc, "WETH": amm.weth, "DAI": amm.dai}
    if isinstance(step, Swap):
        next_block()
        token_in: Contract = tokens[step.token_in]
        amount = token_in.balanceOf(user)
        path = [token_in.address, tokens[step.token_out].address]
        slippage = spec.slippage if step.slippage is None else step.slippage
        if amount == 0:
            raise StepFailed(step.name, chain, f"no {step.token_in} to swap")
        quote = amm.router.get_amounts_out(amount, path)[1]
        min_out = quote * to_wad(1 - slippage) // WAD
        deadline = int(state.world.devnet.now) + 600
        receipt = state.send(
            step.name,
            chain,
            "swap",
            amm.router.swap_exact_tokens_for_tokens,
            amount,
            min_out,
            path,
            user,
            deadline,
            sender=user,
        )
        state.book_swap(chain, receipt, step.token_in, step.token_out)
        state.rec.swap_fee(_usd(step.token_in, amount, state))
        pool = amm.dai_usdc if "DAI" in (step.token_in, step.token_out) else amm.weth_usdc
        state.actors.touched.add(pool.address)
    elif isinstance(step, SupplyCollateral):
        next_block()
        amount = amm.weth.balanceOf(user)
        state.send(
            step.name,
            chain,
            "supply_collateral",
            lending.market.supply_collateral,
            amount,
            user,
            sender=user,
        )
    elif isinstance(step, Borrow):
        next_block()
        ltv = spec.target_ltv if step.target_ltv is None else step.target_ltv
        value = lending.market.collateral_to_loan(lending.market.collateral(user))
        amount = value * to_wad(ltv) // WAD
        state.send(step.name, chain, "borrow", lending.market.borrow, amount, user, sender=user)
    elif isinstance(step, Refinance):
        _refinance(state, spec, step, next_block)
    else:  # pragma: no cover - Step is a closed union
        raise ScenarioConfigError(f"unknown step {step!r}")


def _refinance(state: RunState, spec: RunSpec, step: Refinance, next_block: Any) -> None:
    amm, lending, cdp, user = state.amm, state.lending, state.cdp, state.user
    fronter = state.world.roles.fronter
    chain = amm.chain.name
    name = step.name
    slippage = spec.slippage if step.slippage is None else step.slippage
    next_block()
    receipt = state.send(
        name, chain, "front_repay", lending.market.repay, MAX_UINT256, user, sender=fronter
    )
    fronted = int(receipt.return_value)
    state.rec.fronted_usdc = fronted / USDC
    state.rec.fronted_at = state.world.devnet.now
    state.owed_to_fronter = fronted / USDC
    next_block()
    collateral = lending.market.collateral(user)
    state.send(
        name,
        chain,
        "withdraw_collateral",
        lending.market.withdraw_collateral,
        collateral,
        user,
        sender=user,
    )
    next_block()
    state.send(name, chain, "lock", cdp.vault.lock, collateral, user, sender=user)
    next_block()
    dai_in = amm.router.get_amounts_in(fronted, [amm.dai.address, amm.usdc.address])[0]
    state.send(name, chain, "draw", cdp.vault.draw, dai_in, user, sender=user)
    next_block()
    min_out = fronted * to_wad(1 - slippage) // WAD
    path = [amm.dai.address, amm.usdc.address]
    deadline = int(state.world.devnet.now) + 600
    state.send(
        name,
        chain,
        "swap_dai",
        amm.router.swap_exact_tokens_for_tokens,
        dai_in,
        min_out,
        path,
        user,
        deadline,
        sender=user,
    )
    state.rec.swap_fee(dai_in / WAD)
    state.actors.touched.add(amm.dai_usdc.address)
    next_block()
    pay = min(fronted, amm.usdc.balanceOf(user))
    state.send(name, chain, "repay_fronter", amm.usdc.transfer, fronter, pay, sender=user)
    state.owed_to_fronter = (fronted - pay) / USDC
    if pay == fronted:
        state.rec.repaid_at = state.world.devnet.now


def _atomic_failed_step(reason: str | None) -> str:
    """The scenario step a composer revert belongs to, from the reason's contract prefix
    (the whole transaction reverted either way: the outcome is ``reverted``)."""
    prefix = (reason or "").split(":", 1)[0]
    return {"router": "swap", "amm": "swap", "market": "borrow", "cdp": "refinance"}.get(
        prefix, "run"
    )


def _usd(symbol: str, amount: int, state: RunState) -> float:
    """USD value of ``amount`` base units of ``symbol`` at the current reference price."""
    if symbol == "USDC":
        return amount / USDC
    if symbol == "DAI":
        return amount / WAD
    return amount / WAD * state.actors.price_at(state.world.devnet.now)

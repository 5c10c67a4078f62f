"""``atomic``: any one-chain plan in one transaction, through the user's batch executor.

The user's account is the world's :file:`contracts/BatchExecutor.vy` (``World.batch_executor``,
deployed with the world, before its anchor; owner: the user's key; allowances to the
router, the market and the vault granted at deployment), so the user's tokens and
positions are the account's. At t0 the account receives the notional
and the plan's t0 quote is taken; one block later the walk of the plan at that state
(``scenarios/plan/_walk.py``) builds the batch — each swap guarded at its quote at
submission less the slippage, each whole-holding amount patched from the account's balance
when the call runs, the refinance a flash mint whose callback repays the market, moves the
collateral into the vault and draws the DAI back plus the fee — and the user sends it as one
``execute`` transaction. A revert anywhere leaves nothing behind (outcome ``reverted``; the
failed step is read from the revert reason's contract prefix).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from scenarios.model import MarketConfig, RunResult, RunSpec
from scenarios.plan import Plan, ScenarioError
from scenarios.runners._actors import Keeper
from scenarios.runners._interpreter import EXECUTIONS
from scenarios.runners._legs import Binding, Execution, PlanContext
from scenarios.runners._one_chain import RunState, StepFailed
from scenarios.runners._walk import walk_plan
from scenarios.world import World

__all__ = ["AtomicExecution", "AtomicState"]

#: Which scenario step a revert belongs to, by the reason's contract prefix → step kind.
_PREFIX_KIND = {"router": "swap", "amm": "swap", "market": "borrow", "cdp": "refinance"}


@dataclass
class AtomicState(RunState):
    """A one-chain :class:`RunState` whose user is the batch-executor account."""

    account: str = ""

    @property
    def user(self) -> str:
        return self.account


class AtomicExecution(Execution):
    """``atomic``: see the module docstring."""

    name = "atomic"

    def make_state(
        self, world: World, spec: RunSpec, plan: Plan, binding: Binding, market: MarketConfig
    ) -> RunState:
        if not binding.is_one_chain:
            raise ScenarioError(
                f"atomic runs a one-chain plan; placement {plan.placement.text()} spans chains"
            )
        suite = world.suite
        account = world.batch_executor
        keeper = Keeper(
            suite.chain.name,
            suite.chain,
            suite.oracle,
            suite.weth.address,
            is_delayed=suite.config.oracle_delay > 0,
        )
        self.account = account
        return AtomicState(
            world,
            spec,
            market,
            world.amm,
            world.lending,
            world.cdp,
            {suite.chain.name: keeper},
            account=account.address,
        )

    def run(self, ctx: PlanContext) -> RunResult:
        state = ctx.state
        world = state.world
        chain = state.amm.chain
        state.advance(state.t0 + chain.config.block_time)
        now = world.devnet.now
        walk = walk_plan(
            ctx.plan,
            ctx.binding,
            notional=_start(ctx),
            account=ctx.user,
            target_ltv=ctx.spec.target_ltv,
            slippage=ctx.spec.slippage,
            price=state.actors.price_at(now),
            deadline=int(now) + 600,
            emit=True,
            recipients=dataclasses.asdict(world.roles),
        )
        steps = "+".join(s.id for s in ctx.plan.scenario.steps)
        try:
            state.send(
                steps,
                chain.name,
                "batch.execute",
                self.account.execute,
                [c.as_struct() for c in walk.calls],
                sender=world.roles.user,
                calls=len(walk.calls),
            )
        except StepFailed as failure:
            step = _failed_step(ctx, failure.reason)
            state.rec.failed(world.devnet.now, chain.name, step, failure.reason, gas=failure.gas)
            return state.finish()
        for leg in ctx.plan.legs:
            if leg.action == "swap":
                amm = ctx.binding.amm.get(leg.venue or "", state.amm)
                pool = amm.dai_usdc if "DAI" in (leg.param("sell"), leg.param("buy")) else None
                state.actors.touched.add((pool or amm.weth_usdc).address)
        for fee in walk.fees:
            state.rec.fees_usdc += fee
        state.rec.flash_fees_usdc += sum(walk.flash_fees)
        # the batch's send sampled health after it, and nothing was sent since
        return state.finish(is_sampled=True)


def _start(ctx: PlanContext) -> int:
    """The account's holding of the scenario's start asset now."""
    asset = ctx.plan.scenario.start_asset
    return ctx.balance(asset, "A")


def _failed_step(ctx: PlanContext, reason: str | None) -> str:
    """The scenario step a batch revert belongs to (the whole transaction reverted)."""
    kind = _PREFIX_KIND.get((reason or "").split(":", 1)[0])
    for step in ctx.plan.scenario.steps:
        if step.kind == kind:
            return step.id
    return "run"


EXECUTIONS["atomic"] = AtomicExecution

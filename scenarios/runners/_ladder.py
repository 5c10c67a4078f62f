"""The coordination ladder's slot modes: ``superblock`` and ``shared-sequencer``.

Both run the planner's plan on the bridged layout, like ``bridged``, but submit legs as
cross-chain bundles (:meth:`chains.Devnet.bundle`): every leg of a bundle is included in one
slot — one block per chain it touches, one timestamp.

- :class:`SuperblockExecution` (``superblock``): the whole plan is one bundle with atomic
  *execution* (two-phase commit), one block after t0. Each leg executes on its chain's
  pending state; a hop's message is delivered inside the slot (the coordinator relays it on
  the destination's pending state with the bridge's attestation, latency 0); the fronted
  refinance is repaid in the same slot. If any leg fails, every chain rolls back, the run's
  records with them: outcome ``reverted``, no gas paid — as ``atomic``.
- :class:`SharedSequencerExecution` (``shared-sequencer``): one sequencer orders every
  chain, so each run of legs up to and including a hop is one bundle with atomic
  *inclusion* (same slot, each leg executes and may revert on its own). Messages still go
  through the relayer, at the ``interop`` preset (``same-block`` when the spec asks for it):
  the next bundle waits for the delivery. A leg that reverts stops the run there, the legs
  before it stay committed (outcome ``partial``, priced by the cost model's unwind); legs
  after it in the same slot are not sent.

The market: the actors act up to the slot; the touched venues are synced once before it
(the sequencer builds the slot on the latest state) — nothing trades inside a slot.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from typing import Any

from bridge import LatencyModel, get_preset
from chains import Chain, ChainError, InvalidTransaction
from scenarios.model import RunSpec
from scenarios.plan import Leg, ScenarioError
from scenarios.runners._bridged import BridgedState, Delay, Delivery
from scenarios.runners._interpreter import EXECUTIONS, BridgedExecution, _tracked_outputs
from scenarios.runners._legs import HANDLERS, PlanContext
from scenarios.runners._one_chain import StepFailed

__all__ = ["SharedSequencerExecution", "SuperblockExecution", "get_slots"]

Process = Generator[Delay | Delivery, Any, None]


def get_slots(legs: tuple[Leg, ...]) -> list[tuple[Leg, ...]]:
    """The plan's legs cut into slots: a slot ends after a hop (what follows waits for its
    delivery); a ``wait`` leg is a slot of its own."""
    slots: list[tuple[Leg, ...]] = []
    current: list[Leg] = []
    for leg in legs:
        if leg.action == "wait":
            if current:
                slots.append(tuple(current))
                current = []
            slots.append((leg,))
            continue
        current.append(leg)
        if leg.action == "hop":
            slots.append(tuple(current))
            current = []
    if current:
        slots.append(tuple(current))
    return slots


class _SlotExecution(BridgedExecution):
    """What both slot modes share: legs as bundle legs, the failure they met."""

    #: Whether a hop's message is delivered inside the slot (superblock) or by the relayer.
    is_delivered_in_slot = False

    def __init__(self, *, latency: LatencyModel | None = None) -> None:
        super().__init__(latency=latency)
        self.failure: tuple[Leg, StepFailed] | None = None
        self.messages: dict[int, str] = {}  # hop leg n → message id

    def sync_before_slot(self, ctx: PlanContext) -> None:
        """Bring every venue and keeper up to the slot's time (no trades inside a slot)."""
        state = ctx.state
        assert isinstance(state, BridgedState)
        amms = list({id(a): a for a in ctx.binding.amm.values()}.values())
        state.actors.sync(ctx.now(), amms=amms, keepers=list(state.keepers.values()))

    def bundle_leg(self, ctx: PlanContext, leg: Leg) -> Callable[[Chain], Any]:
        """``leg`` as a bundle leg: runs its handler on the chain's pending state."""

        def call(chain: Chain) -> Any:
            if self.failure is not None:
                failed = self.failure[0]
                raise InvalidTransaction(f"not sent: leg {failed.n} failed earlier in the slot")
            try:
                self._run_leg(ctx, leg)
            except StepFailed as failure:
                self.failure = (leg, failure)
                raise InvalidTransaction(failure.reason or "step failed") from failure
            return chain.last_receipt

        return call

    def _run_leg(self, ctx: PlanContext, leg: Leg) -> None:
        tracked = _tracked_outputs(ctx, leg)
        before = {a: ctx.balance(a, leg.chain) for a in tracked}
        for wait in HANDLERS[leg.action](ctx, leg):
            if not isinstance(wait, Delivery):
                raise ScenarioError(f"leg {leg.n} ({leg.action}) waits: it has no form in a slot")
            self.messages[leg.n] = wait.message_id
            if self.is_delivered_in_slot:
                _deliver_in_slot(ctx, leg, wait.message_id)
        for asset in tracked:
            got = ctx.balance(asset, leg.chain) - before[asset]
            bucket = ctx.received.setdefault(leg.step, {})
            bucket[asset] = bucket.get(asset, 0) + max(0, got)


class SuperblockExecution(_SlotExecution):
    """``superblock``: see the module docstring."""

    name = "superblock"
    is_delivered_in_slot = True

    def hop_preset(self, spec: RunSpec) -> str:
        """Messages inside a superblock execute in the slot: ``same-block``."""
        return "same-block"

    def latency_model(self, spec: RunSpec) -> LatencyModel:
        """The latency of :meth:`hop_preset` (it sets the actor cadence; no message waits
        for the relayer): the spec's bridge preset does not change a superblock run."""
        return get_preset(self.hop_preset(spec))

    def process(self, ctx: PlanContext) -> Process:
        legs = ctx.plan.legs
        waits = [leg for leg in legs if leg.action == "wait"]
        if waits:
            raise ScenarioError(
                f"superblock: step {waits[0].step!r} waits {waits[0].param('seconds'):g} s; "
                "a superblock is one slot"
            )
        yield Delay(ctx.chain(legs[0].chain).config.block_time)
        self.sync_before_slot(ctx)
        saved = _save(ctx)
        devnet = ctx.state.world.devnet
        try:
            devnet.bundle([(leg.chain, self.bundle_leg(ctx, leg)) for leg in legs])
        except ChainError as exc:
            _restore(ctx, saved)
            if self.failure is None:
                raise
            leg, failure = self.failure
            # rolled back: nothing was included, no gas was paid
            raise StepFailed(failure.step, failure.chain, failure.reason, 0) from exc


class SharedSequencerExecution(_SlotExecution):
    """``shared-sequencer``: see the module docstring."""

    name = "shared-sequencer"

    def hop_preset(self, spec: RunSpec) -> str:
        """The sequencer's interop: ``same-block`` if the spec asks for it, else ``interop``
        (the spec's bridge preset does not apply to its messages)."""
        return "same-block" if spec.latency == "same-block" else "interop"

    def latency_model(self, spec: RunSpec) -> LatencyModel:
        """The latency of :meth:`hop_preset`."""
        return get_preset(self.hop_preset(spec))

    def process(self, ctx: PlanContext) -> Process:
        devnet = ctx.state.world.devnet
        for slot in get_slots(ctx.plan.legs):
            if slot[0].action == "wait":
                yield Delay(float(slot[0].param("seconds")))
                continue
            yield Delay(ctx.chain(slot[0].chain).config.block_time)
            self.sync_before_slot(ctx)
            devnet.bundle(
                [(leg.chain, self.bundle_leg(ctx, leg)) for leg in slot], atomic_execution=False
            )
            if self.failure is not None:
                raise self.failure[1]
            if slot[-1].action == "hop":
                yield Delivery(self.messages[slot[-1].n])


def _deliver_in_slot(ctx: PlanContext, leg: Leg, message_id: str) -> None:
    """Relay the message ``leg``'s hop just sent, on the destination's pending state (the
    superblock coordinator holds every chain's slot), and book its arrival."""
    state = ctx.state
    assert isinstance(state, BridgedState)
    relayer = state.layout.relayer
    deployment = relayer.deployment
    source = ctx.chain(leg.chain)
    assert source.last_receipt is not None
    message = deployment.message_from_receipt(source, source.last_receipt)
    receipt = deployment.relay(message, sender=relayer.account)
    transfer = state.in_flight.pop(message_id)
    state.flight_usd -= transfer.value
    now = ctx.now()
    state.flight(now)
    state.rec.event(
        now,
        transfer.dest,
        "delivered",
        hop=transfer.hop,
        message=message_id,
        latency_s=0.0,
        tx="0x" + bytes(receipt.tx_hash).hex(),
    )


def _save(ctx: PlanContext) -> dict[str, Any]:
    """The run's own records a rolled-back superblock must forget (the chains, clock and
    relayer are the devnet's snapshot)."""
    state = ctx.state
    assert isinstance(state, BridgedState)
    return {
        "rec": copy.deepcopy(state.rec),
        "owed_to_fronter": state.owed_to_fronter,
        "in_flight": dict(state.in_flight),
        "flight_usd": state.flight_usd,
        "open_positions": set(state.open_positions),
        "health_at": list(state.health_at),
        "touched": set(state.actors.touched),
        "received": copy.deepcopy(ctx.received),
        "fronted": ctx.fronted,
    }


def _restore(ctx: PlanContext, saved: dict[str, Any]) -> None:
    state = ctx.state
    assert isinstance(state, BridgedState)
    state.rec = saved["rec"]
    state.owed_to_fronter = saved["owed_to_fronter"]
    state.in_flight = saved["in_flight"]
    state.flight_usd = saved["flight_usd"]
    state.open_positions = saved["open_positions"]
    state.health_at = saved["health_at"]
    state.actors.touched = saved["touched"]
    ctx.received = saved["received"]
    ctx.fronted = saved["fronted"]


EXECUTIONS["superblock"] = SuperblockExecution
EXECUTIONS["shared-sequencer"] = SharedSequencerExecution

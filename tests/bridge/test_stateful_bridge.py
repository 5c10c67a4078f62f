"""Invariant suite for the bridge with its relayer: a hypothesis state machine.

Rules: send tokens out and home, send plain messages, let the relayer relay one now,
relay a delivered message again, relay a corrupted one, relay on the wrong chain, relay
to a privileged target, crash the relayer at a named point, restart it on its SQLite
file, advance time, expire and refund by hand, and reorg a chain below the relayer's
confirmations (:data:`CONFIRMATIONS` blocks; the orphaned transactions discarded or
re-mined from the pool). After every step: locked on the home chain == wrapped supply +
tokens in flight; every message executed at most once; no refunded message ever
delivered; the relayer's store agrees with the chains; no unbacked mint. At the end
(teardown) the relayer is restarted if it crashed, every chain gets its confirmations and
time runs out: every message with an open deadline is delivered (unless a reorg discarded
its send: then never), the others delivered or refunded, and locked == supply.

Budgets: the ``ci`` profile runs :data:`EXAMPLES` ``["ci"]`` = 200 examples, ``slow``
10,000 (``pytest tests/bridge/test_stateful_bridge.py --hypothesis-profile=slow``;
``BRIDGE_MACHINE_EXAMPLES=N`` sets another count by hand).
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge_helpers import World
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from relayer_helpers import MAX_UINT256, hypothesis_profile

from bridge import CRASH_POINTS, Message, MessageStore, Relayer, RelayerCrash, StoreError
from chains import Chain, TransactionReverted

logger = logging.getLogger(__name__)

#: Examples per hypothesis profile (the issue asks ≥ 200 in CI, 10,000 in the slow run).
EXAMPLES = {"dev": 25, "ci": 200, "slow": 10_000}
#: Steps per example: short, so 200 examples stay well under a minute.
STEPS = {"dev": 10, "ci": 8, "slow": 20}
#: The relayer's latency in the machine: solver fills, 1.5 s to 10 min.
LATENCY = "intent-fill"
#: The relayer's confirmations in the machine; reorgs are at most this deep.
CONFIRMATIONS = 2

AMOUNTS = st.integers(min_value=1, max_value=10**9)
#: A deadline far away (never expires) or within the next few minutes.
DEADLINES = st.one_of(st.just(None), st.integers(min_value=5, max_value=900))


def _budget() -> tuple[int, int]:
    """(examples, steps) for the loaded profile; ``BRIDGE_MACHINE_EXAMPLES=N`` overrides
    the example count for a long run by hand."""
    profile = hypothesis_profile()
    examples = int(os.environ.get("BRIDGE_MACHINE_EXAMPLES", EXAMPLES[profile]))
    return examples, STEPS[profile]


@dataclass
class OnChain:
    """What the messengers' logs say: deliveries (counted), expiries, refunds."""

    delivered: dict[bytes, int] = field(default_factory=dict)
    expired: set[bytes] = field(default_factory=set)
    refunded: set[bytes] = field(default_factory=set)


class BridgeMachine(RuleBasedStateMachine):
    """The world's bridge and a relayer on a file store, against a ghost list of every
    message sent and what it carries."""

    messages = Bundle("messages")

    def __init__(
        self,
        world: World,
        directory: Path,
        counter: itertools.count[int],
        reorgs: dict[str, int],
    ) -> None:
        super().__init__()
        self.reorgs = reorgs
        self.world = world
        self.devnet = world.devnet
        self.snapshot_id = self.devnet.snapshot()
        #: the deployment's blocks: the machine's reorgs never reach below them
        self.start_heads = {c.chain_id: c.block_number for c in self.devnet.chains}
        self.store_path = directory / f"machine-{next(counter)}.sqlite"
        self.relayer = self._new_relayer()
        self.is_crashed = False
        self.crashes = 0
        # ghost state: every message sent, with the token amount it carries (0: none)
        self.sent: dict[bytes, Message] = {}
        self.amount: dict[bytes, int] = {}
        self.is_privileged: dict[bytes, bool] = {}
        self.is_open_ended: dict[bytes, bool] = {}
        #: messages whose send a reorg discarded (never to be delivered)
        self.orphaned: set[bytes] = set()
        self._cache: tuple[tuple[int, ...], OnChain] | None = None

    def _new_relayer(self) -> Relayer:
        relayer = Relayer(
            self.devnet,
            self.world.deployment,
            store=MessageStore(self.store_path),
            latency=LATENCY,
            confirmations=CONFIRMATIONS,
            account=self.world.roles.relayer,
        )
        return relayer.start()

    def teardown(self) -> None:
        try:
            self._finish()
        finally:
            self.relayer.stop()
            self.relayer.store.close()
            self.devnet.revert(self.snapshot_id)

    def _finish(self) -> None:
        """Let every message settle; check liveness and quiescent equality."""
        if not self.sent:
            return
        if self.is_crashed:
            self.restart()
        for chain in self._chains().values():
            chain.mine(CONFIRMATIONS)  # automine chains: the last sends get their blocks
        self._advance(3 * 3_600.0)
        for mid, message in self.sent.items():
            status, refunded = self._status(message), self._is_refunded(message)
            if mid in self.orphaned:
                assert status == 0 and not refunded, "a message whose send is gone settled"
            elif self.is_privileged[mid]:
                assert status == 2 and refunded, "privileged target: refunded"
            elif self.is_open_ended[mid]:
                assert status == 1, f"message 0x{mid.hex()} with no deadline not delivered"
            else:
                assert status == 1 or (status == 2 and refunded), (
                    f"message 0x{mid.hex()} neither delivered nor refunded"
                )
        assert self._locked() == self._supply(), "quiescent: locked == wrapped supply"
        delivered = self._onchain().delivered
        for chain_id, target in self.world.targets.items():
            expected = sum(
                1
                for m in self.sent.values()
                if m.dest_chain_id == chain_id and m.target == target.address and m.id in delivered
            )
            assert int(target.handled()) == expected, "each target call executed once"
        record_statuses = {m.id: m.status for m in self.relayer.messages()}
        for record_id, status in record_statuses.items():
            if bytes.fromhex(record_id[2:]) in self.orphaned:
                assert status == "orphaned", (record_id, status)
            else:
                assert status in ("executed", "refunded"), (record_id, status)
        assert self.relayer.reconcile() == [], "no unbacked mint"
        note(f"crashes: {self.crashes}, messages: {len(self.sent)}")

    # ------------------------------------------------------------------------ helpers ---
    def _chains(self) -> dict[int, Chain]:
        return {c.chain_id: c for c in (self.world.a, self.world.b, self.world.c)}

    def _remember(self, source: Chain, receipt: Any, amount: int, deadline: int | None) -> Message:
        message = self.world.deployment.message_from_receipt(source, receipt)
        self.sent[message.id] = message
        self.amount[message.id] = amount
        self.is_privileged[message.id] = False
        self.is_open_ended[message.id] = deadline is None
        self.orphaned.discard(message.id)  # the same message sent again
        return message

    def _deadline(self, chain: Chain, offset: int | None) -> int:
        """Open-ended, or ``offset`` seconds after the next block's time."""
        if offset is None:
            return MAX_UINT256
        return max(chain.timestamp + 1, int(self.devnet.now)) + offset

    def _advance(self, seconds: float) -> None:
        end = self.devnet.now + seconds
        while True:
            try:
                self.devnet.advance_to(end)
                return
            except RelayerCrash as crash:
                note(f"relayer crashed: {crash}")
                self.crashes += 1
                self.is_crashed = True
                self.restart()

    def _locked(self) -> int:
        return int(self.world.bridge(self.world.a).locked(self.world.usdc.address))

    def _supply(self) -> int:
        return sum(int(t.totalSupply()) for t in self.world.wusdc.values())

    def _onchain(self) -> OnChain:
        """Deliveries, expiries and refunds read from the messengers' logs (cached per
        chain heads): cheaper than a call per message, and it counts deliveries."""
        chains = (self.world.a, self.world.b, self.world.c)
        key = tuple(c.block_number for c in chains)
        if self._cache is None or self._cache[0] != key:
            view = OnChain()
            for chain in chains:
                for event in self.world.messenger(chain).get_events():
                    if event.name not in ("MessageDelivered", "MessageExpired", "MessageRefunded"):
                        continue
                    mid = bytes(event.args["id"])
                    if event.name == "MessageDelivered":
                        view.delivered[mid] = view.delivered.get(mid, 0) + 1
                    elif event.name == "MessageExpired":
                        view.expired.add(mid)
                    else:
                        view.refunded.add(mid)
            self._cache = (key, view)
        return self._cache[1]

    def _status(self, message: Message) -> int:
        """The destination messenger's status(id): 0 none, 1 delivered, 2 expired."""
        view = self._onchain()
        return 1 if message.id in view.delivered else 2 if message.id in view.expired else 0

    def _is_refunded(self, message: Message) -> bool:
        return message.id in self._onchain().refunded

    # -------------------------------------------------------------------------- rules ---
    @rule(
        target=messages,
        amount=AMOUNTS,
        to_c=st.booleans(),
        offset=DEADLINES,
    )
    def send_tokens(self, amount: int, to_c: bool, offset: int | None) -> Message:
        world = self.world
        dest = world.c if to_c else world.b
        bridge = world.bridge(world.a)
        receipt = bridge.bridge_out.transact(
            world.usdc.address,
            amount,
            dest.chain_id,
            world.roles.user,
            self._deadline(world.a, offset),
            sender=world.roles.user,
        )
        return self._remember(world.a, receipt, amount, offset)

    @rule(target=messages, from_c=st.booleans(), share=st.integers(1, 100), offset=DEADLINES)
    def send_home(self, from_c: bool, share: int, offset: int | None) -> Message:
        world = self.world
        source = world.c if from_c else world.b
        wrapped = world.wusdc[source.chain_id]
        balance = int(wrapped.balanceOf(world.roles.user))
        amount = max(1, balance * share // 100)
        if balance == 0:
            # nothing to burn yet: send tokens out instead (a valid step, never a no-op)
            return self.send_tokens(amount, from_c, offset)
        bridge = world.bridge(source)
        wrapped.approve(bridge.address, amount, sender=world.roles.user)
        receipt = bridge.bridge_out.transact(
            wrapped.address,
            amount,
            world.a.chain_id,
            world.roles.user,
            self._deadline(source, offset),
            sender=world.roles.user,
        )
        return self._remember(source, receipt, amount, offset)

    @rule(target=messages, lane=st.sampled_from(["ab", "ba", "bc", "ca"]), value=AMOUNTS)
    def send_message(self, lane: str, value: int) -> Message:
        chains = {"a": self.world.a, "b": self.world.b, "c": self.world.c}
        source, dest = chains[lane[0]], chains[lane[1]]
        message, receipt = self.world.send(source, dest, value, deadline=MAX_UINT256)
        return self._remember(source, receipt, 0, None)

    @rule(target=messages, lane=st.sampled_from(["ab", "bc"]), to_owner=st.booleans())
    def send_to_privileged_target(self, lane: str, to_owner: bool) -> Message:
        chains = {"a": self.world.a, "b": self.world.b, "c": self.world.c}
        source, dest = chains[lane[0]], chains[lane[1]]
        target = self.world.roles.owner if to_owner else self.world.messenger(dest).address
        receipt = self.world.messenger(source).send_message.transact(
            dest.chain_id,
            target,
            b"\x01\x02",
            self._deadline(source, 300),
            sender=self.world.roles.user,
        )
        message = self._remember(source, receipt, 0, 300)
        self.is_privileged[message.id] = True
        # relaying it is refused: a privileged target never executes
        try:
            self.world.deployment.relay(message, sender=self.world.roles.attacker)
        except TransactionReverted as exc:
            assert exc.reason == "messenger: privileged target", exc.reason
        else:
            raise AssertionError("a message to a privileged target was delivered")
        return message

    @precondition(lambda self: not self.is_crashed)
    @rule(message=messages)
    def relay(self, message: Message) -> None:
        if message.id in self.orphaned:
            return  # its send is gone: relaying it would be a forged mint, not a test
        try:
            self.relayer.relay_now(message.id)
        except RelayerCrash as crash:
            note(f"relayer crashed: {crash}")
            self.crashes += 1
            self.is_crashed = True
        except StoreError as exc:  # the relayer has not observed it yet
            assert "unknown message" in str(exc), exc

    @rule(message=messages)
    def relay_twice(self, message: Message) -> None:
        """Relay by hand with a valid attestation: only a message never delivered,
        expired or refunded may go through, and only once."""
        if message.id in self.orphaned:
            return
        was = self._status(message)
        try:
            self.world.deployment.relay(message, sender=self.world.roles.attacker)
        except TransactionReverted as exc:
            assert (
                was != 0
                or self.is_privileged[message.id]
                or exc.reason == "messenger: message expired"
            ), exc.reason
            return
        assert was == 0 and not self._is_refunded(message), "relayed a finished message"
        assert self._status(message) == 1
        try:
            self.world.deployment.relay(message, sender=self.world.roles.attacker)
        except TransactionReverted as exc:
            assert exc.reason == "messenger: already processed", exc.reason
        else:
            raise AssertionError("a message was delivered twice")

    @rule(message=messages, field=st.sampled_from(["payload", "nonce", "target", "sender"]))
    def relay_corrupted(self, message: Message, field: str) -> None:
        fields = {
            "payload": {"payload": message.payload + b"\x00"},
            "nonce": {"nonce": message.nonce + 1},
            "target": {"target": self.world.roles.attacker},
            "sender": {"sender": self.world.roles.attacker},
        }[field]
        args = {
            "source_chain_id": message.source_chain_id,
            "dest_chain_id": message.dest_chain_id,
            "nonce": message.nonce,
            "sender": message.sender,
            "target": message.target,
            "payload": message.payload,
            "deadline": message.deadline,
            **fields,
        }
        corrupted = Message.from_fields(**args)
        signatures = self.world.deployment.attest_relay(message)  # signed for the original
        try:
            self.world.deployment.relay(corrupted, signatures=signatures)
        except TransactionReverted:
            return
        raise AssertionError(f"a message with a corrupted {field} was delivered")

    @rule(message=messages)
    def relay_on_wrong_chain(self, message: Message) -> None:
        chains = self._chains()
        wrong = next(cid for cid in sorted(chains) if cid != message.dest_chain_id)
        messenger = self.world.messenger(chains[wrong])
        signatures = self.world.deployment.attest_relay(message)
        try:
            messenger.relay_message.transact(
                *message.relay_args(), signatures, sender=self.world.roles.attacker
            )
        except TransactionReverted as exc:
            assert exc.reason == "messenger: wrong destination chain", exc.reason
            return
        raise AssertionError("a message was delivered on the wrong chain")

    @precondition(lambda self: not self.is_crashed)
    @rule(point=st.sampled_from(CRASH_POINTS))
    def crash(self, point: Any) -> None:
        self.relayer.arm_crash(point)

    @rule()
    def restart(self) -> None:
        """Drop the relayer (crashed or not) and start a new one on the same file."""
        self.relayer.stop()
        self.relayer.store.close()
        self.relayer = self._new_relayer()
        self.is_crashed = False

    @rule(seconds=st.sampled_from([0.0, 1.0, 5.0, 30.0, 120.0, 600.0, 1_800.0]))
    def advance_time(self, seconds: float) -> None:
        self._advance(seconds)

    @rule(message=messages)
    def expire(self, message: Message) -> None:
        """Expire by hand (anyone can, with the relay attestation)."""
        if message.id in self.orphaned:
            return
        self._advance(0)  # the relayer acts on what is due first
        try:
            self.world.deployment.expire(message, sender=self.world.roles.attacker)
        except TransactionReverted as exc:
            assert exc.reason in (
                "messenger: not expired yet",
                "messenger: already processed",
            ), exc.reason
            return
        assert self._status(message) == 2

    @rule(message=messages)
    def refund(self, message: Message) -> None:
        """Refund by hand once expired; afterwards it can never be relayed. (Honest
        attesters sign an expiry only after seeing it on the destination.)"""
        if self._status(message) != 2 or message.id in self.orphaned:
            return
        try:
            self.world.deployment.refund(message, sender=self.world.roles.attacker)
        except TransactionReverted as exc:
            assert exc.reason == "messenger: already refunded", exc.reason
            assert self._is_refunded(message)
            return
        assert self._status(message) == 2
        try:
            self.world.deployment.relay(message, sender=self.world.roles.attacker)
        except TransactionReverted:
            return
        raise AssertionError("a refunded message was relayed")

    @rule(
        chain=st.sampled_from("abc"),
        depth=st.integers(min_value=1, max_value=CONFIRMATIONS),
        dropped=st.sampled_from(["discard", "pool"]),
    )
    def reorg(self, chain: str, depth: int, dropped: str) -> None:
        """Rewrite the chain's last ``depth`` blocks (≤ the relayer's confirmations), when
        they hold only what confirmations protect: sends not delivered or expired by
        anyone yet, the relayer's own deliveries, and other plain transactions."""
        target = {"a": self.world.a, "b": self.world.b, "c": self.world.c}[chain]
        floor = max(target.finalized_block_number, self.start_heads[target.chain_id])
        depth = min(depth, target.block_number - floor)  # only the machine's own blocks
        if depth < 1:
            return
        orphaned = target.blocks[target.block_number - depth + 1 :]
        view = self._onchain()
        sends: list[bytes] = []
        for block in orphaned:
            for receipt in block.receipts:
                for event in receipt.events:
                    name = event.name
                    if name in ("MessageExpired", "MessageRefunded"):
                        return  # settlement by expiry is not confirmation-protected
                    if name == "MessageDelivered" and receipt.sender != self.world.roles.relayer:
                        return  # a hand-made relay ignores confirmations
                    if name == "MessageSent":
                        mid = bytes(event.args["id"])
                        if mid in view.delivered or mid in view.expired:
                            return  # relayed by hand before its confirmations
                        sends.append(mid)
        self._advance(0)  # the relayer acts on what is due first
        if self.is_crashed:
            return
        target.reorg(depth, dropped=dropped)  # type: ignore[arg-type]
        self.reorgs[dropped] += 1
        note(f"reorg {chain} depth {depth} ({dropped}): sends {[m.hex()[:8] for m in sends]}")
        # a send is gone if the new chain does not hold it: discarded, or mined again
        # from the pool but reverted there (its deadline passed meanwhile)
        messenger = self.world.messenger(target)
        for mid in sends:
            if not messenger.sent(mid):
                self.orphaned.add(mid)
        self._cache = None
        self._advance(0)

    # --------------------------------------------------------------------- invariants ---
    @invariant()
    def locked_is_supply_plus_in_flight(self) -> None:
        in_flight = sum(
            amount
            for mid, amount in self.amount.items()
            if amount
            and mid not in self.orphaned
            and self._status(self.sent[mid]) != 1
            and not self._is_refunded(self.sent[mid])
        )
        assert self._locked() == self._supply() + in_flight

    @invariant()
    def executed_at_most_once_and_never_after_refund(self) -> None:
        view = self._onchain()
        assert all(n == 1 for n in view.delivered.values()), view.delivered
        assert not view.delivered.keys() & view.expired, "a message both delivered and expired"
        assert view.refunded <= view.expired, "a refund without an expiry on the destination"

    @invariant()
    def store_agrees_with_the_chains(self) -> None:
        for record in self.relayer.messages():
            mid = bytes.fromhex(record.id[2:])
            message = self.sent.get(mid)
            assert message is not None, "the relayer recorded a message nobody sent"
            if record.status == "executed":
                assert self._status(message) == 1
            elif record.status in ("expired", "refunded"):
                assert self._status(message) == 2
            if record.status == "refunded":
                assert self._is_refunded(message)

    @invariant()
    def no_unbacked_mint(self) -> None:
        """Reorgs stay below the confirmations: nothing relayed lost its send."""
        assert self.relayer.reconcile() == []


def test_bridge_state_machine(world: World) -> None:
    examples, steps = _budget()
    counter = itertools.count()
    reorgs = {"discard": 0, "pool": 0}
    with tempfile.TemporaryDirectory(prefix="bridge-machine-") as tmp:
        run_state_machine_as_test(
            lambda: BridgeMachine(world, Path(tmp), counter, reorgs),
            settings=settings(max_examples=examples, stateful_step_count=steps),
        )
    runs = next(counter)
    logger.info(
        "bridge state machine: %d runs of up to %d steps, %d reorgs discarding and %d "
        "re-pooling their transactions, no violation",
        runs,
        steps,
        reorgs["discard"],
        reorgs["pool"],
    )
    # the whole budget ran (hypothesis builds one machine per example)
    assert runs >= examples, runs
    if hypothesis_profile() == "ci":  # derandomized: the same draws every time
        assert reorgs["discard"] > 0 and reorgs["pool"] > 0, reorgs

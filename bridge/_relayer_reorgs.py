"""The relayer's confirmations and reorgs: holding a message until its source block is
settled enough, un-observing messages whose source block a reorg orphaned, relaying again
deliveries a destination reorg took away, and the reconciler that reports unbacked mints
(see :class:`bridge.Relayer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge._relayer_core import RelayerCore, UnbackedMint, _is_sealed, logger
from bridge.store import MessageEvent, MessageRecord, MessageStatus

if TYPE_CHECKING:
    from chains import Chain, Reorg

__all__ = ["ReorgHandling"]


class ReorgHandling(RelayerCore):
    """Confirmations, reorgs and the reconciler."""

    def _is_confirmed(self, record: MessageRecord) -> bool:
        """Whether the message's source block is still on the chain and settled enough."""
        chain = self.chains[record.source_chain_id]
        if not _is_sealed(chain, record.sent_tx):
            return False
        return self.confirmation[record.lane].is_met(chain, record.sent_block)

    def count_unconfirmed(self, *, until_final: bool = False) -> int:
        """Messages (``sent``, ``eligible``, ``failed``; with ``until_final`` also
        ``relayed`` and ``executed``) whose source block is on the chain but not yet confirmed under
        its lane's policy — or, with ``until_final``, not yet below the source's finalized
        head (a reorg can still take it away): what new blocks would move on
        (``bridge.EmptyBlocks`` seals them only while this is > 0)."""
        statuses: tuple[MessageStatus, ...] = ("sent", "eligible", "failed")
        if until_final:
            statuses += ("relayed", "executed")
        out = 0
        for record in self.store.messages(statuses):
            if record.lane not in self.confirmation:
                continue
            chain = self.chains[record.source_chain_id]
            if not _is_sealed(chain, record.sent_tx):
                continue
            if not self._is_confirmed(record) or (
                until_final and record.sent_block > chain.finalized_block_number
            ):
                out += 1
        return out

    def _wait(self, record: MessageRecord) -> None:
        """Hold a due message until its block is confirmed: re-checked after every block,
        when the finality level has a time rule at the time it will hold, and at the
        message's deadline (then it is expired: a source chain that seals no more blocks
        must not keep a message in flight for ever)."""
        self._waiting.add(record.id)
        chain = self.chains[record.source_chain_id]
        bound = self.confirmation[record.lane].get_time_bound(chain, record.sent_block)
        expiry = self._expiry_time(record.deadline)
        times = [t for t in (bound, expiry) if t is not None]
        if times:
            self._schedule_action(record.id, min(times))

    def _on_reorg(self, reorg: Reorg) -> None:
        self._rewind(self.devnet.by_chain_id(reorg.chain_id), reorg.fork_number)

    def _rewind(self, chain: Chain, fork: int) -> None:
        """A reorg replaced ``chain``'s blocks after ``fork``: rescan from there, orphan the
        messages sent after it that were not relayed yet, and relay again the deliveries
        that are no longer on the chain. Messages relayed from orphaned blocks stay as they
        are: :meth:`reconcile` reports them while their send is gone."""
        chain_id = chain.chain_id
        now = self.clock.now
        emitted: list[MessageEvent] = []
        to_cancel: list[str] = []
        to_schedule: list[tuple[str, float]] = []
        with self.store.transaction():
            cursor = self.store.get_cursor(chain_id)
            if cursor is not None and cursor > fork + 1:
                self.store.set_cursor(chain_id, fork + 1)
            for record in self.store.messages():
                if (
                    record.source_chain_id == chain_id
                    and record.sent_block > fork
                    and record.status in ("sent", "eligible", "failed", "expired")
                ):
                    self.store.update(record.id, status="orphaned", due_at=None)
                    self._emit(
                        emitted,
                        now,
                        record.id,
                        "orphaned",
                        chain_id,
                        record.sent_tx,
                        f"source block {record.sent_block} orphaned by a reorg after {fork}",
                    )
                    to_cancel.append(record.id)
                elif (
                    record.dest_chain_id == chain_id
                    and record.status in ("relayed", "executed")
                    and record.relay_tx is not None
                    and not _is_sealed(chain, record.relay_tx)
                ):
                    self.store.set_status(
                        record.id,
                        "failed",
                        now,
                        due_at=now,
                        last_error="delivery orphaned by a reorg on the destination",
                    )
                    self._emit(
                        emitted,
                        now,
                        record.id,
                        "failed",
                        chain_id,
                        record.relay_tx,
                        f"delivery orphaned by a reorg after block {fork}; relaying again",
                    )
                    to_schedule.append((record.id, now))
        self._publish(emitted)
        for message_id in to_cancel:
            self._cancel_action(message_id)
            self._waiting.discard(message_id)
        for message_id, at in to_schedule:
            self._schedule_action(message_id, at)
        for unbacked in self.reconcile():
            if unbacked.id in self._reported:
                continue  # logged at an earlier reorg
            self._reported.add(unbacked.id)
            logger.warning(
                "unbacked mint: message %s (%d → %d, amount %d) relayed, its send orphaned",
                unbacked.id[:10],
                unbacked.source_chain_id,
                unbacked.dest_chain_id,
                unbacked.amount,
            )
        if self.is_running:
            self._schedule_scan()

    def reconcile(self) -> list[UnbackedMint]:
        """Messages relayed or executed whose sending transaction is not in a sealed block
        of the source chain now: the destination's payout is unbacked (reorgs deeper than
        the confirmations). Derived from the chains each time it is called, so a send that
        reappears (re-mined from the pool) stops counting."""
        out = []
        for record in self.store.messages(("relayed", "executed")):
            source = self.chains.get(record.source_chain_id)
            if source is None or _is_sealed(source, record.sent_tx):
                continue
            transfer = record.token_transfer
            if transfer is None:
                borne_by = (
                    f"the message target {record.target} on chain {record.dest_chain_id}: "
                    "it acted on a message its source never sent"
                )
            elif transfer.home_chain_id == record.source_chain_id:
                borne_by = (
                    f"holders of the wrapped token on chain {record.dest_chain_id}: minted "
                    f"against a lock on chain {record.source_chain_id} that no longer exists"
                )
            else:
                borne_by = (
                    f"the bridge's escrow on chain {transfer.home_chain_id}: it released "
                    f"tokens for a burn on chain {record.source_chain_id} that no longer exists"
                )
            out.append(
                UnbackedMint(
                    id=record.id,
                    source_chain_id=record.source_chain_id,
                    dest_chain_id=record.dest_chain_id,
                    home_chain_id=None if transfer is None else transfer.home_chain_id,
                    token=None if transfer is None else transfer.home_token,
                    amount=0 if transfer is None else transfer.amount,
                    borne_by=borne_by,
                )
            )
        return out

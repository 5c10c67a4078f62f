"""Settlement policies in one line of text: a run's reorg process and its relayer's
confirmation policy, as a run spec, a sweep axis or a CLI flag names them; and the empty
blocks that make confirmations arrive on virtual chains.

Reorg processes (:func:`parse_reorgs`): ``""`` or ``"none"`` — no reorgs; a named profile
of :data:`REORG_PROFILES`; or ``key=value`` pairs, comma-separated:

- ``rate`` — reorgs per hour of clock time on each chain (a Poisson process), required;
- ``mean`` — mean depth in blocks, geometric (``GeometricDepth``; default 1.5);
- ``cap`` — the deepest reorg drawn (default 16); the chain's finality clips it further;
- ``depth`` — a fixed depth instead of ``mean``/``cap``;
- ``dropped`` — ``discard`` (default: the orphaned transactions are gone, as in a double
  spend) or ``pool`` (they are mined again).

Confirmation policies (:func:`parse_confirmations`): ``""`` or ``fast`` — 0 blocks, relay
from the latest block (what every run did before policies); ``safe`` / ``finalized`` —
wait for the source chain's safe / finalized head (as its finality config defines them;
the default anvil shape: 32 / 64 blocks); ``preset`` — what the latency preset assumes
(``bridge.latency.PRESETS``: 0 blocks for same-block, interop and intent-fill, 2 for
fast-attestation, finalized for finality and optimistic-canonical); or an integer N (N
blocks on top of the send's block).

:class:`EmptyBlocks` seals an empty block on each chain every ``block_time`` seconds of
clock time when the chain sealed none in that slot, as a real chain does: without it a
virtual chain seals blocks only for transactions, and N confirmations would wait for N
unrelated transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from bridge.confirmation import Confirmation, as_confirmation
from bridge.faults import FixedDepth, GeometricDepth, ReorgDepth, ReorgFaults
from bridge.latency import PRESETS
from chains import ConfigError

if TYPE_CHECKING:
    from chains import Devnet, ScheduledEvent

__all__ = [
    "CONFIRMATION_POLICIES",
    "EMPTY_BLOCK_PRIORITY",
    "REORG_PROFILES",
    "EmptyBlocks",
    "needs_blocks",
    "parse_confirmations",
    "parse_reorgs",
]

#: Named reorg processes (per chain): ``mild`` — a reorg every 10 minutes on average,
#: mostly 1-2 blocks (assumption: a busy L2 sequencer's unsafe-head reorgs are rare and
#: shallow); ``severe`` — one a minute, mean depth 3 (a stress level, far above any
#: production chain, to make the fast-vs-safe trade-off visible in short runs).
REORG_PROFILES: dict[str, str] = {
    "mild": "rate=6,mean=1.5,cap=8",
    "severe": "rate=60,mean=3,cap=16",
}

#: Named confirmation policies (``preset`` is resolved against the latency preset).
CONFIRMATION_POLICIES: dict[str, Confirmation] = {
    "fast": Confirmation(),
    "safe": Confirmation(level="safe"),
    "finalized": Confirmation(level="finalized"),
}

#: Clock priority of the empty blocks: with the chains' own seals (0), before reorgs (5).
EMPTY_BLOCK_PRIORITY = 1

_REORG_KEYS = ("rate", "mean", "cap", "depth", "dropped")


def parse_reorgs(text: str) -> ReorgFaults | None:
    """The reorg process ``text`` names (module docstring); ``None`` for no reorgs."""
    if not isinstance(text, str):
        raise ConfigError(f"reorgs must be text like 'rate=6,mean=2', got {text!r}")
    spec = text.strip()
    if spec in ("", "none"):
        return None
    spec = REORG_PROFILES.get(spec, spec)
    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _REORG_KEYS:
            raise ConfigError(
                f"reorgs {text!r}: {part.strip()!r} is not key=value with a key of "
                f"{', '.join(_REORG_KEYS)} (or name a profile: none, {', '.join(REORG_PROFILES)})"
            )
        if key in fields:
            raise ConfigError(f"reorgs {text!r}: {key} given twice")
        fields[key] = value.strip()
    if "rate" not in fields:
        raise ConfigError(f"reorgs {text!r}: rate=<reorgs per hour> is required")
    if "depth" in fields and ("mean" in fields or "cap" in fields):
        raise ConfigError(f"reorgs {text!r}: give depth (fixed) or mean/cap (geometric), not both")
    try:
        rate = float(fields["rate"])
        depth: ReorgDepth
        if "depth" in fields:
            depth = FixedDepth(int(fields["depth"]))
        else:
            depth = GeometricDepth(
                mean=float(fields.get("mean", 1.5)), cap=int(fields.get("cap", 16))
            )
    except ValueError as exc:
        raise ConfigError(f"reorgs {text!r}: {exc}") from exc
    return ReorgFaults(rate=rate, depth=depth, dropped=fields.get("dropped", "discard"))  # type: ignore[arg-type]


def parse_confirmations(text: str, latency: str = "") -> Confirmation:
    """The confirmation policy ``text`` names (module docstring); ``preset`` takes the
    policy of the latency preset ``latency``."""
    if not isinstance(text, str):
        raise ConfigError(f"confirmations must be text like 'safe' or '12', got {text!r}")
    spec = text.strip() or "fast"
    if spec in CONFIRMATION_POLICIES:
        return CONFIRMATION_POLICIES[spec]
    if spec == "preset":
        if latency not in PRESETS:
            raise ConfigError(
                f"confirmations 'preset' needs a latency preset, got {latency!r}; "
                f"known: {', '.join(PRESETS)}"
            )
        return PRESETS[latency].confirmation
    if spec.isdigit():
        return as_confirmation(int(spec))
    raise ConfigError(
        f"confirmations {text!r} is not a policy: an integer ≥ 0 (blocks) or one of "
        f"{', '.join([*CONFIRMATION_POLICIES, 'preset'])}"
    )


def needs_blocks(confirmation: Confirmation) -> bool:
    """Whether the policy waits for blocks on top of the send's (anything but 0 blocks at
    the latest head; a time-only finality rule needs blocks too, to move the head)."""
    return confirmation.depth > 0 or confirmation.level != "latest"


class EmptyBlocks:
    """Seals an empty block on each of ``chains`` (default: all) every chain's
    ``block_time`` seconds of clock time, unless the chain sealed one in that slot
    (``start``/``stop``). Deterministic: slots are at fixed clock times from ``start``.

    ``is_needed`` (default: always) is asked at every slot: when it says no, the chain's
    ticks stop until :meth:`start` is called again (``wake``) — e.g. only while a relayer
    has messages waiting for confirmations (``Relayer.count_unconfirmed``), so a 7-day
    latency does not seal 300,000 empty blocks."""

    def __init__(
        self,
        devnet: Devnet,
        chains: Collection[int] | None = None,
        *,
        is_needed: Callable[[], bool] | None = None,
    ) -> None:
        self.devnet = devnet
        self.is_needed = is_needed
        ids = [c.chain_id for c in devnet.chains] if chains is None else sorted(chains)
        self.chains = [devnet.by_chain_id(cid) for cid in ids]
        for chain in self.chains:
            if chain.config.block_time <= 0:
                raise ConfigError(f"chain {chain.name}: empty blocks need a block_time > 0")
        #: Empty blocks sealed so far.
        self.sealed = 0
        self._events: dict[int, ScheduledEvent] = {}

    def start(self) -> EmptyBlocks:
        for chain in self.chains:
            if chain.chain_id not in self._events:
                self._schedule(chain.chain_id, self.devnet.clock.now + chain.config.block_time)
        return self

    def stop(self) -> None:
        for event in self._events.values():
            self.devnet.clock.cancel(event)
        self._events.clear()

    def _schedule(self, chain_id: int, at: float) -> None:
        self._events[chain_id] = self.devnet.clock.schedule(
            at,
            lambda: self._tick(chain_id, at),
            priority=EMPTY_BLOCK_PRIORITY,
            label=f"empty-block:{chain_id}",
        )

    def wake(self) -> None:
        """Resume the ticks of chains that stopped because nothing needed blocks."""
        self.start()

    def _tick(self, chain_id: int, at: float) -> None:
        self._events.pop(chain_id, None)
        if self.is_needed is not None and not self.is_needed():
            return
        chain = self.devnet.by_chain_id(chain_id)
        slot = chain.config.block_time
        if chain.timestamp <= at - slot:  # no block sealed in the slot (at − slot, at]
            chain.mine()
            self.sealed += 1
        self._schedule(chain_id, at + slot)

    # devnet participant (``devnet.attach``): the schedule follows snapshots
    def snapshot(self) -> Any:
        return (dict(self._events), self.sealed)

    def restore(self, state: Any) -> None:
        events, sealed = state
        self._events = dict(events)
        self.sealed = sealed

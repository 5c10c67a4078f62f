"""A Devnet: several chains sharing one clock, one seed and one snapshot/revert."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from chains._bundle import BundleResult, Transaction, run_bundle
from chains._chain import Chain
from chains._clock import DEFAULT_GENESIS_TIME, Clock
from chains._compiler import Compiler
from chains._config import ChainConfig
from chains._errors import ConfigError, SnapshotNotFound

__all__ = ["DEFAULT_CHAIN_ID", "Devnet", "DevnetSnapshot", "Participant"]

DEFAULT_CHAIN_ID = 31337
_DEVNET_KEYS = {"n_chains", "seed", "start_time", "real_time", "chain_ids", "names", "chains"}
_CHAIN_KEYS = {f.name for f in fields(ChainConfig)}


@runtime_checkable
class Participant(Protocol):
    """Something beside the chains whose state a devnet snapshot must cover (the relayer,
    market actors): ``snapshot()`` returns an opaque state, ``restore(state)`` returns to it."""

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


@dataclass(frozen=True)
class DevnetSnapshot:
    """Ids of one snapshot on every chain, plus the clock's and each participant's state."""

    chain_ids: tuple[int, ...]
    clock: Any
    participants: tuple[tuple[Participant, Any], ...] = ()


def _default_name(index: int) -> str:
    letters = ""
    n = index
    while True:
        letters = chr(ord("A") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            return letters


class Devnet:
    """Several chains in this process with one clock, one seed and joint snapshots.

    ``Devnet(n_chains=3, seed=7)`` makes chains ``A``, ``B``, ``C`` with ids 31337, 31338,
    31339 on a virtual clock. Per-chain settings (mining mode, block time, gas limit, ...)
    go in ``chains=[{...}, ...]`` or a TOML file (:meth:`from_toml`).
    """

    def __init__(
        self,
        n_chains: int | None = None,
        *,
        seed: int = 0,
        start_time: float = DEFAULT_GENESIS_TIME,
        real_time: bool = False,
        chain_ids: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
        chains: Sequence[Mapping[str, Any] | ChainConfig] | None = None,
        compiler: Compiler | None = None,
        **chain_defaults: Any,
    ) -> None:
        unknown = set(chain_defaults) - _CHAIN_KEYS
        if unknown:
            raise ConfigError(
                f"unknown devnet option(s): {', '.join(sorted(unknown))}; known: "
                f"{', '.join(sorted(_DEVNET_KEYS | _CHAIN_KEYS - {'chain_id', 'name'}))}"
            )
        specs = list(chains) if chains is not None else None
        if n_chains is None:
            n_chains = len(specs) if specs else 1
        if not isinstance(n_chains, int) or n_chains < 1:
            raise ConfigError(f"n_chains must be a positive integer, got {n_chains!r}")
        if specs is not None and len(specs) != n_chains:
            raise ConfigError(f"n_chains={n_chains} but {len(specs)} chain configs were given")
        if chain_ids is not None and len(chain_ids) != n_chains:
            raise ConfigError(f"n_chains={n_chains} but {len(chain_ids)} chain_ids were given")
        if names is not None and len(names) != n_chains:
            raise ConfigError(f"n_chains={n_chains} but {len(names)} names were given")
        if not isinstance(seed, int):
            raise ConfigError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        self.clock = Clock(start=start_time, is_virtual=not real_time)
        self.compiler = compiler or Compiler()
        configs = []
        for i in range(n_chains):
            spec: dict[str, Any] = dict(chain_defaults)
            given = specs[i] if specs is not None else {}
            if isinstance(given, ChainConfig):
                configs.append(given)
                continue
            bad = set(given) - _CHAIN_KEYS
            if bad:
                raise ConfigError(
                    f"chain {i}: unknown key(s) {', '.join(sorted(bad))}; "
                    f"known: {', '.join(sorted(_CHAIN_KEYS))}"
                )
            spec.update(given)
            spec.setdefault("chain_id", chain_ids[i] if chain_ids else DEFAULT_CHAIN_ID + i)
            spec.setdefault("name", names[i] if names else _default_name(i))
            try:
                configs.append(ChainConfig(**spec))
            except TypeError as exc:
                raise ConfigError(f"chain {i}: {exc}") from exc
        ids = [c.chain_id for c in configs]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"chain ids must be distinct, got {ids}")
        labels = [c.name for c in configs]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"chain names must be distinct, got {labels}")
        self.chains: list[Chain] = [
            Chain(cfg, self.clock, seed=seed, compiler=self.compiler) for cfg in configs
        ]
        self._snapshots: dict[int, DevnetSnapshot] = {}
        self._next_snapshot = 0
        self._participants: list[Participant] = []

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> Devnet:
        """Build from a TOML file: top-level devnet keys and ``[[chains]]`` tables."""
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read devnet config {str(file)!r}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        return cls.from_mapping(data, source=str(file), **overrides)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "config", **overrides: Any
    ) -> Devnet:
        """Build from a parsed config mapping (the TOML layout); unknown keys are errors."""
        merged = {**data, **overrides}
        unknown = set(merged) - _DEVNET_KEYS - _CHAIN_KEYS
        if unknown:
            raise ConfigError(
                f"{source}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_DEVNET_KEYS | _CHAIN_KEYS))}"
            )
        try:
            return cls(**merged)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from exc

    def __repr__(self) -> str:
        names = ", ".join(f"{c.name}:{c.chain_id}" for c in self.chains)
        return f"<Devnet seed={self.seed} chains=[{names}] t={self.clock.now:.0f}>"

    def __getitem__(self, key: int | str) -> Chain:
        if isinstance(key, int):
            return self.chains[key]
        for chain in self.chains:
            if chain.name == key or str(chain.chain_id) == key:
                return chain
        raise KeyError(f"no chain named {key!r}; chains: {[c.name for c in self.chains]}")

    def __iter__(self) -> Iterator[Chain]:
        return iter(self.chains)

    def __len__(self) -> int:
        return len(self.chains)

    def by_chain_id(self, chain_id: int) -> Chain:
        for chain in self.chains:
            if chain.chain_id == chain_id:
                return chain
        raise KeyError(f"no chain with id {chain_id}")

    # -- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.now

    def advance(self, seconds: float) -> float:
        """Move the shared clock forward, firing due events (interval blocks, relays)."""
        return self.clock.advance(seconds)

    def advance_to(self, timestamp: float) -> float:
        return self.clock.advance_to(timestamp)

    # -- snapshots -------------------------------------------------------------------------
    def attach(self, participant: Participant) -> None:
        """Include ``participant`` (e.g. a relayer) in every later :meth:`snapshot`/:meth:`revert`.

        A snapshot taken before the participant was attached does not know it; reverting to
        such a snapshot leaves the participant as it is.
        """
        if not isinstance(participant, Participant):
            raise TypeError(f"{participant!r} has no snapshot()/restore(state) methods")
        if participant not in self._participants:
            self._participants.append(participant)

    def detach(self, participant: Participant) -> None:
        """Stop covering ``participant`` in snapshots (no effect if it was not attached)."""
        if participant in self._participants:
            self._participants.remove(participant)

    def snapshot(self) -> int:
        """Snapshot every chain, the clock and every attached participant; return one id."""
        self._next_snapshot += 1
        self._snapshots[self._next_snapshot] = DevnetSnapshot(
            tuple(c.snapshot() for c in self.chains),
            self.clock.snapshot(),
            tuple((p, p.snapshot()) for p in self._participants),
        )
        return self._next_snapshot

    def revert(self, snapshot_id: int) -> None:
        """Revert every chain and the clock to a :meth:`snapshot`."""
        try:
            snap = self._snapshots[snapshot_id]
        except KeyError:
            raise SnapshotNotFound(f"no devnet snapshot {snapshot_id}") from None
        for sid in [s for s in self._snapshots if s > snapshot_id]:
            del self._snapshots[sid]
        if self.clock.is_virtual:
            self.clock.restore(snap.clock)
        for chain, sid in zip(self.chains, snap.chain_ids, strict=True):
            chain.revert(sid)
        for participant, state in snap.participants:
            participant.restore(state)

    def forget(self, snapshot_id: int) -> None:
        """Drop the devnet-level record of a snapshot no one will revert to (no effect if
        it is unknown)."""
        self._snapshots.pop(snapshot_id, None)

    # -- bundles ---------------------------------------------------------------------------
    def bundle(
        self,
        legs: Sequence[tuple[Any, Transaction]],
        *,
        atomic_execution: bool = True,
    ) -> BundleResult:
        """Include ``legs`` — ``(chain, transaction)`` pairs; a chain by name, id or
        :class:`Chain` — in one slot on every chain they touch (one block each, one
        timestamp, sealed together).

        ``atomic_execution=True``: two-phase commit — every leg executes on its chain's
        pending state; all blocks are sealed only if every leg succeeds, otherwise every
        chain, the clock and the attached participants are rolled back and
        :class:`chains.BundleReverted` names the failing leg. ``atomic_execution=False``:
        atomic inclusion only — each leg may revert on its own (see
        :class:`chains.BundleResult`'s ``errors``). Details in ``chains/_bundle.py``.
        """
        return run_bundle(self, legs, atomic_execution=atomic_execution)

    @contextlib.contextmanager
    def anchor(self) -> Iterator[Devnet]:
        """Snapshot every chain and the clock; revert them all on exit, even on error."""
        sid = self.snapshot()
        try:
            yield self
        finally:
            self.revert(sid)

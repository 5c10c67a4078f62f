"""What a World hosts: the venue instances each chain needs for the placements it runs.

A :class:`Hosting` lists, for the spread (multi-chain) form, how many instances of each venue
kind each chain hosts, and how many AMMs chain A hosts for the one-chain form (the ``atomic``
and ``sequential`` plans, and every divergence baseline). The one-chain suite on A always
hosts one AMM, one lending market and one CDP vault.

The two standard layouts (:meth:`Hosting.standard`) are the ones worlds were built with
before placements became general — 3 chains: AMM on A, lending on B, CDP on C; 2 chains: AMM
and CDP on A, lending on B — and a world whose needs they cover is built exactly as before
(same seed → same bytes). Any other need is built by the general layout
(``scenarios/world/_general.py``).
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

from scenarios.model import MAX_CHAINS, ScenarioConfigError

__all__ = ["MAX_WORLD_CHAINS", "Hosting"]

#: Most chains a world may have (labels A..E): the RunSpec's limit.
MAX_WORLD_CHAINS = MAX_CHAINS
_KINDS = ("amm", "lending", "cdp")


@dataclass(frozen=True)
class Hosting:
    """Venue instances by chain (see the module docstring).

    ``spread``: sorted ``(kind, chain label, instances)``; ``one_chain_amms``: AMMs on A for
    the one-chain form; ``inventory``: the fronter holds WETH inventory on every chain but
    A (inventory-based plans front it in kind).
    """

    chains: int
    spread: tuple[tuple[str, str, int], ...] = ()
    one_chain_amms: int = 1
    inventory: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.chains, bool) or self.chains not in range(2, MAX_WORLD_CHAINS + 1):
            raise ScenarioConfigError(
                f"chains={self.chains!r}: a world has 2 to {MAX_WORLD_CHAINS} chains"
            )
        for kind, label, count in self.spread:
            if kind not in _KINDS:
                raise ScenarioConfigError(f"hosting: venue kind {kind!r} is not one of {_KINDS}")
            index = string.ascii_uppercase.find(label)
            if len(label) != 1 or not 0 <= index < self.chains:
                raise ScenarioConfigError(
                    f"hosting: {kind} on chain {label!r}, but the world has {self.chains} "
                    f"chains (A..{string.ascii_uppercase[self.chains - 1]})"
                )
            if count < 1 or (kind != "amm" and count > 1):
                raise ScenarioConfigError(
                    f"hosting: {count} {kind} venues on chain {label}; a chain hosts one "
                    "lending market and one CDP vault, and any number of AMMs"
                )
        if sum(1 for kind, _, _ in self.spread if kind == "cdp") > 1:
            raise ScenarioConfigError(
                "hosting: CDP vaults on several chains; DAI has one home, the chain of the "
                "one CDP vault"
            )

    @classmethod
    def standard(cls, chains: int) -> Hosting:
        """The standard layout of ``chains`` (2 or 3) chains."""
        if chains == 3:
            return cls(3, (("amm", "A", 1), ("cdp", "C", 1), ("lending", "B", 1)))
        if chains == 2:
            return cls(2, (("amm", "A", 1), ("cdp", "A", 1), ("lending", "B", 1)))
        raise ScenarioConfigError(f"chains={chains!r}: the standard layouts have 2 or 3 chains")

    @classmethod
    def for_placement(
        cls, venues: tuple[tuple[str, str], ...], chain_of: dict[str, str], chains: int, **kw: Any
    ) -> Hosting:
        """What one scenario (its ``venues``, name → kind) placed by ``chain_of`` needs on a
        world of ``chains`` chains. A single-chain placement on A needs only the one-chain
        form."""
        labels = {chain_of[name] for name, _ in venues if name in chain_of}
        amms = sum(1 for _, kind in venues if kind == "amm")
        for kind in ("lending", "cdp"):
            named = [name for name, k in venues if k == kind]
            if len(named) > 1:
                raise ScenarioConfigError(
                    f"venues {', '.join(named)}: a world hosts one {kind} venue per scenario"
                )
        spread: tuple[tuple[str, str, int], ...] = ()
        if labels - {"A"}:
            counts = Counter((kind, chain_of[name]) for name, kind in venues if name in chain_of)
            spread = tuple(sorted((k, c, n) for (k, c), n in counts.items()))
        return cls(chains, spread, one_chain_amms=max(1, amms), **kw)

    @classmethod
    def union(cls, hostings: list[Hosting]) -> Hosting:
        """One hosting that covers every one of ``hostings`` (same chain count): a world for
        several scenarios or placements at once."""
        if not hostings or len({h.chains for h in hostings}) != 1:
            raise ScenarioConfigError("Hosting.union: give hostings of one chain count")
        counts: dict[tuple[str, str], int] = {}
        for h in hostings:
            for kind, label, n in h.spread:
                counts[(kind, label)] = max(n, counts.get((kind, label), 0))
        return cls(
            hostings[0].chains,
            tuple(sorted((k, c, n) for (k, c), n in counts.items())),
            one_chain_amms=max(h.one_chain_amms for h in hostings),
            inventory=any(h.inventory for h in hostings),
        )

    def covers(self, other: Hosting) -> bool:
        """Whether a world built for ``self`` hosts everything ``other`` needs."""
        if self.chains != other.chains or self.one_chain_amms < other.one_chain_amms:
            return False
        if other.inventory and not self.inventory:
            return False
        mine = {(k, c): n for k, c, n in self.spread}
        return all(mine.get((k, c), 0) >= n for k, c, n in other.spread)

    def effective(self) -> Hosting:
        """The hosting a world is built with for these needs: the standard layout of the
        chain count when it covers them (built as it always was), else exactly the needs."""
        if self.chains in (2, 3) and Hosting.standard(self.chains).covers(self):
            return Hosting.standard(self.chains)
        return self

    @property
    def is_standard(self) -> bool:
        return self.chains in (2, 3) and self == Hosting.standard(self.chains)

    def text(self) -> str:
        """E.g. ``amm=A,lending=B,cdp=C`` (a count before the kind when above one)."""
        parts = [f"{n if n > 1 else ''}{k}={c}" for k, c, n in self.spread]
        head = ",".join(parts) or "one chain"
        extra = []
        if self.one_chain_amms > 1:
            extra.append(f"{self.one_chain_amms} AMMs on A for the one-chain form")
        if self.inventory:
            extra.append("WETH inventory on every chain")
        return head + (f" ({'; '.join(extra)})" if extra else "")

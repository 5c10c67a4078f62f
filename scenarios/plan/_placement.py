"""Placement: which chain hosts each venue of a scenario, and where the user's assets start.

Chains are labelled ``A``, ``B``, ``C``, ... — the devnet's chains in order (``A`` is chain 0).
A placement's chain count is the highest label used, so ``amm=A,cdp=C`` needs three chains
(B then hosts no venue). On the command line::

    --placement amm=A,lending=B,cdp=C            one venue per chain
    --placement amm=A,lending=B,cdp=C,start=B    the user's assets start on B
    --placement one                              every venue on A (the atomic placement)

``start`` overrides the scenario's ``start.at`` (a venue whose chain is used).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scenarios.plan._model import Scenario, ScenarioError

__all__ = ["MAX_CHAINS", "Placement", "chain_label", "chain_index"]

#: Most chains a placement may use (labels A..Z).
MAX_CHAINS = 26
_LABEL = re.compile(r"^[A-Z]$")


def chain_label(index: int) -> str:
    """``0`` → ``"A"``."""
    return string.ascii_uppercase[index]


def chain_index(label: str) -> int:
    """``"A"`` → ``0``."""
    return string.ascii_uppercase.index(label)


@dataclass(frozen=True)
class Placement:
    """Venue name → chain label, plus the chain the user's assets start on (``None``: the
    chain of the scenario's ``start.at`` venue)."""

    venues: tuple[tuple[str, str], ...]
    start: str | None = None

    def __post_init__(self) -> None:
        names = [v for v, _ in self.venues]
        if len(set(names)) != len(names):
            raise ScenarioError(f"placement: a venue is placed twice ({', '.join(names)})")
        for venue, label in self.venues:
            if not isinstance(label, str) or not _LABEL.match(label):
                raise ScenarioError(
                    f"placement field {venue!r}: chain {label!r} must be a letter A-Z"
                )
        if self.start is not None and not _LABEL.match(self.start):
            raise ScenarioError(f"placement field 'start': chain {self.start!r} must be A-Z")

    @property
    def chain_of(self) -> dict[str, str]:
        return dict(self.venues)

    @property
    def chains(self) -> int:
        """Number of chains the placement needs (the highest label used)."""
        labels = [label for _, label in self.venues]
        if self.start is not None:
            labels.append(self.start)
        return max(chain_index(label) for label in labels) + 1

    @property
    def is_single_chain(self) -> bool:
        return len({label for _, label in self.venues} | ({self.start} - {None})) <= 1

    def start_chain(self, scenario: Scenario) -> str:
        """The chain the user's assets start on."""
        if self.start is not None:
            return self.start
        return self.chain_of[scenario.start_venue]

    def text(self) -> str:
        """The CLI form, e.g. ``amm=A,lending=B,cdp=C``."""
        parts = [f"{v}={c}" for v, c in self.venues]
        if self.start is not None:
            parts.append(f"start={self.start}")
        return ",".join(parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.venues)
        if self.start is not None:
            out["start"] = self.start
        return out

    @classmethod
    def one_chain(cls, scenario: Scenario, label: str = "A") -> Placement:
        """Every venue of ``scenario`` on chain ``label`` (the atomic placement)."""
        return cls(tuple((name, label) for name, _ in scenario.venues))

    @classmethod
    def spread(cls, scenario: Scenario, chains: int) -> Placement:
        """A default placement over ``chains`` chains: venue i on chain min(i, chains − 1)
        in the scenario's venue order; with 2 chains the CDP shares A with the AMM, as
        in the testbed's 2-chain layout."""
        if chains < 1 or chains > MAX_CHAINS:
            raise ScenarioError(f"chains={chains!r} must be 1..{MAX_CHAINS}")
        names = [name for name, _ in scenario.venues]
        kinds = scenario.venue_kinds
        if chains == 2 and sorted(kinds.values()) == ["amm", "cdp", "lending"]:
            return cls(tuple((n, "B" if kinds[n] == "lending" else "A") for n in names))
        return cls(tuple((n, chain_label(min(i, chains - 1))) for i, n in enumerate(names)))

    @classmethod
    def parse(cls, text: str) -> Placement:
        """From the CLI form (see the module docstring); ``one`` is rejected here because it
        needs the scenario (use :meth:`one_chain`)."""
        if not isinstance(text, str) or not text.strip():
            raise ScenarioError("placement: empty; expected e.g. amm=A,lending=B,cdp=C")
        venues: list[tuple[str, str]] = []
        start = None
        for part in text.split(","):
            key, sep, value = (s.strip() for s in part.partition("="))
            if not sep or not key or not value:
                raise ScenarioError(
                    f"placement: {part.strip()!r} is not venue=CHAIN (e.g. amm=A,lending=B)"
                )
            value = value.upper()
            if key == "start":
                start = value
            else:
                venues.append((key, value))
        return cls(tuple(venues), start)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Placement:
        """From a table ``{venue: "A", ..., "start": "B"}``."""
        start = data.get("start")
        return cls(
            tuple((str(k), str(v).upper()) for k, v in data.items() if k != "start"),
            None if start is None else str(start).upper(),
        )

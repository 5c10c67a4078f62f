"""Validation of a scenario (and its placement) before anything runs.

:func:`validate` raises one :class:`~scenarios.plan.ScenarioError` listing every problem,
each naming the step and field: an unknown venue or one of the wrong kind, a venue the
placement does not place, a swap pair without a pool, an asset that can never reach a step
(neither held at the start nor produced by an earlier step), a position a step needs that no
earlier step opens, an amount that refers to an unknown, later or cyclic step, an ``ltv``
amount on a step that has no collateral, and — when divergence is asked for — a scenario
without an atomic form.
"""

from __future__ import annotations

from scenarios.plan._model import (
    AMM_PAIRS,
    ASSETS,
    AtLtv,
    Borrow,
    Bridge,
    Draw,
    Free,
    Lock,
    Open,
    Received,
    Refinance,
    Repay,
    Scenario,
    ScenarioError,
    Step,
    Supply,
    Swap,
    Wait,
    Withdraw,
)
from scenarios.plan._placement import Placement

__all__ = ["validate"]

_KINDS = ("amm", "lending", "cdp")


def validate(
    scenario: Scenario, placement: Placement | None = None, *, needs_atomic: bool = False
) -> None:
    """Raise :class:`ScenarioError` naming every problem (see the module docstring)."""
    errors: list[str] = []
    kinds = scenario.venue_kinds
    for name, kind in scenario.venues:
        if kind not in _KINDS:
            errors.append(f"venues field {name!r}: kind {kind!r} is not one of {', '.join(_KINDS)}")
    if scenario.start_asset not in ASSETS:
        errors.append(
            f"start field 'asset': {scenario.start_asset!r} is not one of {', '.join(ASSETS)}"
        )
    if scenario.start_at is not None and scenario.start_at not in kinds:
        errors.append(f"start field 'at': unknown venue {scenario.start_at!r}; {_declared(kinds)}")
    if scenario.premium_at is not None and kinds.get(scenario.premium_at) != "amm":
        errors.append(
            f"premium_at: {scenario.premium_at!r} is not an amm venue; {_declared(kinds)}"
        )
    index = {s.id: i for i, s in enumerate(scenario.steps)}
    errors += _reference_errors(scenario, index)
    held = {scenario.start_asset}
    collateral: set[str] = set()  # lending venues with collateral supplied
    debt: set[str] = set()  # lending venues with a loan
    ink: set[str] = set()  # cdp venues with collateral locked
    for i, step in enumerate(scenario.steps):
        label = f"step {i} ({step.id!r}, {step.kind})"
        errors += _venue_errors(step, label, kinds)
        asset = step.input_asset()
        if asset is not None and asset not in held:
            errors.append(
                f"{label} field {'sell' if isinstance(step, Swap) else 'amount'!r}: "
                f"{asset} can never reach this step (the user starts with "
                f"{scenario.start_asset} and no earlier step produces {asset})"
            )
        if isinstance(step, Swap) and (
            step.sell == step.buy or frozenset({step.sell, step.buy}) not in AMM_PAIRS
        ):
            pairs = ", ".join("/".join(sorted(p)) for p in sorted(AMM_PAIRS, key=sorted))
            errors.append(
                f"{label} field 'buy': no pool for {step.sell}→{step.buy}; pools: {pairs}"
            )
        venue = step.venue or ""
        if isinstance(step, Supply):
            collateral.add(venue)
        elif isinstance(step, Withdraw | Borrow) and venue not in collateral:
            errors.append(f"{label} field 'venue': no collateral supplied on {venue!r} before")
        elif isinstance(step, Repay) and venue not in debt:
            errors.append(f"{label} field 'venue': no debt on {venue!r} before")
        elif isinstance(step, Refinance) and venue not in debt:
            errors.append(f"{label} field 'venue': no debt on {venue!r} to refinance")
        elif isinstance(step, Draw | Free) and venue not in ink:
            errors.append(f"{label} field 'venue': no collateral locked in {venue!r} before")
        if isinstance(step, Borrow):
            debt.add(venue)
        elif isinstance(step, Refinance):
            debt.discard(venue)
            ink.add(step.to)
        elif isinstance(step, Lock | Open):
            ink.add(venue)
        for name, amount in step.amounts():
            is_ltv_ok = isinstance(step, Borrow | Draw) or (
                isinstance(step, Open) and name == "draw"
            )
            if isinstance(amount, AtLtv) and not is_ltv_ok:
                errors.append(
                    f"{label} field {name!r}: 'ltv' applies to borrow and draw amounts only"
                )
        held.update(step.output_assets())
    if placement is not None:
        errors += _placement_errors(scenario, placement)
    if needs_atomic and not scenario.has_atomic_form:
        waits = [s.id for s in scenario.steps if isinstance(s, Wait)]
        errors.append(
            f"scenario {scenario.name!r} has no atomic form (step(s) {', '.join(waits)} wait "
            "for time to pass, which one transaction cannot): divergence against atomic is "
            "undefined; run it without divergence"
        )
    if errors:
        raise ScenarioError(f"scenario {scenario.name!r}: " + "; ".join(errors))


def _declared(kinds: dict[str, str]) -> str:
    return "declared venues: " + ", ".join(f"{n} ({k})" for n, k in kinds.items())


def _venue_errors(step: Step, label: str, kinds: dict[str, str]) -> list[str]:
    errors = []
    wanted = [("venue", step.venue, step.venue_kind)]
    if isinstance(step, Refinance):
        wanted += [("to", step.to, "cdp"), ("via", step.via, "amm")]
    for field_name, venue, kind in wanted:
        if venue is None:
            if isinstance(step, Bridge):
                errors.append(f"{label} field 'venue': a bridge step needs a destination venue")
            continue
        if venue not in kinds:
            errors.append(
                f"{label} field {field_name!r}: unknown venue {venue!r}; {_declared(kinds)}"
            )
        elif kind is not None and kinds[venue] != kind:
            errors.append(
                f"{label} field {field_name!r}: venue {venue!r} is a {kinds[venue]}, "
                f"a {step.kind} needs a {kind}"
            )
    return errors


def _reference_errors(scenario: Scenario, index: dict[str, int]) -> list[str]:
    """Unknown, self, later and cyclic ``received:`` references."""
    errors = []
    refs: dict[str, list[str]] = {s.id: [] for s in scenario.steps}
    for i, step in enumerate(scenario.steps):
        for name, amount in step.amounts():
            if not isinstance(amount, Received):
                continue
            label = f"step {i} ({step.id!r}, {step.kind}) field {name!r}"
            if amount.step not in index:
                errors.append(f"{label}: refers to unknown step {amount.step!r}")
                continue
            refs[step.id].append(amount.step)
            ref = scenario.steps[index[amount.step]]
            asset = step.input_asset()
            if asset is not None and asset not in ref.output_assets():
                errors.append(
                    f"{label}: step {amount.step!r} produces "
                    f"{', '.join(ref.output_assets()) or 'nothing'}, not {asset}"
                )
    for cycle in _cycles(refs):
        errors.append(
            f"step {index[cycle[0]]} ({cycle[0]!r}) field 'amount': cyclic amount reference "
            + " → ".join([*cycle, cycle[0]])
        )
    cyclic = {s for c in _cycles(refs) for s in c}
    for step_id, targets in refs.items():
        for target in targets:
            if step_id not in cyclic and index[target] > index[step_id]:
                errors.append(
                    f"step {index[step_id]} ({step_id!r}) field 'amount': refers to later step "
                    f"{target!r} (a step can only use what earlier steps received)"
                )
    return errors


def _cycles(refs: dict[str, list[str]]) -> list[list[str]]:
    """Elementary cycles found by depth-first search, each reported once (deterministic)."""
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for start in refs:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in refs.get(node, []):
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        found.append(path)
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return found


def _placement_errors(scenario: Scenario, placement: Placement) -> list[str]:
    errors = []
    kinds = scenario.venue_kinds
    placed = placement.chain_of
    for venue in placed:
        if venue not in kinds:
            errors.append(f"placement field {venue!r}: unknown venue; {_declared(kinds)}")
    used: dict[str, str] = {}
    for i, step in enumerate(scenario.steps):
        names: list[str | None] = [step.venue]
        if isinstance(step, Refinance):
            names += [step.to, step.via]
        for name in names:
            if name is not None and name in kinds and name not in used:
                used[name] = f"step {i} ({step.id!r}, {step.kind})"
    start_venue = scenario.start_venue
    if placement.start is None and start_venue in kinds and start_venue not in used:
        used[start_venue] = "start field 'at'"
    for venue, where in used.items():
        if venue not in placed:
            errors.append(
                f"{where} field 'venue': venue {venue!r} is not placed on a chain "
                f"(placement: {placement.text()})"
            )
    return errors

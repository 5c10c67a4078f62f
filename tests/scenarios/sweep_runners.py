"""A test-only runner for the sweep machinery: a real but tiny chain computation.

:func:`register` adds modes ``probe`` and ``fail`` to the runner registry and
:func:`unregister` takes them out again, so they never leak into other tests (``testbed
demo`` runs every registered mode); sweep workers and ``--plugin`` import
``sweep_plugin``, which registers them in that process. A probe run transfers a seed-
and σ-dependent amount of USDC (fronter → user) on the world's chain A inside
``world.session()`` (so the world is back at its anchor afterwards) and derives its metrics
from what the chain returns: balance, gas, block number; ``scenarios.run`` then values it
against the real atomic run of the same seed (divergence). They exist for the resume,
ordering and crash tests; the end-to-end tests run the real modes.

Crash injection: when ``SWEEP_PROBE_CRASH_DIR`` names a folder holding a file
``crash-seed<N>``, the probe run with seed ``N`` deletes the file and kills its own process
(``os._exit``) — a worker dying mid-sweep, once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from scenarios import OUTCOMES, RunResult, RunSpec, register_runner

CRASH_ENV = "SWEEP_PROBE_CRASH_DIR"


class ProbeRunner:
    """Mode ``probe``: one USDC transfer on chain A, metrics from the receipt and balances."""

    name = "probe"

    def run(self, world: Any, spec: RunSpec) -> RunResult:
        crash_dir = os.environ.get(CRASH_ENV)
        if crash_dir:
            marker = Path(crash_dir) / f"crash-seed{spec.seed}"
            if marker.exists():
                marker.unlink()
                os._exit(3)
        suite, roles = world.suite, world.roles
        amount = int(spec.notional * (1 + spec.sigma)) * 10**6 + spec.seed
        with world.session():
            before = suite.usdc.balanceOf(roles.user)
            suite.usdc.transfer(roles.user, amount, sender=roles.fronter)
            receipt = suite.chain.last_receipt
            received = suite.usdc.balanceOf(roles.user) - before
            block = suite.chain.block_number
        gas = int(receipt.gas_used)
        latency = float(spec.seed % 5) * 3 + (1 + spec.sigma) * 2
        metrics: dict[str, float | int | str] = {
            "net_value_usdc": received / 10**6,
            "divergence_usdc": -(gas % 97) * spec.sigma,
            "divergence_bps": -((gas + spec.seed * 37) % 101) * spec.sigma,
            "shortfall_bps": float(spec.seed % 7),
            "latency_s": latency,
            "capital_in_flight_usd_s": received / 10**6 * latency,
            "capital_in_flight_peak_usd": received / 10**6,
            "fronted_usdc": 0.0,
            "fronted_s": 0.0,
            "outcome": OUTCOMES[spec.seed % len(OUTCOMES)],
            "failed_step": "" if spec.seed % 4 == 0 else "refinance",
            "stranded_usdc": 0.0,
            "min_health_factor": 1.0 + (spec.seed % 3) / 10,
            "lvr_usdc": spec.sigma**2 / 8,
            "oracle_gap_max": 0.0,
            "price_move": 0.0,
            "transactions": 1,
            "gas": gas,
            "fees_usdc": 0.0,
            "bridge_fees_usdc": 0.0,
        }
        curve = [(0.0, received / 10**6), (latency, 0.0)]
        timeline = [
            {"t": 0.0, "chain": "A", "event": "transfer", "block": block},
            {"t": latency, "chain": "A", "event": "settled"},
            # what scenarios.run values against the atomic baseline (divergence)
            {
                "t": latency,
                "chain": "A",
                "event": "holdings",
                "usd": received / 10**6,
                "weth": 0.0,
                "price": 2_000.0,
            },
        ]
        return RunResult(spec=spec, metrics=metrics, capital_in_flight=curve, timeline=timeline)


class FailRunner:
    """Mode ``fail``: like ``probe``, but seed 1 raises — a run that errors mid-sweep."""

    name = "fail"

    def run(self, world: Any, spec: RunSpec) -> RunResult:
        if spec.seed == 1:
            raise RuntimeError("probe failure at seed 1")
        return ProbeRunner().run(world, spec)


RUNNERS = {"probe": ProbeRunner(), "fail": FailRunner()}


def register() -> None:
    """Register the test-only modes (idempotent)."""
    for name, runner in RUNNERS.items():
        register_runner(name, runner, replace=True)


def unregister() -> None:
    """Remove the test-only modes from the registry (it has no public removal: tests only)."""
    from scenarios.model import _runspec

    for name in RUNNERS:
        _runspec._RUNNERS.pop(name, None)

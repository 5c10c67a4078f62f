"""Settlement risk sweep: relaying fast vs safe when the source chain reorgs.

One run: a 2-chain devnet whose chains finalize like an OP Stack L2 (``op-stack`` finality:
batches every 60 s, final 984 s after the batch closes); the user bridges ``transfers``
USDC amounts A → B, one every ``interval`` seconds (amounts uniform on [100, 10,000] USDC,
seeded); chain A reorgs as a Poisson process (``ReorgFaults``: ``rate`` per hour, depth
geometric with mean ``mean_depth``, capped at 16, the orphaned transactions discarded:
the lock is gone, as in a double spend), once the deployment's blocks are final. The
relayer carries every message with one latency preset and the confirmation policy it
assumes (``confirmations="preset"``); after the last transfer the reorgs stop, A goes on
sealing a block every ``interval`` seconds and the clock runs until every message settled.

Per run (formulas):

- ``relayed`` = messages executed on B; ``orphaned`` = messages whose lock a reorg undid
  before the relay (never relayed: no loss, the user keeps the USDC);
- ``unbacked`` = relayed messages whose lock is gone (:meth:`Relayer.reconcile`);
  ``unbacked_usdc`` = Σ their amounts / 10⁶ — minted on B, backed by nothing on A, borne by
  the holders of wrapped USDC on B; ``unbacked_share`` = unbacked_usdc / Σ relayed amounts;
- ``supply_gap_usdc`` = (wrapped USDC supply on B − USDC locked on A) / 10⁶ at the end,
  read from the chains: equal to ``unbacked_usdc`` (the check that the reconciler counts
  exactly the value whose lock was undone);
- ``latency_p50_s``, ``latency_p95_s`` = quantiles of (executed_at − sent_at) over the
  relayed messages (nearest rank).

:func:`settlement_sweep` runs every (policy, seed) and :func:`render_settlement` prints
the table with the per-policy totals.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from bridge._deploy import CONTRACTS_DIR, deploy_bridge
from bridge._relayer import Relayer
from bridge.faults import GeometricDepth, ReorgFaults, ReorgInjector, seeded_rng
from bridge.latency import PRESETS
from chains import FINALITY_PRESETS, Devnet

__all__ = ["render_settlement", "run_settlement", "settlement_sweep"]

MAX_UINT256 = 2**256 - 1
USDC = 10**6


def _quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run_settlement(
    preset: str,
    *,
    seed: int = 0,
    transfers: int = 30,
    interval: float = 60.0,
    rate: float = 6.0,
    mean_depth: float = 2.0,
) -> dict[str, Any]:
    """One run (see the module docstring); returns its row."""
    if preset not in PRESETS:
        raise ValueError(f"unknown latency preset {preset!r}; known: {', '.join(PRESETS)}")
    devnet = Devnet(n_chains=2, seed=seed, **FINALITY_PRESETS["op-stack"])
    a, b = devnet.chains
    deployment = deploy_bridge(devnet)
    user = a.accounts[1].address
    usdc = a.deploy(CONTRACTS_DIR / "Token.vy", "USD Coin", "USDC", 6)
    deployment.add_token(a, usdc)
    usdc.mint(user, 10**9 * USDC)
    bridge_a = deployment.bridge(a)
    usdc.approve(bridge_a.address, MAX_UINT256, sender=user)
    # the deployment settles first: reorgs only ever touch the transfers
    settled = a.get_finality_time("finalized", a.block_number)
    devnet.advance_to(max(devnet.now, settled or 0.0))
    relayer = Relayer(
        devnet, deployment, latency=preset, confirmations="preset", account=a.accounts[9].address
    ).start()
    injector = ReorgInjector(
        devnet,
        {a.chain_id: ReorgFaults(rate=rate, depth=GeometricDepth(mean=mean_depth, cap=16))},
    ).start()
    rng = seeded_rng("settlement", seed)
    for _ in range(transfers):
        devnet.advance(interval)
        amount = rng.randint(100, 10_000) * USDC
        bridge_a.bridge_out(usdc.address, amount, b.chain_id, user, MAX_UINT256, sender=user)
    injector.stop()
    devnet.advance(0)  # the relayer scans the last block
    horizon = devnet.now + 7.5 * 86_400
    while not relayer.is_quiescent and devnet.now < horizon:
        devnet.advance(interval)
        a.mine()  # A goes on producing a block per interval: confirmations keep coming
    records = relayer.messages()
    executed = [r for r in records if r.status == "executed"]
    unbacked = relayer.reconcile()
    relayed_usdc = (
        sum(r.token_transfer.amount for r in executed if r.token_transfer is not None) / USDC
    )
    unbacked_usdc = sum(m.amount for m in unbacked) / USDC
    latencies = [r.latency for r in executed if r.latency is not None]
    wrapped = deployment.wrapped_token(a, usdc, b)
    supply_gap = (int(wrapped.totalSupply()) - int(bridge_a.locked(usdc.address))) / USDC
    relayer.stop()
    return {
        "preset": preset,
        "confirmation": relayer.confirmation[(a.chain_id, b.chain_id)].describe(),
        "seed": seed,
        "transfers": len(records),
        "reorgs": sum(1 for r in injector.log if r.depth > 0),
        "relayed": len(executed),
        "orphaned": sum(1 for r in records if r.status == "orphaned"),
        "unbacked": len(unbacked),
        "relayed_usdc": relayed_usdc,
        "unbacked_usdc": unbacked_usdc,
        "unbacked_share": unbacked_usdc / relayed_usdc if relayed_usdc else 0.0,
        "supply_gap_usdc": supply_gap,
        "latency_p50_s": _quantile(latencies, 0.5),
        "latency_p95_s": _quantile(latencies, 0.95),
    }


def settlement_sweep(
    presets: Sequence[str] = ("intent-fill", "fast-attestation", "finality"),
    seeds: Sequence[int] = (0, 1, 2),
    **options: Any,
) -> list[dict[str, Any]]:
    """:func:`run_settlement` for every (preset, seed), in that order."""
    return [run_settlement(p, seed=s, **options) for p in presets for s in seeds]


def render_settlement(rows: Sequence[dict[str, Any]]) -> str:
    """Per-preset totals over the seeds: unbacked value and latency side by side."""
    headers = (
        "preset",
        "confirms",
        "runs",
        "transfers",
        "reorgs",
        "orphaned",
        "unbacked",
        "unbacked USDC",
        "share",
        "latency p50",
        "latency p95",
    )
    lines = [headers]
    for preset in dict.fromkeys(r["preset"] for r in rows):
        group = [r for r in rows if r["preset"] == preset]
        relayed = sum(r["relayed_usdc"] for r in group)
        unbacked = sum(r["unbacked_usdc"] for r in group)
        lines.append(
            (
                preset,
                group[0]["confirmation"],
                str(len(group)),
                str(sum(r["transfers"] for r in group)),
                str(sum(r["reorgs"] for r in group)),
                str(sum(r["orphaned"] for r in group)),
                str(sum(r["unbacked"] for r in group)),
                f"{unbacked:,.0f}",
                f"{unbacked / relayed:.2%}" if relayed else "-",
                f"{statistics.median(r['latency_p50_s'] for r in group):,.0f} s",
                f"{max(r['latency_p95_s'] for r in group):,.0f} s",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in out)

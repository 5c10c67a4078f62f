"""Relayer benchmark: bridge messages per second end to end on virtual time.

One run: ``messages`` USDC transfers A → B through the token bridge (each a signed
``bridge_out`` transaction emitting ``MessageSent``), then the clock advances until the
relayer has relayed and executed every one (attestation signing, relay transaction,
``MessageDelivered`` observed, SQLite store updated). Reported per run: end-to-end
messages/s (send + relay + execute over wall time) and relay-only messages/s (the
relayer's share: advance phase only). Medians over ``repeats`` runs, each from the same
devnet snapshot, so every run does identical work.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge._deploy import CONTRACTS_DIR, deploy_bridge
from bridge._relayer import Relayer
from bridge.store import MessageStore
from chains import Devnet

__all__ = ["render_relayer_bench", "run_relayer_bench"]

MAX_UINT256 = 2**256 - 1


def run_relayer_bench(
    *,
    messages: int = 200,
    repeats: int = 5,
    latency: str = "fast-attestation",
    file_store: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark; return the per-run figures and their medians."""
    if messages < 1 or repeats < 1:
        raise ValueError(f"messages and repeats must be ≥ 1, got {messages}, {repeats}")
    say = progress or (lambda _message: None)
    say("deploying the bridge on a 2-chain devnet")
    devnet = Devnet(n_chains=2, seed=0)
    a, b = devnet.chains
    deployment = deploy_bridge(devnet)
    user = a.accounts[1].address
    usdc = a.deploy(CONTRACTS_DIR / "Token.vy", "USD Coin", "USDC", 6)
    deployment.add_token(a, usdc)
    usdc.mint(user, 10**15)
    usdc.approve(deployment.bridge(a).address, MAX_UINT256, sender=user)
    bridge_a = deployment.bridge(a)
    runs = []
    with tempfile.TemporaryDirectory(prefix="relayer-bench-") as tmp:
        for index in range(repeats):
            with devnet.anchor():
                path = Path(tmp) / f"run{index}.sqlite" if file_store else ":memory:"
                store = MessageStore(path)
                relayer = Relayer(devnet, deployment, store=store, latency=latency).start()
                t0 = time.perf_counter()
                for i in range(messages):
                    bridge_a.bridge_out(
                        usdc.address, 1_000 + i, b.chain_id, user, MAX_UINT256, sender=user
                    )
                t1 = time.perf_counter()
                while store.count("executed") < messages:
                    devnet.advance(3_600.0)
                t2 = time.perf_counter()
                relayer.stop()
                store.close()
            run = {
                "send_s": t1 - t0,
                "relay_s": t2 - t1,
                "end_to_end_per_s": messages / (t2 - t0),
                "relay_per_s": messages / (t2 - t1),
            }
            runs.append(run)
            say(
                f"run {index + 1}/{repeats}: {run['end_to_end_per_s']:.1f} messages/s end to end, "
                f"{run['relay_per_s']:.1f}/s relay only"
            )
    return {
        "messages_per_run": messages,
        "latency": latency,
        "store": "file (WAL)" if file_store else "memory",
        "runs": runs,
        "median_end_to_end_per_s": statistics.median(r["end_to_end_per_s"] for r in runs),
        "median_relay_per_s": statistics.median(r["relay_per_s"] for r in runs),
    }


def render_relayer_bench(result: dict[str, Any]) -> str:
    """A short human summary of :func:`run_relayer_bench`'s result."""
    runs = " ".join(f"{r['end_to_end_per_s']:.1f}" for r in result["runs"])
    return "\n".join(
        [
            f"relayer, {result['messages_per_run']} token transfers A → B per run, latency "
            f"{result['latency']}, store {result['store']}, virtual time",
            f"  end to end (send + relay + execute): median "
            f"{result['median_end_to_end_per_s']:.1f} messages/s   runs: {runs}",
            f"  relay only (observe, attest, relay, execute, record): median "
            f"{result['median_relay_per_s']:.1f} messages/s",
        ]
    )

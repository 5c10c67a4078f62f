"""``testbed up``: build the live devnet (:mod:`scenarios.live`), serve it, print its banner."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from scenarios.report import format_table

__all__ = ["add_up_parser", "dev_balance"]


def dev_balance(chains: Sequence[Any]) -> str:
    """Each dev account's genesis balance as configured: ``10,000 ETH each on every chain``,
    or per chain when the chains' configs differ."""

    def ether(wei: int) -> str:
        return f"{(Decimal(wei) / 10**18).normalize():,f}"

    balances = {chain.config.balance for chain in chains}
    if len(balances) == 1:
        return f"{ether(balances.pop())} ETH each on every chain"
    return "ETH each: " + ", ".join(f"{c.name} {ether(c.config.balance)}" for c in chains)


def add_up_parser(sub: Any) -> None:
    """Register ``testbed up`` on the top-level subparsers."""
    up = sub.add_parser(
        "up",
        help="the live devnet: N chains over JSON-RPC (HTTP + WebSocket) with the relayer",
        description="Start N chains, each serving JSON-RPC (HTTP and WebSocket) on "
        "consecutive ports, with the bridge deployed and the relayer running in real time. "
        "Prints the chains, dev accounts and addresses and writes them to a JSON manifest. "
        "Ctrl-C or SIGTERM stops cleanly.",
    )
    up.add_argument("--chains", type=int, default=3, help="number of chains (default 3)")
    up.add_argument("--config", help="TOML devnet config instead of --chains")
    up.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    up.add_argument("--port", type=int, default=8545, help="first chain's port (default 8545)")
    up.add_argument(
        "--block-time",
        type=float,
        help="seconds per block: interval mining with empty blocks (default: automine)",
    )
    up.add_argument(
        "--latency",
        default="interop",
        help="relayer latency preset (default interop; see bridge.PRESETS)",
    )
    up.add_argument("--deploy-suite", action="store_true", help="deploy the DeFi suite too")
    up.add_argument(
        "--state",
        help="load the whole devnet from FILE if it exists, save it there on exit",
    )
    up.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    up.add_argument(
        "--state-dir", default=".testbed", help="manifest and relayer store (default .testbed)"
    )
    up.add_argument("--manifest", help="manifest path (default STATE_DIR/manifest.json)")
    up.set_defaults(func=_cmd_up)


def _up_banner(live: Any) -> str:
    manifest = live.manifest()
    lines = [
        f"composability-testbed live devnet: {len(manifest['chains'])} chain(s), "
        f"seed {manifest['seed']}" + (" (resumed from state)" if live.is_resumed else ""),
        "",
        format_table(
            ["chain", "id", "rpc", "ws", "mining"],
            [
                [
                    c["name"],
                    c["chain_id"],
                    c["rpc_url"],
                    c["ws_url"],
                    "auto" if c["mining"] == "auto" else f"{c['mining']} {c['block_time']:g} s",
                ]
                for c in manifest["chains"]
            ],
        ),
        "",
        f"dev accounts, {dev_balance(live.devnet.chains)} "
        "(mnemonic: test test test test test test test test test test test junk)",
    ]
    for i, account in enumerate(manifest["accounts"]):
        lines.append(f"  ({i}) {account['address']}  {account['private_key']}")
    bridge = manifest["bridge"]
    if bridge is not None:
        lines += [
            "",
            "bridge (messenger, token bridge per chain id)",
            format_table(
                ["chain id", "messenger", "token bridge"],
                [[k, v, bridge["token_bridges"][k]] for k, v in bridge["messengers"].items()],
            ),
            f"  attesters: {len(bridge['attesters'])}, threshold {bridge['threshold']}",
            f"relayer: account {manifest['relayer']['account']}, latency "
            f"{manifest['relayer']['latency']}, store {manifest['relayer']['store']}",
            "  admin methods: " + ", ".join(manifest["relayer"]["admin_methods"]),
        ]
    else:
        lines += ["", "bridge: not deployed (it needs at least 2 chains)"]
    for chain_id, contracts in manifest["suites"].items():
        lines += ["", f"DeFi suite on chain {chain_id}"]
        lines += [f"  {name:<10} {address}" for name, address in contracts.items()]
    lines += ["", f"manifest: {live.options.manifest_path}"]
    if manifest["state_file"]:
        lines.append(f"state: saved to {manifest['state_file']} on exit")
    lines.append("listening; Ctrl-C (or SIGTERM) stops and persists")
    return "\n".join(lines)


def _cmd_up(args: argparse.Namespace) -> int:
    from scenarios.live import LiveDevnet, UpOptions  # the server stack only when serving

    options = UpOptions(
        chains=args.chains,
        config=Path(args.config) if args.config else None,
        host=args.host,
        port=args.port,
        block_time=args.block_time,
        latency=args.latency,
        deploy_suite=args.deploy_suite,
        state=Path(args.state) if args.state else None,
        seed=args.seed,
        state_dir=Path(args.state_dir),
        manifest=Path(args.manifest) if args.manifest else None,
    )

    def progress(message: str) -> None:
        print(f"[up] {message}", file=sys.stderr, flush=True)

    live = LiveDevnet.build(options, progress=progress)
    asyncio.run(live.serve(on_ready=lambda: print(_up_banner(live), flush=True)))
    print("stopped" + (f"; state saved to {options.state}" if options.state else ""), flush=True)
    return 0

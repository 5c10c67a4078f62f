"""The ``testbed`` command line.

    testbed devnet [--chains N] [--seed K] [--config FILE]   build a devnet, show its chains
    testbed up [--chains N] [--port P] [--block-time S] [--state FILE] ...   the live devnet
    testbed bench engine [--json] [--repeats N] [--scale F] [--sequential]   the engine benchmark
    testbed bench rpc [--json] [--clients N] [--rounds R] [--repeats K]   the RPC load benchmark
    testbed bench relayer [--json] [--repeats N] [--messages N]   relayer messages/s
    testbed presets [--json]                                  the bridge latency presets
    testbed run --mode M [--chains 2|3] [--latency P] [--sigma S] [--notional N] [--seed K] [--json]
    testbed demo [--seed K] [--out DIR]                        every mode side by side
    testbed sweep --modes ... --latency ... --out DIR [--resume]   a parallel, resumable sweep
    testbed report DIR                                        plots and HTML of a sweep folder
    testbed bench scenario [--json] [--sweep-runs N]          runs/s per mode, sweep time

Presentation (tables, progress lines) lives here; everything it shows comes from the
packages below, which log and never print.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from chains import ChainError, ConfigError, Devnet
from scenarios.cli._up import add_up_parser, dev_balance
from scenarios.report import format_table


def _cmd_devnet(args: argparse.Namespace) -> int:
    from scenarios.bench import bench_source

    if args.config:
        devnet = Devnet.from_toml(args.config, seed=args.seed)
    else:
        devnet = Devnet(n_chains=args.chains, seed=args.seed)
    rows = []
    for chain in devnet.chains:
        token0 = chain.deploy(bench_source("BenchToken.vy"), "Token0", "T0", 10**30)
        token1 = chain.deploy(bench_source("BenchToken.vy"), "Token1", "T1", 10**30)
        pool = chain.deploy(bench_source("BenchPool.vy"), token0.address, token1.address)
        token0.approve(pool.address, 2**256 - 1)
        token1.approve(pool.address, 2**256 - 1)
        pool.add_liquidity(10**24, 10**24)
        out = pool.swap(10**18, True, 0)
        receipt = chain.last_receipt
        assert receipt is not None
        rows.append(
            [
                chain.name,
                chain.chain_id,
                chain.config.mining,
                chain.block_number,
                pool.address,
                f"{out / 1e18:.6f}",
                receipt.gas_used,
                "0x" + chain.get_block("latest").hash.hex()[:16] + "…",
            ]
        )
    print(f"{devnet!r}\n")
    print(
        format_table(
            ["chain", "id", "mining", "block", "pool", "1 T0 → T1", "swap gas", "head"],
            rows,
        )
    )
    print("\ndev accounts (mnemonic: test test test test test test test test test test test junk)")
    for i, account in enumerate(devnet.chains[0].accounts[:3]):
        print(f"  ({i}) {account.address}  key 0x{bytes(account.key).hex()}")
    print(f"  ... {len(devnet.chains[0].accounts)} accounts with {dev_balance(devnet.chains)}")
    return 0


def _cmd_bench_engine(args: argparse.Namespace) -> int:
    from scenarios.bench import PATHS, run_engine_bench

    paths = tuple(args.paths) if args.paths else PATHS

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result = run_engine_bench(
        paths=paths,
        repeats=args.repeats,
        scale=args.scale,
        startup=not args.no_startup,
        interleave=not args.sequential,
        progress=progress,
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = [
        [
            path,
            info["swaps_per_run"],
            info["median"],
            info["cpu_median"],
            " ".join(str(r) for r in info["runs"]),
        ]
        for path, info in result["paths"].items()
    ]
    print(format_table(["path", "swaps/run", "median swaps/s", "by CPU time", "runs (wall)"], rows))
    targets = result["targets"]
    print()
    print(
        format_table(
            ["ratio", "by CPU time", "by wall clock", "target"],
            [
                [k, v, result["ratios_wall"][k], f"≥ {targets[k]}"]
                for k, v in result["ratios"].items()
            ],
        )
    )
    if "startup" in result:
        s = result["startup"]
        print(
            f"\nstart-up, {s['chains']} chains with pair + pool: {s['startup_s']:.2f} s "
            f"(target < 10 s), peak RSS {s['peak_rss_mib']:.0f} MiB (target < 1024 MiB)"
        )
    return 0


def _cmd_bench_rpc(args: argparse.Namespace) -> int:
    from scenarios.bench import run_rpc_bench

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result = run_rpc_bench(
        clients=args.clients, rounds=args.rounds, repeats=args.repeats, progress=progress
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['clients']} concurrent clients on loopback, {result['rounds_per_client']} "
        f"rounds each of {', '.join(result['mix'])}"
    )
    print(
        format_table(
            ["run", "requests", "seconds", "req/s", "errors"],
            [
                [i + 1, r["requests"], r["seconds"], r["rps"], r["errors"]]
                for i, r in enumerate(result["runs"])
            ],
        )
    )
    print(f"\nmedian {result['median_rps']} req/s, {result['errors']} errors in all")
    return 0 if result["errors"] == 0 else 1


def _cmd_presets(args: argparse.Namespace) -> int:
    from bridge import render_presets

    print(render_presets(as_json=args.json))
    return 0


def _cmd_bench_relayer(args: argparse.Namespace) -> int:
    from bridge import render_relayer_bench, run_relayer_bench

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result = run_relayer_bench(
        messages=args.messages, repeats=args.repeats, latency=args.latency, progress=progress
    )
    print(json.dumps(result, indent=2) if args.json else render_relayer_bench(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="testbed",
        description="Multi-chain py-evm testbed: devnet, benchmarks, cross-chain scenarios.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    devnet = sub.add_parser("devnet", help="build a devnet, deploy a pool on each chain, show it")
    devnet.add_argument("--chains", type=int, default=3, help="number of chains (default 3)")
    devnet.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    devnet.add_argument("--config", help="TOML devnet config instead of --chains")
    devnet.set_defaults(func=_cmd_devnet)

    add_up_parser(sub)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    engine = bench_sub.add_parser("engine", help="swap loop on every execution path")
    engine.add_argument("--json", action="store_true", help="print the result as JSON")
    engine.add_argument("--repeats", type=int, default=5, help="timed runs per path (median)")
    engine.add_argument("--scale", type=float, default=1.0, help="multiply the swaps per run")
    engine.add_argument(
        "--paths",
        nargs="+",
        choices=["native_interval", "native_automine", "web3", "ethtester", "boa"],
        help="only these paths",
    )
    engine.add_argument("--no-startup", action="store_true", help="skip the start-up figure")
    engine.add_argument(
        "--sequential",
        action="store_true",
        help="run each path's repeats back to back (default: interleave the paths per "
        "round and report the median of per-round ratios, robust to load drift)",
    )
    engine.set_defaults(func=_cmd_bench_engine)
    rpc = bench_sub.add_parser("rpc", help="concurrent JSON-RPC clients against a live server")
    rpc.add_argument("--json", action="store_true", help="print the result as JSON")
    rpc.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    rpc.add_argument("--rounds", type=int, default=50, help="rounds of 4 requests per client")
    rpc.add_argument("--repeats", type=int, default=3, help="timed runs (median)")
    rpc.set_defaults(func=_cmd_bench_rpc)
    relayer = bench_sub.add_parser(
        "relayer", help="bridge messages/s end to end on virtual time (send, relay, execute)"
    )
    relayer.add_argument("--json", action="store_true", help="print the result as JSON")
    relayer.add_argument("--repeats", type=int, default=5, help="timed runs (median)")
    relayer.add_argument("--messages", type=int, default=200, help="token transfers per run")
    relayer.add_argument("--latency", default="fast-attestation", help="latency preset")
    relayer.set_defaults(func=_cmd_bench_relayer)

    presets = sub.add_parser("presets", help="list the bridge latency presets")
    presets.add_argument("--json", action="store_true", help="print the presets as JSON")
    presets.set_defaults(func=_cmd_presets)

    from scenarios.cli._run import add_commands

    add_commands(sub)

    from scenarios.cli._sweep import (
        add_bench_scenario_parser,
        add_report_parser,
        add_sweep_parser,
    )

    add_bench_scenario_parser(bench_sub)
    add_sweep_parser(sub)
    add_report_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, ChainError, ValueError) as exc:
        print(f"testbed: error: {exc}", file=sys.stderr)
        return 2

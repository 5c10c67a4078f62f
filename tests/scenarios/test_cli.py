"""``testbed run`` and ``testbed demo`` through the real entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scenarios import LATENCY_PRESETS, METRIC_KEYS, RunResult
from scenarios.cli import main


def test_run_json_prints_every_metric(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--mode", "sequential", "--sigma", "0.5", "--seed", "2", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == set(METRIC_KEYS)
    assert metrics["outcome"] == "complete"
    assert metrics["transactions"] == 9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--latency", "warp"], "latency='warp' is not a known latency preset; known: same-block"),
        (["--ltv", "0.9"], "target_ltv=0.9 is at or above the market's liquidation threshold"),
        (["--notional", "3e6"], "beyond the WETH/USDC pool's depth"),
        (["--chains", "7"], "chains=7 must be 2 to 5"),
    ],
    ids=["unknown-preset", "ltv-above-threshold", "notional-beyond-depth", "chains"],
)
def test_run_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("testbed: error: ") and message in err


def test_run_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "spec.toml"
    good.write_text('mode = "sequential"\nsigma = 0.0\nseed = 3\n')
    assert main(["run", "--config", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["price_move"] == 0.0

    for name, text, message in [
        ("broken.toml", "sigma = ", "broken.toml: not valid TOML"),
        ("broken.json", "{", "broken.json: not valid JSON"),
        ("list.json", "[1]", "expected a table of RunSpec fields, got list"),
        ("typo.json", '{"sigmaa": 1}', "unknown RunSpec key(s): sigmaa"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        assert main(["run", "--config", str(path)]) == 2
        assert message in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_demo_prints_the_table_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--seed", "1", "--preset-seeds", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "atomic" in text and "sequential" in text and "vs atomic (USDC)" in text
    lines = (out / "runs.jsonl").read_text().splitlines()
    runs = [RunResult.from_json(json.loads(line)) for line in lines]
    # the coordination ladder side by side, strongest guarantee first
    ladder = ["atomic", "superblock", "shared-sequencer", "intent", "bridged", "sequential"]
    assert [r.spec.mode for r in runs][:6] == ladder
    header = next(line for line in text.splitlines() if line.startswith("metric "))
    assert re.split(r"\s{2,}", header)[1:7] == ladder
    assert runs[4].metrics["capital_in_flight_usd_s"] > 0
    assert runs[1].metrics["latency_s"] == 0.0  # the superblock: one slot
    assert runs[1].metrics["user_latency_s"] == 0.0
    # intent: the user waits for the fills, the solver for the bridge
    assert runs[3].metrics["user_latency_s"] < runs[4].metrics["user_latency_s"]
    assert runs[3].metrics["risk_bearer"] == "solver"
    # the intent solver's economics per preset
    assert "intent solver economics" in text
    # the second table: bridged under every preset (the demo's own preset is not repeated)
    bridged = [r for r in runs if r.spec.mode == "bridged"]
    assert sorted(r.spec.latency for r in bridged) == sorted(LATENCY_PRESETS)
    assert len({r.spec.key() for r in runs}) == len(runs)
    assert all(r.metrics["outcome"] == "complete" for r in runs[:6])
    intent = [r for r in runs if r.spec.mode == "intent"]
    assert sorted(r.spec.latency for r in intent) == sorted(LATENCY_PRESETS)
    assert len({r.metrics["user_latency_s"] for r in intent}) == 1
    table = text[text.index("bridged (3 chains) under each latency preset") :]
    cells = [re.split(r"\s{2,}", line) for line in table.splitlines()[3:9]]
    rows = {row[0]: row for row in cells}
    assert list(rows) == list(LATENCY_PRESETS)
    slowest = {r.spec.latency: r.metrics["latency_s"] for r in bridged}
    assert slowest["optimistic-canonical"] > 6.4 * 86_400 > 3_600 > slowest["fast-attestation"]
    assert rows["same-block"][4] == "1/1" and rows["same-block"][7] == "0"
    # the demo leads with the all-in cost, which grows with the bridge's latency
    assert text.index("ALL-IN COST (bps)") < text.index("outcome")
    cost = {p: r.metrics["all_in_cost_bps"] for p, r in ((r.spec.latency, r) for r in bridged)}
    assert cost["same-block"] < cost["finality"] < cost["optimistic-canonical"]
    assert cost["fast-attestation"] < cost["optimistic-canonical"]
    assert "all-in cost by component" in table
    assert "# testbed demo" in (out / "summary.md").read_text()
    assert (out / "report" / "index.html").is_file()


def test_demo_without_the_preset_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--preset-seeds", "0", "--out", str(out)]) == 0
    assert "under each latency preset" not in capsys.readouterr().out
    assert len((out / "runs.jsonl").read_text().splitlines()) == 6  # the ladder
    assert main(["demo", "--preset-seeds", "-1", "--out", str(out)]) == 2
    assert "--preset-seeds" in capsys.readouterr().err


def test_run_bridged_two_chains(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--mode", "bridged", "--chains", "2", "--latency", "interop", "--json"]
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["outcome"] == "complete"
    assert metrics["transactions"] == 11
    assert metrics["capital_in_flight_usd_s"] > 0


def test_devnet_prints_the_configured_balance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "devnet.toml"
    config.write_text(
        "[[chains]]\nchain_id = 5\nbalance = 500000000000000000\n"
        "[[chains]]\nchain_id = 6\nbalance = 500000000000000000\n"
    )
    assert main(["devnet", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "accounts with 0.5 ETH each on every chain" in out
    assert "10,000 ETH" not in out


def test_devnet_prints_each_chains_balance_when_they_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "devnet.toml"
    config.write_text(
        '[[chains]]\nchain_id = 5\nname = "l1"\nbalance = 2000000000000000000000\n'
        '[[chains]]\nchain_id = 6\nname = "l2"\n'
    )
    assert main(["devnet", "--config", str(config)]) == 0
    assert "accounts with ETH each: l1 2,000, l2 10,000" in capsys.readouterr().out

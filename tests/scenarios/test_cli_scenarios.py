"""``testbed plan`` and ``--scenario``/``--placement`` on run and sweep, through the entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from scenarios.cli import main

EXAMPLES = Path(__file__).parents[2] / "examples" / "scenarios"
USER = str(EXAMPLES / "user-lever.toml")


def test_plan_prints_the_legs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--scenario", "remote-start", "--placement", "amm=A,lending=B,cdp=C"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "placement amm=A,lending=B,cdp=C  (3 chain(s); user's USDC starts on B)" in out
    assert "bridge all USDC B → A" in out
    assert "bridge hops 5" in out


def test_plan_json_and_atomic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--scenario", "leverage-loop", "--mode", "atomic", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["mode"] == "atomic"
    assert {leg["tx"] for leg in plan["legs"]} == {1}


def test_plan_user_file_uses_its_placement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--scenario", USER]) == 0
    out = capsys.readouterr().out
    assert "placement dex=A,money-market=B" in out
    assert "bridge all received:buy WETH A → B" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--scenario", "nope"], "unknown scenario 'nope'; built-ins: "),
        (["plan", "--placement", "amm=A,lending=B"], "venue 'cdp' is not placed on a chain"),
        (["plan", "--placement", "amm"], "'amm' is not venue=CHAIN"),
        (["plan", "--mode", "warp"], "mode='warp' has no planner"),
        (
            ["run", "--scenario", "swap-borrow-refinance", "--placement", "amm=B,lending=A,cdp=F"],
            "needs 6 chains; a world has at most 5",
        ),
    ],
    ids=["unknown-scenario", "venue-not-placed", "bad-placement", "unknown-mode", "too-many"],
)
def test_scenario_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--mode", "bridged"] if argv[0] == "run" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("testbed: error: ") and message in err


def test_run_user_toml_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--scenario", USER, "--mode", "bridged", "--seed", "3", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["outcome"] == "complete"
    assert metrics["transactions"] == 4  # swap, bridge WETH to B, supply, borrow
    assert metrics["divergence_bps"] == pytest.approx(0.0, abs=5.0)


def test_sweep_takes_scenarios_as_an_axis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s"
    argv = [
        "sweep",
        "--modes",
        "atomic,bridged",
        "--scenario",
        f"remote-start,{USER}",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["scenario"], r["mode"]) for r in rows] == [
        ("remote-start", "atomic"),
        ("remote-start", "bridged"),
        (USER, "atomic"),
        (USER, "bridged"),
    ]
    assert all(r["outcome"] == "complete" for r in rows)
    # each scenario against its own atomic run: the fees, not another scenario's value
    assert all(abs(float(r["divergence_bps"])) < 5 for r in rows)

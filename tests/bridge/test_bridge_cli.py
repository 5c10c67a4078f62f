"""The bridge commands of the CLI, through the real entry point: `testbed presets` and
`testbed bench relayer`."""

from __future__ import annotations

import json

import pytest

from scenarios.cli import main


def test_presets_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["preset", "distribution", "median", "p95"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == [
        "same-block",
        "interop",
        "intent-fill",
        "fast-attestation",
        "finality",
        "optimistic-canonical",
    ]
    assert "uniform(8 s, 20 s)" in out
    assert "Circle CCTP docs" in out


def test_presets_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["finality"]["median"] == 16 * 60.0
    assert by_name["optimistic-canonical"]["p95"] > 6.9 * 86_400
    assert set(rows[0]) == {
        "name",
        "distribution",
        "median",
        "p95",
        "stands_for",
        "source",
        "confirmation",
    }
    assert by_name["intent-fill"]["confirmation"] == "0 blocks"  # fast, exposed to reorgs
    assert by_name["finality"]["confirmation"] == "finalized"  # safe, slow


def test_bench_relayer_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "relayer", "--messages", "3", "--repeats", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["messages_per_run"] == 3 and len(result["runs"]) == 1
    assert result["median_end_to_end_per_s"] > 0 and result["runs"][0]["cpu_s"] > 0


def test_settlement_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settlement", "--seeds", "1", "--transfers", "4", "--rate", "30", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["preset"] for r in rows] == ["intent-fill", "fast-attestation", "finality"]
    assert [r["confirmation"] for r in rows] == ["0 blocks", "2 blocks", "finalized"]
    assert all(r["unbacked_usdc"] == r["supply_gap_usdc"] for r in rows)

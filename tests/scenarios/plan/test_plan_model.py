"""Scenarios as data: amounts, steps, TOML files, placements, and the validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.plan import (
    BUILTINS,
    AtLtv,
    Holding,
    Placement,
    Received,
    Scenario,
    ScenarioError,
    Units,
    load_scenario,
    load_scenario_file,
    parse_amount,
    validate,
)

THREE = Placement.parse("amm=A,lending=B,cdp=C")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("all", Holding()),
        ("25%", Holding(0.25)),
        (1500, Units(1500.0)),
        ("1.5", Units(1.5)),
        ("received:swap", Received("swap")),
        ("50% received:borrow1", Received("borrow1", 0.5)),
        ("ltv", AtLtv()),
        ("ltv:0.4", AtLtv(0.4)),
    ],
    ids=["all", "percent", "int", "text-number", "received", "half-received", "ltv", "ltv-x"],
)
def test_parse_amount(text: object, amount: object) -> None:
    assert parse_amount(text, "step 0") == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots", "is not one of"),
        (-3, "must be a positive"),
        ("0%", "must be in (0, 1]"),
        ("150%", "must be in (0, 1]"),
        ("ltv:1.2", "must be in (0, 1)"),
        ("received:", "needs a step id"),
        (True, "must be a number"),
    ],
    ids=["word", "negative", "zero-pct", "over-100-pct", "ltv-over-1", "empty-ref", "bool"],
)
def test_parse_amount_bad_input_names_the_field(text: object, message: str) -> None:
    with pytest.raises(ScenarioError, match="step 3 field 'amount'") as info:
        parse_amount(text, "step 3 field 'amount'")
    assert message in str(info.value)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_round_trip_and_validate(name: str) -> None:
    scenario = BUILTINS[name]
    assert Scenario.from_mapping(scenario.to_mapping()) == scenario
    validate(scenario, Placement.spread(scenario, 3), needs_atomic=True)
    validate(scenario, Placement.one_chain(scenario), needs_atomic=True)


def test_examples_match_builtins() -> None:
    folder = Path(__file__).parents[3] / "examples" / "scenarios"
    for name, scenario in BUILTINS.items():
        loaded, _ = load_scenario_file(folder / f"{name}.toml")
        assert loaded == scenario, name


def test_load_user_toml(tmp_path: Path) -> None:
    path = tmp_path / "lever.toml"
    path.write_text(
        'name = "lever"\n[venues]\namm = "amm"\nlending = "lending"\n'
        '[placement]\namm = "A"\nlending = "b"\n'
        '[[steps]]\nkind = "swap"\nsell = "USDC"\nbuy = "WETH"\n'
        '[[steps]]\nkind = "supply"\n'
        '[[steps]]\nkind = "borrow"\namount = "ltv:0.3"\n'
    )
    scenario, placement = load_scenario(str(path))
    assert scenario.name == "lever"
    assert [s.kind for s in scenario.steps] == ["swap", "supply", "borrow"]
    assert scenario.steps[2].amount == AtLtv(0.3)  # type: ignore[union-attr]
    assert placement == Placement((("amm", "A"), ("lending", "B")))
    validate(scenario, placement, needs_atomic=True)


def test_load_unknown_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'; built-ins"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(str(bad))


def test_placement_parse_and_chain_count() -> None:
    placement = Placement.parse("amm=A,lending=B,cdp=E,start=b")
    assert placement.chain_of == {"amm": "A", "lending": "B", "cdp": "E"}
    assert placement.start == "B"
    assert placement.chains == 5
    assert placement.text() == "amm=A,lending=B,cdp=E,start=B"
    assert Placement.parse("amm=A,lending=A,cdp=A").is_single_chain


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("amm", "is not venue=CHAIN"),
        ("amm=1", "must be a letter A-Z"),
        ("amm=A,amm=B", "placed twice"),
    ],
    ids=["empty", "no-equals", "bad-label", "twice"],
)
def test_placement_bad_input(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Placement.parse(text)


def _scenario(*steps: dict[str, object], **extra: object) -> Scenario:
    return Scenario.from_mapping({"name": "t", "steps": list(steps), **extra})


@pytest.mark.parametrize(
    ("steps", "placement", "message"),
    [
        (
            [{"kind": "swap", "venue": "dex"}],
            THREE,
            "step 0 ('swap1', swap) field 'venue': unknown venue 'dex'",
        ),
        (
            [{"kind": "swap", "venue": "lending"}],
            THREE,
            "venue 'lending' is a lending, a swap needs a amm",
        ),
        (
            [{"kind": "swap"}, {"kind": "supply"}],
            Placement.parse("amm=A"),
            "step 1 ('supply2', supply) field 'venue': venue 'lending' is not placed",
        ),
        (
            [{"kind": "supply"}],
            THREE,
            "step 0 ('supply1', supply) field 'amount': WETH can never reach this step",
        ),
        (
            [{"kind": "swap", "sell": "WETH", "buy": "DAI"}],
            THREE,
            "field 'buy': no pool for WETH→DAI",
        ),
        (
            [{"kind": "swap"}, {"kind": "borrow"}],
            THREE,
            "step 1 ('borrow2', borrow) field 'venue': no collateral supplied",
        ),
        (
            [
                {"kind": "swap", "id": "a", "amount": "received:b"},
                {"kind": "swap", "id": "b", "sell": "WETH", "buy": "USDC", "amount": "received:a"},
            ],
            THREE,
            "cyclic amount reference a → b → a",
        ),
        (
            [
                {"kind": "swap", "id": "a", "sell": "USDC", "buy": "WETH", "amount": "received:b"},
                {"kind": "swap", "id": "b", "sell": "WETH", "buy": "USDC"},
            ],
            THREE,
            "refers to later step 'b'",
        ),
        (
            [{"kind": "swap", "amount": "received:ghost"}],
            THREE,
            "refers to unknown step 'ghost'",
        ),
        (
            [{"kind": "swap", "amount": "ltv"}],
            THREE,
            "'ltv' applies to borrow and draw amounts only",
        ),
        (
            [{"kind": "swap"}],
            Placement.parse("amm=A,dex=B"),
            "placement field 'dex': unknown venue",
        ),
    ],
    ids=[
        "unknown-venue",
        "wrong-kind",
        "not-placed",
        "asset-never-reaches",
        "no-pool",
        "no-collateral",
        "cyclic-ref",
        "forward-ref",
        "unknown-ref",
        "ltv-on-swap",
        "placement-unknown-venue",
    ],
)
def test_validate_refuses_before_running(
    steps: list[dict[str, object]], placement: Placement, message: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        validate(_scenario(*steps), placement)
    assert message in str(info.value)


def test_no_atomic_form_refused_only_when_divergence_is_asked() -> None:
    scenario = _scenario({"kind": "swap"}, {"kind": "wait", "seconds": 60})
    validate(scenario, THREE)
    with pytest.raises(ScenarioError, match="has no atomic form .*wait2"):
        validate(scenario, THREE, needs_atomic=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "t", "steps": [], "extra": 1}, "unknown scenario key"),
        ({"name": "t", "steps": []}, "has no steps"),
        ({"name": "t", "steps": [{"kind": "teleport"}]}, "step 0 field 'kind': 'teleport'"),
        ({"name": "t", "steps": [{"kind": "swap", "colour": 1}]}, "unknown field(s) colour"),
        ({"name": "t", "steps": [{"kind": "swap", "sell": "BTC"}]}, "field 'sell': 'BTC'"),
        ({"name": "t", "steps": [{"kind": "swap", "slippage": 2}]}, "slippage=2"),
        (
            {"name": "t", "steps": [{"kind": "swap", "id": "x"}, {"kind": "swap", "id": "x"}]},
            "'x' is used twice",
        ),
    ],
    ids=[
        "unknown-key",
        "no-steps",
        "unknown-kind",
        "unknown-field",
        "bad-asset",
        "slippage",
        "dup",
    ],
)
def test_from_mapping_bad_input(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_mapping(data)
    assert message in str(info.value)

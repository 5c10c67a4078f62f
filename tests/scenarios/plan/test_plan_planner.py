"""The planner: hops where an asset is on the wrong chain, funding per mode, the table."""

from __future__ import annotations

import pytest

from scenarios.plan import (
    BUILTINS,
    MODES,
    Placement,
    Scenario,
    ScenarioError,
    build_plan,
    get_builtin,
    get_mode,
)


def _hops(plan_legs: tuple) -> list[tuple[str, str, str]]:
    return [(leg.asset, leg.chain, leg.to_chain) for leg in plan_legs if leg.action == "hop"]


def test_remote_start_three_chains_hops_through_home() -> None:
    plan = build_plan(
        get_builtin("remote-start"), Placement.parse("amm=A,lending=B,cdp=C"), "bridged"
    )
    assert _hops(plan.legs) == [
        ("USDC", "B", "A"),  # the user's USDC crosses to the AMM before the swap
        ("WETH", "A", "B"),
        ("WETH", "B", "A"),  # wrapped WETH only goes home: B → A → C
        ("WETH", "A", "C"),
        ("DAI", "C", "A"),
    ]
    assert plan.legs[0].step == "swap"
    assert [leg.action for leg in plan.legs if leg.action != "hop"] == [
        "swap",
        "supply",
        "borrow",
        "front_repay",
        "withdraw",
        "lock",
        "draw",
        "swap",
        "repay_fronter",
    ]
    assert plan.chains == 3
    assert plan.transactions == len(plan.legs)


def test_swap_borrow_refinance_has_no_hop_before_the_swap() -> None:
    plan = build_plan(
        get_builtin("swap-borrow-refinance"), Placement.parse("amm=A,lending=B,cdp=C"), "bridged"
    )
    assert plan.legs[0].action == "swap"
    assert len(plan.hops) == 4


def test_two_chain_layout_has_two_hops() -> None:
    plan = build_plan(
        get_builtin("swap-borrow-refinance"), Placement.parse("amm=A,lending=B,cdp=A"), "bridged"
    )
    assert _hops(plan.legs) == [("WETH", "A", "B"), ("WETH", "B", "A")]


@pytest.mark.parametrize("chains", [1, 2, 3, 4, 5])
def test_any_chain_count_plans(chains: int) -> None:
    labels = "ABCDE"[:chains]
    placement = Placement.parse(
        f"amm={labels[0]},lending={labels[-1]},cdp={labels[min(1, chains - 1)]}"
    )
    plan = build_plan(get_builtin("swap-borrow-refinance"), placement, "bridged")
    assert plan.chains == max(chains, 1)
    for leg in plan.legs:
        if leg.action == "swap":
            assert leg.chain == labels[0]
        elif leg.action in ("supply", "borrow", "front_repay", "withdraw"):
            assert leg.chain == labels[-1]
    if chains == 1:
        assert plan.hops == ()


def test_five_chains_route_wrapped_tokens_home() -> None:
    plan = build_plan(
        get_builtin("remote-start"), Placement.parse("amm=B,lending=D,cdp=E"), "bridged"
    )
    # USDC starts on D (lending), home is A: D → A → B
    assert _hops(plan.legs)[:2] == [("USDC", "D", "A"), ("USDC", "A", "B")]
    assert plan.chains == 5


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_atomic_is_one_transaction_on_one_chain(name: str) -> None:
    scenario = BUILTINS[name]
    plan = build_plan(scenario, Placement.spread(scenario, 3), "atomic")
    assert plan.transactions == 1
    assert plan.hops == ()
    assert {leg.chain for leg in plan.legs} == {"A"}


def test_atomic_refinance_is_flash_funded_sequential_is_fronted() -> None:
    scenario = get_builtin("swap-borrow-refinance")
    atomic = build_plan(scenario, None, "atomic")
    sequential = build_plan(scenario, None, "sequential")
    assert [leg.action for leg in atomic.legs if leg.step == "refinance"] == [
        "flash_mint",
        "swap",
        "repay",
        "withdraw",
        "lock",
        "draw",
        "flash_repay",
    ]
    assert all(leg.inside for leg in atomic.legs[4:9])
    assert "flash mint" in atomic.funding
    assert [leg.action for leg in sequential.legs][3] == "front_repay"
    assert sequential.legs[-1].action == "repay_fronter"
    assert "fronted" in sequential.funding


def test_leverage_loop_bridges_the_borrowed_usdc_back() -> None:
    plan = build_plan(get_builtin("leverage-loop"), Placement.parse("amm=A,lending=B"), "bridged")
    assert _hops(plan.legs).count(("USDC", "B", "A")) == 2
    assert _hops(plan.legs).count(("WETH", "A", "B")) == 3


def test_table_shows_every_leg_and_the_fees() -> None:
    plan = build_plan(
        get_builtin("remote-start"), Placement.parse("amm=A,lending=B,cdp=C"), "bridged"
    )
    text = plan.table()
    assert "scenario  remote-start" in text
    assert "user's USDC starts on B" in text
    assert "bridge all USDC B → A" in text
    assert "0.3% of input (AMM)" in text
    assert len(text.splitlines()) == 4 + 1 + 2 + len(plan.legs)
    assert plan.to_json()["legs"][0]["action"] == "hop"


def test_explicit_bridge_step_places_the_hop() -> None:
    scenario = Scenario.from_mapping(
        {
            "name": "manual",
            "venues": {"amm": "amm", "lending": "lending"},
            "steps": [
                {"kind": "swap"},
                {"kind": "bridge", "asset": "WETH", "venue": "lending"},
                {"kind": "supply"},
            ],
        }
    )
    plan = build_plan(scenario, Placement.parse("amm=A,lending=B"), "bridged")
    assert [(leg.step, leg.action) for leg in plan.legs] == [
        ("swap1", "swap"),
        ("bridge2", "hop"),
        ("supply3", "supply"),
    ]


def test_unknown_mode_and_bad_placement_refused() -> None:
    with pytest.raises(ScenarioError, match="mode='teleport' has no planner; known: "):
        get_mode("teleport")
    assert set(MODES) >= {"atomic", "sequential", "bridged"}
    with pytest.raises(ScenarioError, match="venue 'cdp' is not placed"):
        build_plan(
            get_builtin("swap-borrow-refinance"), Placement.parse("amm=A,lending=B"), "bridged"
        )

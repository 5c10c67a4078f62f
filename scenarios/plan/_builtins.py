"""The built-in scenarios, each a :class:`~scenarios.plan.Scenario` and a TOML file in
``examples/scenarios/`` with the same content (a test keeps them equal)."""

from __future__ import annotations

import dataclasses

from scenarios.plan._model import (
    Borrow,
    Received,
    Refinance,
    Scenario,
    ScenarioError,
    Supply,
    Swap,
    Units,
)

__all__ = ["BUILTINS", "get_builtin"]

SWAP_BORROW_REFINANCE = Scenario(
    "swap-borrow-refinance",
    (
        Swap("swap", "amm", sell="USDC", buy="WETH"),
        Supply("supply_collateral", "lending"),
        Borrow("borrow", "lending"),
        Refinance("refinance", "lending", to="cdp", via="amm"),
    ),
    doc=(
        "DESIGN §5: buy WETH with the notional, supply it, borrow USDC at the target LTV, "
        "move the debt into the CDP vault. The only volatile trade comes first, on the same "
        "pool state in every mode, so its price exposure cancels against atomic: divergence "
        "shows fees and fronting, not latency risk."
    ),
)

REMOTE_START = Scenario(
    "remote-start",
    SWAP_BORROW_REFINANCE.steps,
    start_at="lending",
    doc=(
        "The same steps, but the user's USDC starts on the lending venue's chain: it crosses "
        "to the AMM before the swap, so the WETH bought depends on the price after the hop's "
        "latency τ. Divergence against atomic has a standard deviation ≈ notional·σ√τ once "
        "σ√τ exceeds the AMM's 0.3 % no-arbitrage band (smaller moves leave the pool alone)."
    ),
)

LEVERAGE_LOOP = Scenario(
    "leverage-loop",
    (
        Swap("swap1", "amm", sell="USDC", buy="WETH"),
        Supply("supply1", "lending"),
        Borrow("borrow1", "lending"),
        Swap("swap2", "amm", sell="USDC", buy="WETH", amount=Received("borrow1")),
        Supply("supply2", "lending", amount=Received("swap2")),
        Borrow("borrow2", "lending"),
        Swap("swap3", "amm", sell="USDC", buy="WETH", amount=Received("borrow2")),
        Supply("supply3", "lending", amount=Received("swap3")),
    ),
    venues=(("amm", "amm"), ("lending", "lending")),
    doc=(
        "Two leverage loops: buy WETH, supply it, borrow USDC at the target LTV, bring the "
        "USDC back to the AMM, buy WETH again, supply again. Each borrow is at the target "
        "LTV of all collateral so far, so the debt compounds and the starting health factor "
        "is lower than in swap-borrow-refinance; every hop exposes the loop to the price path."
    ),
)

#: USDC the arbitrage buys with: about the optimal size Δ* for the default 100 bps gap
#: between two pools of the suite's depth (1,000 WETH / 2,000,000 USDC); see
#: ``scenarios.model.arb_profit`` for Δ* and the profit at any size.
ARB_SIZE_USDC = 2_000

CROSS_CHAIN_ARB = Scenario(
    "cross-chain-arb",
    (
        Swap("buy", "cheap", sell="USDC", buy="WETH", amount=Units(ARB_SIZE_USDC)),
        Swap("sell", "dear", sell="WETH", buy="USDC", amount=Received("buy")),
    ),
    venues=(("cheap", "amm"), ("dear", "amm")),
    premium_at="dear",
    doc=(
        "The same WETH/USDC pair on two venues with a price gap (the dear pool is held at "
        "arb_gap_bps over the reference): buy WETH on the cheap pool, sell it on the dear "
        "one. On one chain both legs are one transaction (the reference); across chains the "
        "WETH bought crosses the bridge before the sale (bridge-based arbitrage, Öz et al. "
        "arXiv:2501.17335), so the sale happens at the price after the hop's latency: the "
        "profit's spread across seeds grows like σ√τ. Profitable at σ = 0 only above the "
        "break-even gap 1/γ² − 1 = 60.3 bps of two 0.3 % pools."
    ),
)

CROSS_CHAIN_ARB_INVENTORY = dataclasses.replace(
    CROSS_CHAIN_ARB,
    name="cross-chain-arb-inventory",
    inventory=True,
    doc=(
        "cross-chain-arb with inventory on both chains (inventory-based arbitrage, Öz et "
        "al.): the WETH sold on the dear chain comes from inventory there, at once, and the "
        "WETH bought on the cheap chain crosses the bridge afterwards to replenish it. No "
        "leg waits for the bridge, so the profit is locked in at the start and does not "
        "spread with the hop latency; the cost is the inventory's capital until rebalanced."
    ),
)

BUILTINS: dict[str, Scenario] = {
    s.name: s
    for s in (
        SWAP_BORROW_REFINANCE,
        REMOTE_START,
        LEVERAGE_LOOP,
        CROSS_CHAIN_ARB,
        CROSS_CHAIN_ARB_INVENTORY,
    )
}


def get_builtin(name: str) -> Scenario:
    """The built-in scenario ``name``; a clear error listing the known ones."""
    try:
        return BUILTINS[name]
    except KeyError:
        raise ScenarioError(
            f"unknown scenario {name!r}; built-ins: {', '.join(BUILTINS)} (or a .toml file)"
        ) from None

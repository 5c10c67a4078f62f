"""Router: multi-hop quotes equal the chained formula; slippage and deadline guards."""

from __future__ import annotations

import pytest
from contract_helpers import DAI, MAX_UINT256, USDC, WETH
from testing_helpers import reverts

from chains import Chain, Contract
from scenarios import Suite, get_amounts_in, get_amounts_out, quote

ZERO_ADDRESS = "0x" + "0" * 40


def _hop_reserves(pool: Contract, token_in: str) -> tuple[int, int]:
    r0, r1, _ = pool.get_reserves()
    return (r0, r1) if pool.token0() == token_in else (r1, r0)


def _path_reserves(suite: Suite, path: list[Contract]) -> list[tuple[int, int]]:
    reserves = []
    for a, b in zip(path, path[1:], strict=False):
        pool = suite.chain.at(suite.factory.get_pool(a.address, b.address), abi=suite.weth_usdc.abi)
        reserves.append(_hop_reserves(pool, a.address))
    return reserves


PATHS = {
    "usdc-weth": ("usdc", "weth"),
    "weth-usdc": ("weth", "usdc"),
    "dai-usdc": ("dai", "usdc"),
    "weth-usdc-dai": ("weth", "usdc", "dai"),
    "dai-usdc-weth": ("dai", "usdc", "weth"),
}


@pytest.mark.parametrize("names", PATHS.values(), ids=PATHS)
def test_get_amounts_out_chains_the_formula(suite: Suite, names: tuple[str, ...]) -> None:
    path = [getattr(suite, n) for n in names]
    amount = 3 * 10 ** path[0].decimals()
    expected = get_amounts_out(amount, _path_reserves(suite, path))
    assert list(suite.router.get_amounts_out(amount, [t.address for t in path])) == expected


@pytest.mark.parametrize("names", PATHS.values(), ids=PATHS)
def test_get_amounts_in_chains_the_formula(suite: Suite, names: tuple[str, ...]) -> None:
    path = [getattr(suite, n) for n in names]
    amount = 3 * 10 ** path[-1].decimals()
    expected = get_amounts_in(amount, _path_reserves(suite, path))
    assert list(suite.router.get_amounts_in(amount, [t.address for t in path])) == expected


def test_quote_is_the_marginal_price(suite: Suite) -> None:
    assert suite.router.quote(10**18, 1_000 * WETH, 2_000_000 * USDC) == quote(
        10**18, 1_000 * WETH, 2_000_000 * USDC
    )


def test_swap_exact_in_multi_hop(suite: Suite, trader: str, lp: str, chain: Chain) -> None:
    path = [suite.weth.address, suite.usdc.address, suite.dai.address]
    expected = suite.router.get_amounts_out(WETH, path)
    weth_before = suite.weth.balanceOf(trader)
    amounts = suite.router.swap_exact_tokens_for_tokens(
        WETH, expected[-1], path, lp, chain.timestamp + 60, sender=trader
    )
    assert amounts == expected
    assert suite.weth.balanceOf(trader) == weth_before - WETH
    assert suite.dai.balanceOf(lp) == expected[-1]
    for token in suite.tokens.values():
        assert token.balanceOf(suite.router.address) == 0


def test_swap_exact_in_below_minimum_reverts(suite: Suite, trader: str, chain: Chain) -> None:
    path = [suite.usdc.address, suite.weth.address]
    expected = suite.router.get_amounts_out(1_000 * USDC, path)
    with reverts("router: insufficient output amount"):
        suite.router.swap_exact_tokens_for_tokens(
            1_000 * USDC, expected[-1] + 1, path, trader, chain.timestamp + 60, sender=trader
        )


def test_swap_exact_out(suite: Suite, trader: str, chain: Chain) -> None:
    path = [suite.dai.address, suite.usdc.address]
    suite.router.swap_exact_tokens_for_tokens(
        5_000 * USDC, 0, [suite.usdc.address, suite.dai.address], trader, MAX_UINT256, sender=trader
    )
    expected = suite.router.get_amounts_in(1_000 * USDC, path)
    usdc_before = suite.usdc.balanceOf(trader)
    dai_before = suite.dai.balanceOf(trader)
    suite.router.swap_tokens_for_exact_tokens(
        1_000 * USDC, expected[0], path, trader, chain.timestamp + 60, sender=trader
    )
    assert suite.usdc.balanceOf(trader) - usdc_before == 1_000 * USDC
    assert dai_before - suite.dai.balanceOf(trader) == expected[0]


def test_swap_exact_out_above_maximum_reverts(suite: Suite, trader: str, chain: Chain) -> None:
    path = [suite.usdc.address, suite.weth.address]
    expected = suite.router.get_amounts_in(WETH, path)
    with reverts("router: excessive input amount"):
        suite.router.swap_tokens_for_exact_tokens(
            WETH, expected[0] - 1, path, trader, chain.timestamp + 60, sender=trader
        )


def test_swap_after_deadline_reverts(suite: Suite, trader: str, chain: Chain) -> None:
    with reverts("router: expired"):
        suite.router.swap_exact_tokens_for_tokens(
            USDC,
            0,
            [suite.usdc.address, suite.weth.address],
            trader,
            chain.timestamp,
            sender=trader,
        )


def test_swap_one_token_path_reverts(suite: Suite, trader: str) -> None:
    with reverts("router: invalid path"):
        suite.router.swap_exact_tokens_for_tokens(
            USDC, 0, [suite.usdc.address], trader, MAX_UINT256, sender=trader
        )


def test_swap_without_pool_reverts(suite: Suite, trader: str) -> None:
    with reverts("router: pool not found"):
        suite.router.swap_exact_tokens_for_tokens(
            WETH, 0, [suite.weth.address, suite.dai.address], trader, MAX_UINT256, sender=trader
        )


def test_add_liquidity_at_pool_ratio(suite: Suite, lp: str) -> None:
    pool = suite.weth_usdc
    supply = pool.totalSupply()
    r_weth, r_usdc = _hop_reserves(pool, suite.weth.address)
    amount_a, amount_b, liquidity = suite.router.add_liquidity(
        suite.weth.address, suite.usdc.address, 10 * WETH, 10**30, 0, 0, lp, MAX_UINT256, sender=lp
    )
    assert amount_a == 10 * WETH
    assert amount_b == quote(10 * WETH, r_weth, r_usdc)
    assert liquidity == min(amount_a * supply // r_weth, amount_b * supply // r_usdc)
    assert pool.balanceOf(lp) == liquidity


def test_add_liquidity_below_minimum_reverts(suite: Suite, lp: str) -> None:
    r_weth, r_usdc = _hop_reserves(suite.weth_usdc, suite.weth.address)
    optimal = quote(10 * WETH, r_weth, r_usdc)
    with reverts("router: insufficient b amount"):
        suite.router.add_liquidity(
            suite.weth.address, suite.usdc.address, 10 * WETH, 10**30, 0, optimal + 1, lp,
            MAX_UINT256, sender=lp,
        )  # fmt: skip


def test_add_liquidity_creates_the_pool(suite: Suite, lp: str) -> None:
    assert suite.factory.get_pool(suite.weth.address, suite.dai.address) == ZERO_ADDRESS
    # the LP holds no DAI yet: swap some first
    suite.router.swap_exact_tokens_for_tokens(
        10_000 * USDC, 0, [suite.usdc.address, suite.dai.address], lp, MAX_UINT256, sender=lp
    )
    _, _, liquidity = suite.router.add_liquidity(
        suite.weth.address, suite.dai.address, WETH, 2_000 * DAI, 0, 0, lp, MAX_UINT256, sender=lp
    )
    assert suite.factory.get_pool(suite.weth.address, suite.dai.address) != ZERO_ADDRESS
    assert liquidity > 0


def test_remove_liquidity(suite: Suite, lp: str) -> None:
    _, _, liquidity = suite.router.add_liquidity(
        suite.weth.address, suite.usdc.address, 10 * WETH, 10**30, 0, 0, lp, MAX_UINT256, sender=lp
    )
    r_weth, r_usdc = _hop_reserves(suite.weth_usdc, suite.weth.address)
    supply = suite.weth_usdc.totalSupply()
    suite.weth_usdc.approve(suite.router.address, liquidity, sender=lp)
    weth_before = suite.weth.balanceOf(lp)
    amounts = suite.router.remove_liquidity(
        suite.weth.address, suite.usdc.address, liquidity, 0, 0, lp, MAX_UINT256, sender=lp
    )
    assert amounts == (liquidity * r_weth // supply, liquidity * r_usdc // supply)
    assert suite.weth.balanceOf(lp) - weth_before == amounts[0]
    assert suite.weth_usdc.balanceOf(lp) == 0


def test_remove_liquidity_below_minimum_reverts(suite: Suite, lp: str) -> None:
    _, _, liquidity = suite.router.add_liquidity(
        suite.weth.address, suite.usdc.address, 10 * WETH, 10**30, 0, 0, lp, MAX_UINT256, sender=lp
    )
    suite.weth_usdc.approve(suite.router.address, liquidity, sender=lp)
    with reverts("router: insufficient a amount"):
        suite.router.remove_liquidity(
            suite.weth.address, suite.usdc.address, liquidity, 10 * WETH + 1, 0, lp,
            MAX_UINT256, sender=lp,
        )  # fmt: skip

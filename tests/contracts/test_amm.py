"""ConstantProductPool and PoolFactory: Uniswap v2 semantics, exact to the wei."""

from __future__ import annotations

from collections.abc import Callable
from math import isqrt

import pytest
from contract_helpers import MAX_UINT256, WAD
from testing_helpers import reverts

from chains import Chain, Contract
from scenarios import Suite, get_amount_in, get_amount_out

E18 = 10**18
MINIMUM_LIQUIDITY = 1000
DEAD = "0x000000000000000000000000000000000000dEaD"

# Uniswap v2-core UniswapV2Pair.spec.ts "getInputPrice": (in, reserve0, reserve1, out),
# whole tokens except the expected output in wei. Paying `out` passes, `out + 1` fails k.
UNISWAP_SWAP_CASES = [
    (1, 5, 10, 1662497915624478906),
    (1, 10, 5, 453305446940074565),
    (2, 5, 10, 2851015155847869602),
    (2, 10, 5, 831248957812239453),
    (1, 10, 10, 906610893880149131),
    (1, 100, 100, 987158034397061298),
    (1, 1000, 1000, 996006981039903216),
]

# Uniswap v2-core "optimistic" cases: token0 out, token0 paid back in the same swap
# (out_wei, reserve0, reserve1, in_wei).
UNISWAP_OPTIMISTIC_CASES = [
    (997000000000000000, 5, 10, 10**18),
    (997000000000000000, 10, 5, 10**18),
    (997000000000000000, 5, 5, 10**18),
    (10**18, 5, 5, 1003009027081243732),
]

# get_amount_out / get_amount_in table: (amount, reserve_in, reserve_out)
QUOTE_CASES = {
    "one-wei": (1, 10**18, 10**18),
    "dust-rounds-to-zero": (1, 10**6, 10**6),
    "tenth-of-a-percent": (10**15, 10**18, 2 * 10**18),
    "one-percent": (10**16, 10**18, 10**18),
    "equal-to-reserve": (10**18, 10**18, 10**18),
    "ten-times-reserve": (10**19, 10**18, 10**18),
    "usdc-in-weth-out": (10_000 * 10**6, 2_000_000 * 10**6, 1_000 * 10**18),
    "weth-in-usdc-out": (5 * 10**18, 1_000 * 10**18, 2_000_000 * 10**6),
    "max-reserves": (2**100, 2**112 - 1, 2**112 - 1),
}
# the same, for exact outputs (all below the output reserve)
QUOTE_IN_CASES = {k: v for k, v in QUOTE_CASES.items() if v[0] < v[2]}


@pytest.fixture
def make_pool(
    suite: Suite, deploy: Callable[..., Contract], lp: str, chain: Chain
) -> Callable[[int, int], tuple[Contract, Contract, Contract]]:
    """Deploy two fresh 18-decimal tokens and their pool, seeded with (amount0, amount1)."""

    def _make(amount0: int, amount1: int) -> tuple[Contract, Contract, Contract]:
        a = deploy("Token", "Token A", "TKA", 18, sender=lp)
        b = deploy("Token", "Token B", "TKB", 18, sender=lp)
        suite.factory.create_pool(a.address, b.address, sender=lp)
        pool = chain.at(suite.factory.get_pool(a.address, b.address), abi=suite.weth_usdc.abi)
        token0, token1 = (a, b) if pool.token0() == a.address else (b, a)
        for token in (token0, token1):
            token.mint(lp, 10**30, sender=lp)
        if amount0 or amount1:
            token0.transfer(pool.address, amount0, sender=lp)
            token1.transfer(pool.address, amount1, sender=lp)
            pool.mint(lp, sender=lp)
        return pool, token0, token1

    return _make


# ---------------------------------------------------------------------------- quotes ---


@pytest.mark.parametrize(
    ("amount", "reserve_in", "reserve_out"), QUOTE_CASES.values(), ids=QUOTE_CASES
)
def test_get_amount_out_matches_formula(
    suite: Suite, amount: int, reserve_in: int, reserve_out: int
) -> None:
    assert suite.router.get_amount_out(amount, reserve_in, reserve_out) == get_amount_out(
        amount, reserve_in, reserve_out
    )


@pytest.mark.parametrize(
    ("amount", "reserve_in", "reserve_out"), QUOTE_IN_CASES.values(), ids=QUOTE_IN_CASES
)
def test_get_amount_in_matches_formula(
    suite: Suite, amount: int, reserve_in: int, reserve_out: int
) -> None:
    assert suite.router.get_amount_in(amount, reserve_in, reserve_out) == get_amount_in(
        amount, reserve_in, reserve_out
    )


@pytest.mark.parametrize("amount", [10**18, 10**19], ids=["equal-to-reserve", "above-reserve"])
def test_get_amount_in_for_whole_reserve_reverts(suite: Suite, amount: int) -> None:
    with reverts("amm: insufficient liquidity"):
        suite.router.get_amount_in(amount, 10**18, 10**18)


def test_get_amount_out_zero_input_reverts(suite: Suite) -> None:
    with reverts("amm: insufficient input amount"):
        suite.router.get_amount_out(0, 10**18, 10**18)


def test_get_amount_out_empty_reserves_reverts(suite: Suite) -> None:
    with reverts("amm: insufficient liquidity"):
        suite.router.get_amount_out(1, 0, 10**18)


# ----------------------------------------------------------------------------- swaps ---


@pytest.mark.parametrize(
    ("amount_in", "reserve0", "reserve1", "expected_out"),
    UNISWAP_SWAP_CASES,
    ids=[f"in{c[0]}-r{c[1]}x{c[2]}" for c in UNISWAP_SWAP_CASES],
)
def test_swap_pays_exact_formula_output(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]],
    trader: str,
    amount_in: int,
    reserve0: int,
    reserve1: int,
    expected_out: int,
) -> None:
    pool, token0, token1 = make_pool(reserve0 * E18, reserve1 * E18)
    token0.mint(trader, amount_in * E18, sender=token0.owner())
    token0.transfer(pool.address, amount_in * E18, sender=trader)
    assert get_amount_out(amount_in * E18, reserve0 * E18, reserve1 * E18) == expected_out

    with reverts("amm: k"):
        pool.swap(0, expected_out + 1, trader, b"", sender=trader)
    receipt = pool.swap.transact(0, expected_out, trader, b"", sender=trader)

    assert token1.balanceOf(trader) == expected_out
    assert pool.get_reserves()[:2] == ((reserve0 + amount_in) * E18, reserve1 * E18 - expected_out)
    swap = next(e for e in receipt.events if e.name == "Swap")
    assert swap.args == {
        "sender": trader,
        "amount0_in": amount_in * E18,
        "amount1_in": 0,
        "amount0_out": 0,
        "amount1_out": expected_out,
        "to": trader,
    }


@pytest.mark.parametrize(
    ("amount_out", "reserve0", "reserve1", "amount_in"),
    UNISWAP_OPTIMISTIC_CASES,
    ids=[f"out{c[0]}-r{c[1]}x{c[2]}" for c in UNISWAP_OPTIMISTIC_CASES],
)
def test_swap_same_token_repayment_pays_the_fee(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]],
    trader: str,
    amount_out: int,
    reserve0: int,
    reserve1: int,
    amount_in: int,
) -> None:
    pool, token0, _ = make_pool(reserve0 * E18, reserve1 * E18)
    token0.mint(trader, amount_in, sender=token0.owner())
    token0.transfer(pool.address, amount_in, sender=trader)
    with reverts("amm: k"):
        pool.swap(amount_out + 1, 0, trader, b"", sender=trader)
    pool.swap(amount_out, 0, trader, b"", sender=trader)
    assert token0.balanceOf(trader) == amount_out


@pytest.mark.parametrize(
    "usdc_in", [10**6, 10_000 * 10**6, 500_000 * 10**6], ids=["1-usdc", "10k-usdc", "500k-usdc"]
)
def test_swap_on_suite_pool_matches_model(suite: Suite, trader: str, usdc_in: int) -> None:
    pool = suite.weth_usdc
    r0, r1, _ = pool.get_reserves()
    usdc_is_0 = pool.token0() == suite.usdc.address
    reserve_in, reserve_out = (r0, r1) if usdc_is_0 else (r1, r0)
    expected = get_amount_out(usdc_in, reserve_in, reserve_out)
    before = suite.weth.balanceOf(trader)
    suite.usdc.transfer(pool.address, usdc_in, sender=trader)
    outs = (0, expected) if usdc_is_0 else (expected, 0)
    pool.swap(*outs, trader, b"", sender=trader)
    assert suite.weth.balanceOf(trader) - before == expected
    new0, new1, _ = pool.get_reserves()
    assert new0 * new1 >= r0 * r1  # k never decreases


def test_swap_zero_output_reverts(suite: Suite, trader: str) -> None:
    with reverts("amm: insufficient output amount"):
        suite.weth_usdc.swap(0, 0, trader, b"", sender=trader)


def test_swap_more_than_reserve_reverts(suite: Suite, trader: str) -> None:
    r0, _, _ = suite.weth_usdc.get_reserves()
    with reverts("amm: insufficient liquidity"):
        suite.weth_usdc.swap(r0, 0, trader, b"", sender=trader)


def test_swap_to_a_pool_token_reverts(suite: Suite, trader: str) -> None:
    with reverts("amm: invalid to"):
        suite.weth_usdc.swap(1, 0, suite.weth.address, b"", sender=trader)


def test_swap_without_input_reverts(suite: Suite, trader: str) -> None:
    with reverts("amm: insufficient input amount"):
        suite.weth_usdc.swap(0, 10**6, trader, b"", sender=trader)


# ------------------------------------------------------------------------- liquidity ---


def test_first_mint_locks_minimum_liquidity(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, token0, token1 = make_pool(0, 0)
    token0.transfer(pool.address, 4 * E18, sender=lp)
    token1.transfer(pool.address, E18, sender=lp)
    receipt = pool.mint.transact(lp, sender=lp)
    expected = isqrt(4 * E18 * E18) - MINIMUM_LIQUIDITY
    assert receipt.return_value == expected
    assert pool.balanceOf(lp) == expected
    assert pool.balanceOf(DEAD) == MINIMUM_LIQUIDITY
    assert pool.totalSupply() == expected + MINIMUM_LIQUIDITY
    assert pool.get_reserves()[:2] == (4 * E18, E18)
    mint = next(e for e in receipt.events if e.name == "Mint")
    assert (mint["amount0"], mint["amount1"], mint["liquidity"]) == (4 * E18, E18, expected)


def test_first_mint_below_minimum_liquidity_reverts(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, token0, token1 = make_pool(0, 0)
    token0.transfer(pool.address, 1000, sender=lp)
    token1.transfer(pool.address, 1000, sender=lp)
    with reverts("amm: insufficient liquidity minted"):
        pool.mint(lp, sender=lp)


def test_mint_is_proportional_to_the_smaller_side(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str, trader: str
) -> None:
    pool, token0, token1 = make_pool(10 * E18, 40 * E18)
    supply = pool.totalSupply()
    token0.transfer(pool.address, E18, sender=lp)
    token1.transfer(pool.address, 8 * E18, sender=lp)  # more than proportional: donated
    minted = pool.mint(trader, sender=lp)
    assert minted == min(E18 * supply // (10 * E18), 8 * E18 * supply // (40 * E18))


def test_mint_nothing_reverts(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, _, _ = make_pool(10 * E18, 10 * E18)
    with reverts("amm: insufficient liquidity minted"):
        pool.mint(lp, sender=lp)


def test_burn_pays_pro_rata(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, token0, token1 = make_pool(3 * E18, 12 * E18)
    supply = pool.totalSupply()
    shares = pool.balanceOf(lp) // 3
    before = (token0.balanceOf(lp), token1.balanceOf(lp))
    pool.transfer(pool.address, shares, sender=lp)
    amounts = pool.burn(lp, sender=lp)
    expected = (shares * 3 * E18 // supply, shares * 12 * E18 // supply)
    assert amounts == expected
    assert (token0.balanceOf(lp) - before[0], token1.balanceOf(lp) - before[1]) == expected
    assert pool.totalSupply() == supply - shares
    assert pool.get_reserves()[:2] == (3 * E18 - expected[0], 12 * E18 - expected[1])


def test_burn_nothing_reverts(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, _, _ = make_pool(3 * E18, 12 * E18)
    with reverts("amm: insufficient liquidity burned"):
        pool.burn(lp, sender=lp)


# ------------------------------------------------------------------------ sync, skim ---


def test_skim_sends_the_surplus(suite: Suite, trader: str, lp: str) -> None:
    pool = suite.weth_usdc
    reserves = pool.get_reserves()[:2]
    suite.usdc.transfer(pool.address, 123, sender=trader)
    before = suite.usdc.balanceOf(lp)
    pool.skim(lp, sender=trader)
    assert suite.usdc.balanceOf(lp) - before == 123
    assert pool.get_reserves()[:2] == reserves


def test_sync_adopts_balances(suite: Suite, trader: str) -> None:
    pool = suite.weth_usdc
    suite.weth.transfer(pool.address, 5 * WAD, sender=trader)
    receipt = pool.sync.transact(sender=trader)
    balances = (
        suite.usdc.balanceOf(pool.address),
        suite.weth.balanceOf(pool.address),
    )
    if pool.token0() != suite.usdc.address:
        balances = balances[::-1]
    assert pool.get_reserves()[:2] == balances
    sync = next(e for e in receipt.events if e.name == "Sync")
    assert (sync["reserve0"], sync["reserve1"]) == balances


def test_sync_above_112_bits_reverts(
    make_pool: Callable[[int, int], tuple[Contract, Contract, Contract]], lp: str
) -> None:
    pool, token0, _ = make_pool(E18, E18)
    token0.mint(pool.address, 2**112, sender=lp)
    with reverts("amm: overflow"):
        pool.sync(sender=lp)


# ------------------------------------------------------------- flash swaps, reentrancy ---


@pytest.fixture
def callee(deploy: Callable[..., Contract], attacker: str) -> Contract:
    """A flash-swap callee that can repay, re-enter or keep the output."""
    return deploy("mocks/reentrancy_attacker_mock", sender=attacker)


def test_flash_swap_repaid_in_callback(suite: Suite, callee: Contract, attacker: str) -> None:
    pool = suite.weth_usdc
    usdc_is_0 = pool.token0() == suite.usdc.address
    out = 10 * WAD  # borrow 10 WETH, pay back in WETH with the fee
    repay = out * 1000 // 997 + 1
    suite.weth.transfer(callee.address, repay, sender=attacker)
    callee.configure(0, suite.weth.address, repay, sender=attacker)
    outs = (0, out) if usdc_is_0 else (out, 0)
    callee.attack(pool.address, *outs, sender=attacker)
    assert callee.callbacks() == 1
    assert suite.weth.balanceOf(callee.address) == out


def test_flash_swap_unpaid_reverts(suite: Suite, callee: Contract, attacker: str) -> None:
    callee.configure(3, suite.weth.address, 0, sender=attacker)
    with reverts("amm: insufficient input amount"):
        callee.attack(suite.weth_usdc.address, 10**6, 10**6, sender=attacker)


@pytest.mark.parametrize("mode", [1, 2], ids=["reenter-sync", "read-only-reentrancy"])
def test_flash_swap_cannot_reenter_the_pool(
    suite: Suite, callee: Contract, attacker: str, mode: int
) -> None:
    callee.configure(mode, suite.weth.address, 0, sender=attacker)
    with reverts(None):  # the nonreentrancy lock reverts without a reason
        callee.attack(suite.weth_usdc.address, 10**6, 10**6, sender=attacker)


# ---------------------------------------------------------------------------- TWAP ---


def test_cumulative_prices_accumulate_the_spot_price(
    suite: Suite, trader: str, chain: Chain
) -> None:
    pool = suite.weth_usdc
    pool.sync(sender=trader)
    r0, r1, t0 = pool.get_reserves()
    cum0, cum1 = pool.price0_cumulative_last(), pool.price1_cumulative_last()
    chain.mine(timestamp=t0 + 600)
    now_cum0, now_cum1, now = pool.current_cumulative_prices()
    pool.sync(sender=trader)
    _, _, t1 = pool.get_reserves()
    assert now_cum0 - cum0 == (r1 << 112) // r0 * (now - t0)
    assert now_cum1 - cum1 == (r0 << 112) // r1 * (now - t0)
    assert pool.price0_cumulative_last() - cum0 == (r1 << 112) // r0 * (t1 - t0)


# -------------------------------------------------------------------------- factory ---


def test_factory_registers_both_orders(suite: Suite) -> None:
    pool = suite.factory.get_pool(suite.weth.address, suite.usdc.address)
    assert pool == suite.factory.get_pool(suite.usdc.address, suite.weth.address)
    assert pool == suite.weth_usdc.address
    assert suite.factory.all_pools_length() == 2
    assert {suite.factory.all_pools(0), suite.factory.all_pools(1)} == {
        suite.weth_usdc.address,
        suite.dai_usdc.address,
    }


def test_factory_create_pool_emits_and_sorts(suite: Suite, trader: str) -> None:
    receipt = suite.factory.create_pool.transact(
        suite.weth.address, suite.dai.address, sender=trader
    )
    event = next(e for e in receipt.events if e.name == "PoolCreated")
    low, high = sorted((suite.weth.address, suite.dai.address), key=lambda a: int(a, 16))
    assert (event["token0"], event["token1"], event["pool"]) == (low, high, receipt.return_value)
    assert event["index"] == 2


def test_factory_existing_pool_reverts(suite: Suite, trader: str) -> None:
    with reverts("amm: pool exists"):
        suite.factory.create_pool(suite.usdc.address, suite.weth.address, sender=trader)


def test_factory_identical_tokens_reverts(suite: Suite, trader: str) -> None:
    with reverts("amm: identical tokens"):
        suite.factory.create_pool(suite.usdc.address, suite.usdc.address, sender=trader)


def test_lp_token_is_an_erc20(suite: Suite, lp: str, trader: str) -> None:
    pool = suite.weth_usdc
    assert pool.name() == "Constant Product LP"  # the ERC-20 getter, not the handle's label
    assert pool.functions["name"]() == "Constant Product LP"
    assert pool.contract_name == "ConstantProductPool"
    assert (pool.symbol(), pool.decimals()) == ("CPLP", 18)
    pool.approve(trader, MAX_UINT256, sender=suite.deployer)
    pool.transferFrom(suite.deployer, lp, 1000, sender=trader)
    assert pool.balanceOf(lp) == 1000

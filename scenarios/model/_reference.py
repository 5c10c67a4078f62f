"""Reference models of the suite's math, integer-exact where the contracts are.

Each function mirrors one formula in ``contracts/`` and rounds the same way, so tests can
assert equality rather than closeness: the Uniswap v2 quotes (``lib/amm_math.vy``), the
share conversions with virtual shares (``lib/shares_math.vy``), the kinked rate model and
its per-second accrual (``lib/rate_math.vy``, ``LendingMarket.vy``), the health factor and
liquidation amounts of the market, and the CDP rate accumulator and safety check
(``CdpVault.vy``). The closed forms they approximate (``continuous_growth``) are here too,
for tests that compare the contracts with the mathematics rather than with themselves.

Units: amounts are token base units; fractions, prices (USD per whole token) and annual
rates are WAD (1e18); the CDP rate accumulator is RAY (1e27); time is seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CLOSE_FACTOR",
    "FULL_CLOSE_HF",
    "RAY",
    "SECONDS_PER_YEAR",
    "VIRTUAL_ASSETS",
    "VIRTUAL_SHARES",
    "WAD",
    "CdpLiquidation",
    "MarketLiquidation",
    "RateModel",
    "accrue_interest",
    "cdp_collateral_ratio",
    "cdp_debt",
    "cdp_is_safe",
    "cdp_liquidation",
    "compounded_growth",
    "continuous_growth",
    "get_amount_in",
    "get_amount_out",
    "get_amounts_in",
    "get_amounts_out",
    "health_factor",
    "market_liquidation",
    "mul_div",
    "per_second_factor",
    "quote",
    "rate_after",
    "rpow",
    "to_assets_down",
    "to_assets_up",
    "to_shares_down",
    "to_shares_up",
]

WAD = 10**18
RAY = 10**27
SECONDS_PER_YEAR = 365 * 86_400
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
CLOSE_FACTOR = 5 * 10**17
FULL_CLOSE_HF = 95 * 10**16
_FEE_NUMERATOR = 997
_FEE_DENOMINATOR = 1000
_MAX_UINT256 = 2**256 - 1


def mul_div(x: int, y: int, denominator: int, *, round_up: bool = False) -> int:
    """``x·y / denominator`` rounded down, or up with ``round_up`` (snekmate ``_mul_div``)."""
    if denominator == 0:
        raise ZeroDivisionError("mul_div by zero")
    quotient, remainder = divmod(x * y, denominator)
    return quotient + 1 if round_up and remainder else quotient


# ---------------------------------------------------------------------------------------
# AMM (Uniswap v2, 0.30% fee)
# ---------------------------------------------------------------------------------------
def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``floor(in·997·reserve_out / (reserve_in·1000 + in·997))``."""
    if amount_in <= 0:
        raise ValueError("amm: insufficient input amount")
    if reserve_in <= 0 or reserve_out <= 0:
        raise ValueError("amm: insufficient liquidity")
    with_fee = amount_in * _FEE_NUMERATOR
    return with_fee * reserve_out // (reserve_in * _FEE_DENOMINATOR + with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """``floor(reserve_in·out·1000 / ((reserve_out − out)·997)) + 1``."""
    if amount_out <= 0:
        raise ValueError("amm: insufficient output amount")
    if reserve_in <= 0 or reserve_out <= amount_out:
        raise ValueError("amm: insufficient liquidity")
    numerator = reserve_in * amount_out * _FEE_DENOMINATOR
    return numerator // ((reserve_out - amount_out) * _FEE_NUMERATOR) + 1


def quote(amount_a: int, reserve_a: int, reserve_b: int) -> int:
    """``floor(amount_a·reserve_b / reserve_a)``: the marginal price, no fee."""
    if amount_a <= 0:
        raise ValueError("amm: insufficient amount")
    if reserve_a <= 0 or reserve_b <= 0:
        raise ValueError("amm: insufficient liquidity")
    return amount_a * reserve_b // reserve_a


def get_amounts_out(amount_in: int, reserves: Sequence[tuple[int, int]]) -> list[int]:
    """Amounts along a path for an exact input; ``reserves[i]`` = (in, out) of hop i."""
    amounts = [amount_in]
    for reserve_in, reserve_out in reserves:
        amounts.append(get_amount_out(amounts[-1], reserve_in, reserve_out))
    return amounts


def get_amounts_in(amount_out: int, reserves: Sequence[tuple[int, int]]) -> list[int]:
    """Amounts along a path for an exact output; ``reserves[i]`` = (in, out) of hop i."""
    amounts = [amount_out]
    for reserve_in, reserve_out in reversed(reserves):
        amounts.insert(0, get_amount_in(amounts[0], reserve_in, reserve_out))
    return amounts


# ---------------------------------------------------------------------------------------
# shares with virtual shares (Morpho Blue)
# ---------------------------------------------------------------------------------------
def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """``floor(assets·(total_shares + 10^6) / (total_assets + 1))``."""
    return mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """``ceil(assets·(total_shares + 10^6) / (total_assets + 1))``."""
    return mul_div(
        assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, round_up=True
    )


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """``floor(shares·(total_assets + 1) / (total_shares + 10^6))``."""
    return mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """``ceil(shares·(total_assets + 1) / (total_shares + 10^6))``."""
    return mul_div(
        shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, round_up=True
    )


# ---------------------------------------------------------------------------------------
# lending market: kinked rate, accrual, health factor, liquidation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RateModel:
    """Kinked utilisation model; annual rates and the kink in WAD."""

    base: int
    slope1: int
    slope2: int
    kink: int

    def __post_init__(self) -> None:
        if not 0 < self.kink < WAD:
            raise ValueError(f"kink must be in (0, 1e18), got {self.kink}")

    def utilisation(self, supplied: int, borrowed: int) -> int:
        """``min(borrowed·1e18 / supplied, 1e18)``, 0 without supply."""
        if supplied == 0:
            return 0
        return min(borrowed * WAD // supplied, WAD)

    def rate(self, utilisation: int) -> int:
        """Annual borrow rate: ``base + slope1·u/kink`` below the kink,
        ``base + slope1 + slope2·(u − kink)/(1 − kink)`` above."""
        if utilisation <= self.kink:
            return self.base + self.slope1 * utilisation // self.kink
        return (
            self.base + self.slope1 + self.slope2 * (utilisation - self.kink) // (WAD - self.kink)
        )


def compounded_growth(annual_rate: int, elapsed: int) -> int:
    """``e^x − 1`` to third order in WAD, ``x = rate·elapsed/year`` (contract-exact)."""
    first = annual_rate * elapsed // SECONDS_PER_YEAR
    second = first * first // (2 * WAD)
    third = second * first // (3 * WAD)
    return first + second + third


def continuous_growth(annual_rate: float, elapsed: float) -> float:
    """Closed form of continuous compounding: ``e^{rate·elapsed/year}``."""
    return math.exp(annual_rate * elapsed / SECONDS_PER_YEAR)


def accrue_interest(
    supplied: int, borrowed: int, model: RateModel, elapsed: int
) -> tuple[int, int, int]:
    """One accrual step of the market: (supplied, borrowed, interest) after ``elapsed``.

    ``interest = floor(borrowed·growth / 1e18)`` at the rate of the utilisation *before*
    the step, added to both totals.
    """
    if elapsed == 0 or borrowed == 0:
        return supplied, borrowed, 0
    rate = model.rate(model.utilisation(supplied, borrowed))
    interest = mul_div(borrowed, compounded_growth(rate, elapsed), WAD)
    return supplied + interest, borrowed + interest, interest


def health_factor(
    collateral: int,
    debt: int,
    *,
    collateral_price: int,
    loan_price: int,
    collateral_decimals: int,
    loan_decimals: int,
    liquidation_threshold: int,
) -> int:
    """``floor(collateral value·threshold / debt value)`` in WAD, as the market computes it
    (collateral value rounded down, debt value up); ``2^256 − 1`` without debt."""
    if debt == 0:
        return _MAX_UINT256
    collateral_value = mul_div(collateral, collateral_price, 10**collateral_decimals)
    debt_value = mul_div(debt, loan_price, 10**loan_decimals, round_up=True)
    return mul_div(collateral_value, liquidation_threshold, debt_value)


@dataclass(frozen=True)
class MarketLiquidation:
    """What a market liquidation moves: loan assets repaid and collateral seized."""

    repaid: int
    seized: int


def market_liquidation(
    *,
    collateral: int,
    debt: int,
    repay_request: int,
    health: int,
    collateral_price: int,
    loan_price: int,
    collateral_decimals: int,
    loan_decimals: int,
    liquidation_bonus: int,
) -> MarketLiquidation:
    """Repayment and seizure of ``LendingMarket.liquidate`` for a position with HF ``health``.

    ``repaid = min(request, debt·50%)`` (whole debt once HF ≤ 0.95);
    ``seized = repaid·p_loan·(1 + bonus) / p_collateral``, capped at the collateral, in
    which case ``repaid = ceil(collateral·p_collateral / (1 + bonus) / p_loan)``.
    """
    if health >= WAD:
        raise ValueError("market: position healthy")
    collateral_unit = 10**collateral_decimals
    loan_unit = 10**loan_decimals
    max_repay = debt if health <= FULL_CLOSE_HF else mul_div(debt, CLOSE_FACTOR, WAD)
    repaid = min(repay_request, max_repay)
    value = mul_div(mul_div(repaid, loan_price, loan_unit), WAD + liquidation_bonus, WAD)
    seized = mul_div(value, collateral_unit, collateral_price)
    if seized > collateral:
        seized = collateral
        value = mul_div(
            mul_div(seized, collateral_price, collateral_unit), WAD, WAD + liquidation_bonus
        )
        repaid = min(mul_div(value, loan_unit, loan_price, round_up=True), debt)
    return MarketLiquidation(repaid=repaid, seized=seized)


# ---------------------------------------------------------------------------------------
# CDP vault: rate accumulator, safety, liquidation
# ---------------------------------------------------------------------------------------
def per_second_factor(annual_fee: int) -> int:
    """Per-second factor (RAY) of an annual fee (WAD): ``1 + fee/year``."""
    return RAY + annual_fee * 10**9 // SECONDS_PER_YEAR


def rpow(x: int, n: int) -> int:
    """``x^n`` in RAY by binary exponentiation, each product rounded half up (Maker)."""
    if n == 0:
        return RAY
    z = x if n % 2 else RAY
    n //= 2
    while n:
        x = (x * x + RAY // 2) // RAY
        if n % 2:
            z = (z * x + RAY // 2) // RAY
        n //= 2
    return z


def rate_after(rate: int, annual_fee: int, elapsed: int) -> int:
    """The vault's accumulator after ``elapsed`` seconds: ``floor(rate·duty^elapsed)``."""
    if elapsed == 0:
        return rate
    return mul_div(rate, rpow(per_second_factor(annual_fee), elapsed), RAY)


def cdp_debt(art: int, rate: int) -> int:
    """``ceil(art·rate)`` in DAI base units."""
    return mul_div(art, rate, RAY, round_up=True)


def cdp_is_safe(
    ink: int, art: int, rate: int, price: int, liquidation_ratio: int, collateral_decimals: int
) -> bool:
    """``ceil(debt·liquidation_ratio) ≤ floor(ink·price)``; always safe without debt."""
    if art == 0:
        return True
    value = mul_div(ink, price, 10**collateral_decimals)
    return mul_div(cdp_debt(art, rate), liquidation_ratio, WAD, round_up=True) <= value


def cdp_collateral_ratio(
    ink: int, art: int, rate: int, price: int, collateral_decimals: int
) -> int:
    """``floor(collateral value / debt)`` in WAD; ``2^256 − 1`` without debt."""
    debt = cdp_debt(art, rate)
    if debt == 0:
        return _MAX_UINT256
    return mul_div(mul_div(ink, price, 10**collateral_decimals), WAD, debt)


@dataclass(frozen=True)
class CdpLiquidation:
    """What a CDP liquidation moves: DAI paid, collateral seized, debt written off."""

    paid: int
    seized: int
    bad_debt: int


def cdp_liquidation(
    ink: int, art: int, rate: int, price: int, penalty: int, collateral_decimals: int
) -> CdpLiquidation:
    """``CdpVault.liquidate``: ``seized = ceil(debt·(1 + penalty)) / price``; if that
    exceeds the collateral, all of it for ``paid = ceil(value / (1 + penalty))``."""
    unit = 10**collateral_decimals
    debt = cdp_debt(art, rate)
    owed = mul_div(debt, WAD + penalty, WAD, round_up=True)
    seized = mul_div(owed, unit, price)
    paid = debt
    if seized > ink:
        seized = ink
        paid = min(mul_div(mul_div(ink, price, unit), WAD, WAD + penalty, round_up=True), debt)
    return CdpLiquidation(paid=paid, seized=seized, bad_debt=debt - paid)

# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Interest-Rate Math
@custom:contract-name rate_math
@notice The kinked utilisation rate model, per-second accrual by a third-order
        Taylor expansion of e^x − 1 (lending market), and Maker's `rpow` for a
        per-second compounding rate accumulator (CDP vault). Stateless module.
@dev Invariants:
     - rates are annual fractions in WAD (1e18 = 100% a year); time is seconds;
     - the kinked rate is continuous at the kink and non-decreasing in utilisation;
     - `_compounded_growth` and `_rpow` never decrease with elapsed time.
"""

from . import constants

# Fixed-point one for fractions (18 decimals).
WAD: constant(uint256) = constants.WAD
# Fixed-point one for per-second factors (27 decimals), as Maker's `ray`.
RAY: constant(uint256) = constants.RAY
# Seconds in the 365-day year used to turn annual rates into per-second ones.
SECONDS_PER_YEAR: constant(uint256) = 365 * 86400


@internal
@pure
def _kinked_rate(
    utilisation: uint256, base: uint256, slope1: uint256, slope2: uint256, kink: uint256
) -> uint256:
    """
    @notice Annual borrow rate (WAD) at `utilisation` (WAD, 0..1e18):
            u ≤ kink: base + slope1·u/kink
            u > kink: base + slope1 + slope2·(u − kink)/(1 − kink)
    @dev `kink` is in (0, 1e18), checked by the market's constructor.
    """
    if utilisation <= kink:
        return base + slope1 * utilisation // kink
    return base + slope1 + slope2 * (utilisation - kink) // (WAD - kink)


@internal
@pure
def _compounded_growth(annual_rate: uint256, elapsed: uint256) -> uint256:
    """
    @notice Growth factor minus one (WAD) of continuous compounding over `elapsed`
            seconds, to third order: with x = rate·elapsed/year,
            e^x − 1 ≈ x + x²/2 + x³/6 (Morpho Blue's `wTaylorCompounded`).
    """
    first: uint256 = annual_rate * elapsed // SECONDS_PER_YEAR
    second: uint256 = first * first // (2 * WAD)
    third: uint256 = second * first // (3 * WAD)
    return first + second + third


@internal
@pure
def _per_second_factor(annual_rate: uint256) -> uint256:
    """
    @notice Per-second compounding factor (RAY) of an annual rate (WAD):
            duty = 1 + rate/year, so that duty^year ≈ e^rate.
    """
    return RAY + annual_rate * 10**9 // SECONDS_PER_YEAR


@internal
@pure
def _rpow(x: uint256, n: uint256) -> uint256:
    """
    @notice x^n in RAY fixed point, by binary exponentiation, each product
            rounded half up (Maker's `rpow` with base 10^27).
    """
    if n == 0:
        return RAY
    z: uint256 = RAY
    base: uint256 = x
    exponent: uint256 = n
    if exponent % 2 == 1:
        z = base
    exponent //= 2
    for i: uint256 in range(256):
        if exponent == 0:
            break
        base = (base * base + RAY // 2) // RAY
        if exponent % 2 == 1:
            z = (z * base + RAY // 2) // RAY
        exponent //= 2
    return z

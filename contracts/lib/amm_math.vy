# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Constant-Product AMM Math
@custom:contract-name amm_math
@notice Uniswap v2 quote formulas with a 0.30% fee, in integers. Stateless:
        import it, no `initializes` needed.
@dev Invariants:
     - `_get_amount_out` never quotes more than a swap can pay without
       decreasing the fee-adjusted k of the pool.
     - `_get_amount_in(_get_amount_out(x)) <= x`: quotes round against the trader.
"""

# Numerator and denominator of the 0.30% swap fee: 997 / 1000 of the input counts.
FEE_NUMERATOR: constant(uint256) = 997
FEE_DENOMINATOR: constant(uint256) = 1000


@internal
@pure
def _get_amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @notice Output for an exact input.
            out = floor(in·997·reserve_out / (reserve_in·1000 + in·997))
    """
    assert amount_in > 0, "amm: insufficient input amount"
    assert reserve_in > 0 and reserve_out > 0, "amm: insufficient liquidity"
    amount_in_with_fee: uint256 = amount_in * FEE_NUMERATOR
    return amount_in_with_fee * reserve_out // (reserve_in * FEE_DENOMINATOR + amount_in_with_fee)


@internal
@pure
def _get_amount_in(amount_out: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @notice Input needed for an exact output.
            in = floor(reserve_in·out·1000 / ((reserve_out − out)·997)) + 1
    """
    assert amount_out > 0, "amm: insufficient output amount"
    assert reserve_in > 0 and reserve_out > amount_out, "amm: insufficient liquidity"
    numerator: uint256 = reserve_in * amount_out * FEE_DENOMINATOR
    denominator: uint256 = (reserve_out - amount_out) * FEE_NUMERATOR
    return numerator // denominator + 1


@internal
@pure
def _quote(amount_a: uint256, reserve_a: uint256, reserve_b: uint256) -> uint256:
    """
    @notice Amount of B worth `amount_a` of A at the pool's marginal price, no fee.
            quote = floor(amount_a·reserve_b / reserve_a)
    """
    assert amount_a > 0, "amm: insufficient amount"
    assert reserve_a > 0 and reserve_b > 0, "amm: insufficient liquidity"
    return amount_a * reserve_b // reserve_a

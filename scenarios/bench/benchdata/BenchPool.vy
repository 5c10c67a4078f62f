# pragma version 0.4.3
"""
@title BenchPool
@notice Minimal constant-product pool (0.30% fee) for the engine benchmark.
@dev k never decreases across a swap.
"""

from ethereum.ercs import IERC20

token0: public(IERC20)
token1: public(IERC20)
reserve0: public(uint256)
reserve1: public(uint256)

event Swap:
    trader: indexed(address)
    zero_for_one: bool
    amount_in: uint256
    amount_out: uint256


@deploy
def __init__(token0: IERC20, token1: IERC20):
    self.token0 = token0
    self.token1 = token1


@external
def add_liquidity(amount0: uint256, amount1: uint256):
    extcall self.token0.transferFrom(msg.sender, self, amount0)
    extcall self.token1.transferFrom(msg.sender, self, amount1)
    self.reserve0 += amount0
    self.reserve1 += amount1


@view
@external
def get_amount_out(amount_in: uint256, zero_for_one: bool) -> uint256:
    reserve_in: uint256 = self.reserve0 if zero_for_one else self.reserve1
    reserve_out: uint256 = self.reserve1 if zero_for_one else self.reserve0
    fee_in: uint256 = amount_in * 997
    return fee_in * reserve_out // (reserve_in * 1000 + fee_in)


@external
def swap(amount_in: uint256, zero_for_one: bool, min_out: uint256) -> uint256:
    reserve_in: uint256 = self.reserve0 if zero_for_one else self.reserve1
    reserve_out: uint256 = self.reserve1 if zero_for_one else self.reserve0
    fee_in: uint256 = amount_in * 997
    amount_out: uint256 = fee_in * reserve_out // (reserve_in * 1000 + fee_in)
    assert amount_out >= min_out, "pool: insufficient output"
    token_in: IERC20 = self.token0 if zero_for_one else self.token1
    token_out: IERC20 = self.token1 if zero_for_one else self.token0
    extcall token_in.transferFrom(msg.sender, self, amount_in)
    extcall token_out.transfer(msg.sender, amount_out)
    if zero_for_one:
        self.reserve0 += amount_in
        self.reserve1 -= amount_out
    else:
        self.reserve1 += amount_in
        self.reserve0 -= amount_out
    log Swap(trader=msg.sender, zero_for_one=zero_for_one, amount_in=amount_in, amount_out=amount_out)
    return amount_out

# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Constant-Product Pool (Uniswap v2 Semantics)
@custom:contract-name ConstantProductPool
@notice A two-token x·y = k pool with a 0.30% fee. The pool is its own ERC-20
        LP token (snekmate). Reserves are tracked apart from balances: tokens
        are sent first, then `mint`, `burn` or `swap` settles against the
        difference; `skim` sends a surplus away, `sync` adopts the balances.
        `MINIMUM_LIQUIDITY` shares are locked on the first mint. Price
        accumulators (UQ112.112 seconds) feed a TWAP. Slippage and deadline
        guards live in the router. Deployed by `PoolFactory` from a blueprint.
@dev Invariants:
     - k = reserve0·reserve1 never decreases across a swap (fee-adjusted k check);
     - reserves == balances after every `mint`, `burn`, `swap` and `sync`;
     - totalSupply == Σ balanceOf, and ≥ MINIMUM_LIQUIDITY once initialised;
     - price accumulators only grow (modulo 2^256) and only with time.
"""

from ethereum.ercs import IERC20
from snekmate.auth import ownable
from snekmate.tokens import erc20
from .interfaces import IAmmCallee
from .lib import amm_math
from .lib import token_lib

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
)

# LP shares locked forever on the first mint, so totalSupply never returns to 0.
MINIMUM_LIQUIDITY: public(constant(uint256)) = 10**3
# Holder of the locked shares (snekmate refuses to mint to the zero address).
DEAD: constant(address) = 0x000000000000000000000000000000000000dEaD
# Reserves must fit 112 bits so the UQ112.112 accumulators cannot overflow a term.
MAX_RESERVE: constant(uint256) = 2**112 - 1
# Fee-adjusted k check scale: 1000 = FEE_DENOMINATOR, fee 3 / 1000.
FEE_DENOMINATOR: constant(uint256) = amm_math.FEE_DENOMINATOR
FEE: constant(uint256) = amm_math.FEE_DENOMINATOR - amm_math.FEE_NUMERATOR

# The factory that deployed this pool.
factory: public(immutable(address))
# The token with the lower address.
token0: public(immutable(address))
# The token with the higher address.
token1: public(immutable(address))

# Tracked balance of token0, updated by `_update`.
reserve0: uint256
# Tracked balance of token1, updated by `_update`.
reserve1: uint256
# Timestamp of the last `_update`.
block_timestamp_last: uint256
# Σ (reserve1·2^112 / reserve0)·dt, wrapping modulo 2^256.
price0_cumulative_last: public(uint256)
# Σ (reserve0·2^112 / reserve1)·dt, wrapping modulo 2^256.
price1_cumulative_last: public(uint256)


event Mint:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256
    liquidity: uint256
    to: indexed(address)

event Burn:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256
    liquidity: uint256
    to: indexed(address)

event Swap:
    sender: indexed(address)
    amount0_in: uint256
    amount1_in: uint256
    amount0_out: uint256
    amount1_out: uint256
    to: indexed(address)

event Sync:
    reserve0: uint256
    reserve1: uint256


@deploy
def __init__(token0_: address, token1_: address):
    """
    @param token0_ The lower token address.
    @param token1_ The higher token address.
    """
    assert convert(token0_, uint160) < convert(token1_, uint160), "amm: unsorted tokens"
    ownable.__init__()
    erc20.__init__("Constant Product LP", "CPLP", 18, "Constant Product LP", "1")
    factory = msg.sender
    token0 = token0_
    token1 = token1_


@external
@view
def get_reserves() -> (uint256, uint256, uint256):
    """
    @notice Tracked reserves and the time they were last updated.
    """
    return self.reserve0, self.reserve1, self.block_timestamp_last


@external
@view
def current_cumulative_prices() -> (uint256, uint256, uint256):
    """
    @notice Price accumulators as of this block, counting the time since the
            last update at the current reserves (Uniswap's oracle library).
            TWAP over [t1, t2] = (cum(t2) − cum(t1)) / (t2 − t1) / 2^112.
    """
    cum0: uint256 = self.price0_cumulative_last
    cum1: uint256 = self.price1_cumulative_last
    dt: uint256 = block.timestamp - self.block_timestamp_last
    if dt > 0 and self.reserve0 != 0 and self.reserve1 != 0:
        # wraps on purpose, as in `_update`
        cum0 = unsafe_add(cum0, (self.reserve1 << 112) // self.reserve0 * dt)
        cum1 = unsafe_add(cum1, (self.reserve0 << 112) // self.reserve1 * dt)
    return cum0, cum1, block.timestamp


@external
def mint(to: address) -> uint256:
    """
    @notice Mint LP shares for the tokens sent to the pool since the last update.
            First mint: √(a0·a1) − MINIMUM_LIQUIDITY; then min(a0·S/r0, a1·S/r1).
    """
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    amount0: uint256 = balance0 - r0
    amount1: uint256 = balance1 - r1
    supply: uint256 = erc20.totalSupply
    liquidity: uint256 = 0
    if supply == 0:
        root: uint256 = isqrt(amount0 * amount1)
        assert root > MINIMUM_LIQUIDITY, "amm: insufficient liquidity minted"
        liquidity = root - MINIMUM_LIQUIDITY
        erc20._mint(DEAD, MINIMUM_LIQUIDITY)
    else:
        liquidity = min(amount0 * supply // r0, amount1 * supply // r1)
    assert liquidity > 0, "amm: insufficient liquidity minted"
    erc20._mint(to, liquidity)
    self._update(balance0, balance1, r0, r1)
    log Mint(sender=msg.sender, amount0=amount0, amount1=amount1, liquidity=liquidity, to=to)
    return liquidity


@external
def burn(to: address) -> (uint256, uint256):
    """
    @notice Burn the LP shares sent to the pool; pay out the pro-rata balances.
            amount_i = liquidity·balance_i / totalSupply, rounded down.
    """
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    liquidity: uint256 = erc20.balanceOf[self]
    supply: uint256 = erc20.totalSupply
    amount0: uint256 = liquidity * balance0 // supply
    amount1: uint256 = liquidity * balance1 // supply
    assert amount0 > 0 and amount1 > 0, "amm: insufficient liquidity burned"
    erc20._burn(self, liquidity)
    self._transfer_out(token0, to, amount0)
    self._transfer_out(token1, to, amount1)
    balance0 = staticcall IERC20(token0).balanceOf(self)
    balance1 = staticcall IERC20(token1).balanceOf(self)
    self._update(balance0, balance1, self.reserve0, self.reserve1)
    log Burn(sender=msg.sender, amount0=amount0, amount1=amount1, liquidity=liquidity, to=to)
    return amount0, amount1


@external
def swap(amount0_out: uint256, amount1_out: uint256, to: address, data: Bytes[1024]):
    """
    @notice Send the outputs, optionally call `to` back (flash swap), then require
            the inputs to keep the fee-adjusted k:
            (b0·1000 − in0·3)·(b1·1000 − in1·3) ≥ r0·r1·1000².
    """
    assert amount0_out > 0 or amount1_out > 0, "amm: insufficient output amount"
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    assert amount0_out < r0 and amount1_out < r1, "amm: insufficient liquidity"
    assert to != token0 and to != token1, "amm: invalid to"
    if amount0_out > 0:
        self._transfer_out(token0, to, amount0_out)
    if amount1_out > 0:
        self._transfer_out(token1, to, amount1_out)
    if len(data) > 0:
        extcall IAmmCallee(to).amm_call(msg.sender, amount0_out, amount1_out, data)
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    amount0_in: uint256 = 0
    amount1_in: uint256 = 0
    if balance0 > r0 - amount0_out:
        amount0_in = balance0 - (r0 - amount0_out)
    if balance1 > r1 - amount1_out:
        amount1_in = balance1 - (r1 - amount1_out)
    assert amount0_in > 0 or amount1_in > 0, "amm: insufficient input amount"
    adjusted0: uint256 = balance0 * FEE_DENOMINATOR - amount0_in * FEE
    adjusted1: uint256 = balance1 * FEE_DENOMINATOR - amount1_in * FEE
    assert adjusted0 * adjusted1 >= r0 * r1 * FEE_DENOMINATOR**2, "amm: k"
    self._update(balance0, balance1, r0, r1)
    log Swap(
        sender=msg.sender,
        amount0_in=amount0_in,
        amount1_in=amount1_in,
        amount0_out=amount0_out,
        amount1_out=amount1_out,
        to=to,
    )


@external
def skim(to: address):
    """
    @notice Send balances above the reserves to `to`.
    """
    self._transfer_out(token0, to, staticcall IERC20(token0).balanceOf(self) - self.reserve0)
    self._transfer_out(token1, to, staticcall IERC20(token1).balanceOf(self) - self.reserve1)


@external
def sync():
    """
    @notice Set the reserves to the balances.
    """
    self._update(
        staticcall IERC20(token0).balanceOf(self),
        staticcall IERC20(token1).balanceOf(self),
        self.reserve0,
        self.reserve1,
    )


@internal
def _update(balance0: uint256, balance1: uint256, r0: uint256, r1: uint256):
    """
    @dev Accumulate the old prices over the time since the last update, then
         store the new reserves.
    """
    assert balance0 <= MAX_RESERVE and balance1 <= MAX_RESERVE, "amm: overflow"
    dt: uint256 = block.timestamp - self.block_timestamp_last
    if dt > 0 and r0 != 0 and r1 != 0:
        # Each term is < 2^224·dt (r < 2^112) and the checked product only fails
        # after 2^32 seconds without an update. The sums wrap modulo 2^256 on
        # purpose: TWAP readers take differences, which survive the wrap.
        self.price0_cumulative_last = unsafe_add(self.price0_cumulative_last, (r1 << 112) // r0 * dt)
        self.price1_cumulative_last = unsafe_add(self.price1_cumulative_last, (r0 << 112) // r1 * dt)
    self.reserve0 = balance0
    self.reserve1 = balance1
    self.block_timestamp_last = block.timestamp
    log Sync(reserve0=balance0, reserve1=balance1)


@internal
def _transfer_out(token: address, to: address, amount: uint256):
    """
    @dev Transfer `amount` of `token`; zero amounts are a no-op.
    """
    if amount > 0:
        token_lib._transfer(token, to, amount, "amm: transfer failed")

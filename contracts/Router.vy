# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Constant-Product Router
@custom:contract-name Router
@notice Quotes (`get_amount_out`, `get_amount_in`, multi-hop `get_amounts_*`),
        swaps along a path of pools, and liquidity provision, with the
        slippage and deadline guards the pools leave out. Holds no tokens
        between transactions.
@dev Invariants:
     - a swap that succeeds pays at least `amount_out_min` (exact-in) or takes at
       most `amount_in_max` (exact-out), before `deadline`;
     - quotes equal the Uniswap v2 integer formula, hop by hop;
     - the router's own token balances are unchanged by every call.
"""

from .interfaces import IPool
from .interfaces import IPoolFactory
from .lib import amm_math
from .lib import token_lib

# Longest path: three hops.
MAX_PATH: constant(uint256) = 4

# Factory whose pools the router trades through.
factory: public(immutable(IPoolFactory))


@deploy
def __init__(factory_: address):
    """
    @param factory_ The `PoolFactory` to route through.
    """
    factory = IPoolFactory(factory_)


# ---------------------------------------------------------------- quotes ---


@external
@pure
def get_amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @notice out = floor(in·997·reserve_out / (reserve_in·1000 + in·997))
    """
    return amm_math._get_amount_out(amount_in, reserve_in, reserve_out)


@external
@pure
def get_amount_in(amount_out: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @notice in = floor(reserve_in·out·1000 / ((reserve_out − out)·997)) + 1
    """
    return amm_math._get_amount_in(amount_out, reserve_in, reserve_out)


@external
@pure
def quote(amount_a: uint256, reserve_a: uint256, reserve_b: uint256) -> uint256:
    """
    @notice floor(amount_a·reserve_b / reserve_a)
    """
    return amm_math._quote(amount_a, reserve_a, reserve_b)


@external
@view
def get_amounts_out(amount_in: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Amounts along `path` for an exact input, chaining `get_amount_out`.
    """
    return self._get_amounts_out(amount_in, path)


@external
@view
def get_amounts_in(amount_out: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Amounts along `path` for an exact output, chaining `get_amount_in` backwards.
    """
    return self._get_amounts_in(amount_out, path)


# ----------------------------------------------------------------- swaps ---


@external
def swap_exact_tokens_for_tokens(
    amount_in: uint256,
    amount_out_min: uint256,
    path: DynArray[address, MAX_PATH],
    to: address,
    deadline: uint256,
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Swap exactly `amount_in` of `path[0]` for at least `amount_out_min`
            of `path[-1]`, sent to `to`.
    """
    assert block.timestamp <= deadline, "router: expired"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_out(amount_in, path)
    assert amounts[len(amounts) - 1] >= amount_out_min, "router: insufficient output amount"
    self._transfer_in(path[0], self._pool(path[0], path[1]).address, amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
def swap_tokens_for_exact_tokens(
    amount_out: uint256,
    amount_in_max: uint256,
    path: DynArray[address, MAX_PATH],
    to: address,
    deadline: uint256,
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Swap at most `amount_in_max` of `path[0]` for exactly `amount_out`
            of `path[-1]`, sent to `to`.
    """
    assert block.timestamp <= deadline, "router: expired"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_in(amount_out, path)
    assert amounts[0] <= amount_in_max, "router: excessive input amount"
    self._transfer_in(path[0], self._pool(path[0], path[1]).address, amounts[0])
    self._swap(amounts, path, to)
    return amounts


# ------------------------------------------------------------- liquidity ---


@external
def add_liquidity(
    token_a: address,
    token_b: address,
    amount_a_desired: uint256,
    amount_b_desired: uint256,
    amount_a_min: uint256,
    amount_b_min: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256, uint256):
    """
    @notice Add liquidity at the pool's current ratio (creating the pool if
            needed): the largest (a, b) ≤ desired with b = quote(a), or a = quote(b).
    @return (amount_a, amount_b, liquidity)
    """
    assert block.timestamp <= deadline, "router: expired"
    if staticcall factory.get_pool(token_a, token_b) == empty(address):
        extcall factory.create_pool(token_a, token_b)
    pool: IPool = self._pool(token_a, token_b)
    reserve_a: uint256 = 0
    reserve_b: uint256 = 0
    reserve_a, reserve_b = self._reserves(pool, token_a)
    amount_a: uint256 = amount_a_desired
    amount_b: uint256 = amount_b_desired
    if reserve_a != 0 or reserve_b != 0:
        amount_b_optimal: uint256 = amm_math._quote(amount_a_desired, reserve_a, reserve_b)
        if amount_b_optimal <= amount_b_desired:
            assert amount_b_optimal >= amount_b_min, "router: insufficient b amount"
            amount_b = amount_b_optimal
        else:
            amount_a_optimal: uint256 = amm_math._quote(amount_b_desired, reserve_b, reserve_a)
            assert amount_a_optimal <= amount_a_desired, "router: insufficient a amount"
            assert amount_a_optimal >= amount_a_min, "router: insufficient a amount"
            amount_a = amount_a_optimal
    self._transfer_in(token_a, pool.address, amount_a)
    self._transfer_in(token_b, pool.address, amount_b)
    liquidity: uint256 = extcall pool.mint(to)
    return amount_a, amount_b, liquidity


@external
def remove_liquidity(
    token_a: address,
    token_b: address,
    liquidity: uint256,
    amount_a_min: uint256,
    amount_b_min: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256):
    """
    @notice Burn `liquidity` LP shares of the caller for at least the minimum amounts.
    @return (amount_a, amount_b)
    """
    assert block.timestamp <= deadline, "router: expired"
    pool: IPool = self._pool(token_a, token_b)
    token_lib._transfer_from(pool.address, msg.sender, pool.address, liquidity, "router: transfer failed")
    amount0: uint256 = 0
    amount1: uint256 = 0
    amount0, amount1 = extcall pool.burn(to)
    amount_a: uint256 = amount0
    amount_b: uint256 = amount1
    if token_a != staticcall pool.token0():
        amount_a = amount1
        amount_b = amount0
    assert amount_a >= amount_a_min, "router: insufficient a amount"
    assert amount_b >= amount_b_min, "router: insufficient b amount"
    return amount_a, amount_b


# -------------------------------------------------------------- internal ---


@internal
@view
def _pool(token_a: address, token_b: address) -> IPool:
    """
    @dev The pool of a pair; reverts if the factory has none.
    """
    pool: address = staticcall factory.get_pool(token_a, token_b)
    assert pool != empty(address), "router: pool not found"
    return IPool(pool)


@internal
@view
def _reserves(pool: IPool, token_in: address) -> (uint256, uint256):
    """
    @dev (reserve of `token_in`, reserve of the other token).
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    last: uint256 = 0
    reserve0, reserve1, last = staticcall pool.get_reserves()
    if token_in == staticcall pool.token0():
        return reserve0, reserve1
    return reserve1, reserve0


@internal
@view
def _get_amounts_out(amount_in: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    assert len(path) >= 2, "router: invalid path"
    amounts: DynArray[uint256, MAX_PATH] = [amount_in]
    for i: uint256 in range(len(path) - 1, bound=MAX_PATH - 1):
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._reserves(self._pool(path[i], path[i + 1]), path[i])
        amounts.append(amm_math._get_amount_out(amounts[i], reserve_in, reserve_out))
    return amounts


@internal
@view
def _get_amounts_in(amount_out: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    assert len(path) >= 2, "router: invalid path"
    n: uint256 = len(path)
    amounts: DynArray[uint256, MAX_PATH] = empty(DynArray[uint256, MAX_PATH])
    for i: uint256 in range(n, bound=MAX_PATH):
        amounts.append(0)
    amounts[n - 1] = amount_out
    for j: uint256 in range(n - 1, bound=MAX_PATH - 1):
        i: uint256 = n - 1 - j
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._reserves(self._pool(path[i - 1], path[i]), path[i - 1])
        amounts[i - 1] = amm_math._get_amount_in(amounts[i], reserve_in, reserve_out)
    return amounts


@internal
def _swap(amounts: DynArray[uint256, MAX_PATH], path: DynArray[address, MAX_PATH], to: address):
    """
    @dev Pool i pays its output straight into pool i+1, the last one into `to`.
    """
    n: uint256 = len(path)
    for i: uint256 in range(n - 1, bound=MAX_PATH - 1):
        pool: IPool = self._pool(path[i], path[i + 1])
        amount_out: uint256 = amounts[i + 1]
        amount0_out: uint256 = 0
        amount1_out: uint256 = amount_out
        if path[i + 1] == staticcall pool.token0():
            amount0_out = amount_out
            amount1_out = 0
        recipient: address = to
        if i + 2 < n:
            recipient = self._pool(path[i + 1], path[i + 2]).address
        extcall pool.swap(amount0_out, amount1_out, recipient, b"")


@internal
def _transfer_in(token: address, to: address, amount: uint256):
    """
    @dev Pull `amount` of `token` from the caller straight into a pool.
    """
    token_lib._transfer_from(token, msg.sender, to, amount, "router: transfer failed")

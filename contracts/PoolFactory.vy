# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Constant-Product Pool Factory
@custom:contract-name PoolFactory
@notice Deploys one `ConstantProductPool` per unordered token pair from an
        ERC-5202 blueprint, with CREATE2 salted by the sorted pair.
@dev Invariants:
     - at most one pool per unordered pair, and `get_pool[a][b] == get_pool[b][a]`;
     - every pool in `all_pools` is registered under its sorted pair.
"""

# Upper bound on the number of pools this factory tracks.
MAX_POOLS: constant(uint256) = 1024

# Address of the `ConstantProductPool` blueprint.
pool_blueprint: public(immutable(address))

# Pool of a pair, registered in both orders.
get_pool: public(HashMap[address, HashMap[address, address]])
# Every pool in creation order.
all_pools: public(DynArray[address, MAX_POOLS])


event PoolCreated:
    token0: indexed(address)
    token1: indexed(address)
    pool: address
    index: uint256


@deploy
def __init__(pool_blueprint_: address):
    """
    @param pool_blueprint_ An ERC-5202 blueprint of `ConstantProductPool.vy`.
    """
    assert pool_blueprint_.codesize > 0, "amm: blueprint has no code"
    pool_blueprint = pool_blueprint_


@external
@view
def all_pools_length() -> uint256:
    """
    @notice Number of pools created.
    """
    return len(self.all_pools)


@external
def create_pool(token_a: address, token_b: address) -> address:
    """
    @notice Deploy the pool of an unordered pair of distinct tokens.
    """
    assert token_a != token_b, "amm: identical tokens"
    token0: address = token_a
    token1: address = token_b
    if convert(token_b, uint160) < convert(token_a, uint160):
        token0 = token_b
        token1 = token_a
    assert token0 != empty(address), "amm: zero address"
    assert self.get_pool[token0][token1] == empty(address), "amm: pool exists"
    pool: address = create_from_blueprint(
        pool_blueprint, token0, token1, salt=keccak256(concat(convert(token0, bytes20), convert(token1, bytes20)))
    )
    self.get_pool[token0][token1] = pool
    self.get_pool[token1][token0] = pool
    self.all_pools.append(pool)
    log PoolCreated(token0=token0, token1=token1, pool=pool, index=len(self.all_pools) - 1)
    return pool

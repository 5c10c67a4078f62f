# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Share/Asset Conversions With Virtual Shares
@custom:contract-name shares_math
@notice Morpho Blue's SharesMathLib in Vyper. One virtual asset and 10^6
        virtual shares make the first depositor unable to inflate the share
        price (the "inflation attack"). Stateless module.
@dev Invariants:
     - the rounding direction is in the name, and callers pick the one that
       favours the protocol;
     - `_to_assets_down(_to_shares_down(a)) <= a` and
       `_to_assets_up(_to_shares_up(a)) >= a`.
"""

from snekmate.utils import math

# Virtual shares added to the total share count in every conversion.
VIRTUAL_SHARES: constant(uint256) = 10**6
# Virtual assets added to the total asset count in every conversion.
VIRTUAL_ASSETS: constant(uint256) = 1


@internal
@pure
def _to_shares_down(assets: uint256, total_assets: uint256, total_shares: uint256) -> uint256:
    """
    @notice shares = floor(assets·(total_shares + 10^6) / (total_assets + 1))
    """
    return math._mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, False)


@internal
@pure
def _to_shares_up(assets: uint256, total_assets: uint256, total_shares: uint256) -> uint256:
    """
    @notice shares = ceil(assets·(total_shares + 10^6) / (total_assets + 1))
    """
    return math._mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, True)


@internal
@pure
def _to_assets_down(shares: uint256, total_assets: uint256, total_shares: uint256) -> uint256:
    """
    @notice assets = floor(shares·(total_assets + 1) / (total_shares + 10^6))
    """
    return math._mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, False)


@internal
@pure
def _to_assets_up(shares: uint256, total_assets: uint256, total_shares: uint256) -> uint256:
    """
    @notice assets = ceil(shares·(total_assets + 1) / (total_shares + 10^6))
    """
    return math._mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, True)

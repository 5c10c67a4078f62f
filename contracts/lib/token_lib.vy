# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Checked ERC-20 Transfers
@custom:contract-name token_lib
@notice `transfer` and `transferFrom` that revert unless the token reports
        success, for tokens that return `True`, return nothing (USDT-style) or
        revert. Follows curve-stablecoin's `token_lib`. Stateless: import it,
        no `initializes` needed.
@dev Invariants:
     - a call returns only if the token call did not revert and returned
       `True` or no data; otherwise it reverts with the caller's `reason`,
       so each contract keeps its own prefixed revert reason
       ("market: transfer failed").
"""

from ethereum.ercs import IERC20

# Longest revert reason a caller passes ("composer: transfer failed" is 25).
MAX_REASON: constant(uint256) = 32


@internal
def _transfer(token: address, receiver: address, amount: uint256, reason: String[MAX_REASON]):
    """
    @notice Send `amount` of `token` from this contract to `receiver`.
    @param token The ERC-20 token.
    @param receiver Who receives the tokens.
    @param amount Token units to send.
    @param reason Revert reason if the token reports failure.
    """
    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), reason


@internal
def _transfer_from(token: address, owner: address, receiver: address, amount: uint256, reason: String[MAX_REASON]):
    """
    @notice Move `amount` of `token` from `owner` to `receiver` on this
            contract's allowance.
    @param token The ERC-20 token.
    @param owner Whose tokens move (has approved this contract).
    @param receiver Who receives the tokens.
    @param amount Token units to move.
    @param reason Revert reason if the token reports failure.
    """
    assert extcall IERC20(token).transferFrom(owner, receiver, amount, default_return_value=True), reason

# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Flash Borrower Mock
@custom:contract-name flash_borrower_mock
@notice Takes a flash loan (market) or flash mint (vault) and behaves as told:
        REPAY approves amount + fee and returns the ERC-3156 magic value;
        NO_ALLOWANCE returns the magic value without approving;
        BAD_RETURN approves but returns zero. It records what the callback saw.
        Test-only.
@dev Invariants: none; a tool for the lender's failure paths.
"""

from ethereum.ercs import IERC20
from ..interfaces import IFlashBorrower
from ..interfaces import ICdpVault
from ..interfaces import ILendingMarket
from ..lib import constants

implements: IFlashBorrower

# Behaviours.
REPAY: constant(uint256) = 0
NO_ALLOWANCE: constant(uint256) = 1
BAD_RETURN: constant(uint256) = 2
CALLBACK_SUCCESS: constant(bytes32) = constants.CALLBACK_SUCCESS

# Behaviour of the next callback.
mode: public(uint256)
# Arguments and token balance seen by the last callback.
last_initiator: public(address)
last_token: public(address)
last_amount: public(uint256)
last_fee: public(uint256)
last_balance: public(uint256)


@external
def set_mode(mode_: uint256):
    self.mode = mode_


@external
def flash_loan(market: address, amount: uint256):
    """
    @notice Borrow `amount` from a lending market for one call.
    """
    extcall ILendingMarket(market).flash_loan(self, amount, b"")


@external
def flash_mint(vault: address, amount: uint256):
    """
    @notice Flash-mint `amount` DAI from a CDP vault for one call.
    """
    extcall ICdpVault(vault).flash_mint(self, amount, b"")


@external
@reentrant
def on_flash_loan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    self.last_initiator = initiator
    self.last_token = token
    self.last_amount = amount
    self.last_fee = fee
    self.last_balance = staticcall IERC20(token).balanceOf(self)
    if self.mode != NO_ALLOWANCE:
        extcall IERC20(token).approve(msg.sender, amount + fee)
    if self.mode == BAD_RETURN:
        return empty(bytes32)
    return CALLBACK_SUCCESS

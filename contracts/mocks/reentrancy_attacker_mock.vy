# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Flash-Swap Callee / Reentrancy Attacker Mock
@custom:contract-name reentrancy_attacker_mock
@notice Receives a pool's flash-swap callback and, as told: REPAY sends back
        `repay_amount` of `repay_token` (a well-behaved flash swap); REENTER_SYNC
        calls the pool's `sync`; REENTER_VIEW reads `get_reserves` (read-only
        reentrancy); NOTHING keeps the output. Test-only.
@dev Invariants: none; a tool for the pool's lock and k check.
"""

from ethereum.ercs import IERC20
from ..interfaces import IAmmCallee
from ..interfaces import IPool

implements: IAmmCallee

interface ISyncPool:
    def sync(): nonpayable

# Behaviours.
REPAY: constant(uint256) = 0
REENTER_SYNC: constant(uint256) = 1
REENTER_VIEW: constant(uint256) = 2
NOTHING: constant(uint256) = 3

# Behaviour of the next callback.
mode: public(uint256)
# Token and amount REPAY sends back to the pool.
repay_token: public(address)
repay_amount: public(uint256)
# Calls received.
callbacks: public(uint256)


@external
def configure(mode_: uint256, repay_token_: address, repay_amount_: uint256):
    self.mode = mode_
    self.repay_token = repay_token_
    self.repay_amount = repay_amount_


@external
def attack(pool: address, amount0_out: uint256, amount1_out: uint256):
    """
    @notice Flash-swap from `pool` with a non-empty payload so it calls back.
    """
    extcall IPool(pool).swap(amount0_out, amount1_out, self, b"attack")


@external
@reentrant
def amm_call(sender: address, amount0_out: uint256, amount1_out: uint256, data: Bytes[1024]):
    self.callbacks += 1
    if self.mode == REPAY:
        extcall IERC20(self.repay_token).transfer(msg.sender, self.repay_amount)
    elif self.mode == REENTER_SYNC:
        extcall ISyncPool(msg.sender).sync()
    elif self.mode == REENTER_VIEW:
        reserve0: uint256 = 0
        reserve1: uint256 = 0
        last: uint256 = 0
        reserve0, reserve1, last = staticcall IPool(msg.sender).get_reserves()

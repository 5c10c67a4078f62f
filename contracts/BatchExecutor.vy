# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Batch Executor (a user's smart account)
@custom:contract-name BatchExecutor
@notice Runs a plan in one transaction, in the style of a multicall: `execute(calls)`
        makes each call in order from this account, and reverts every one of them if
        any fails. A call may
        - patch one 32-byte word of its calldata with this account's balance of a
          token at the moment it runs ("all of what was received so far");
        - open a flash loan or flash mint (`inner` > 0): the lender's callback,
          `on_flash_loan`, runs the next `inner` calls while the funds are out.
        The account holds the user's tokens and positions; approvals to the venues
        are granted once, at deployment.
@dev Invariants:
     - only the owner executes; the callback acts only inside `execute`, for the
       lender the current flash call targets, on a loan this account started;
     - every call of a batch runs exactly once and in order (inner calls inside the
       callback, before the flash call returns), or the whole batch reverts;
     - a flash call whose lender never called back reverts the batch.
"""

from ethereum.ercs import IERC20
from .interfaces import IFlashBorrower
from .lib import constants

implements: IFlashBorrower

# Most calls in one batch.
MAX_CALLS: constant(uint256) = 32
# Most calldata bytes of one call.
MAX_DATA: constant(uint256) = 512
# Most approvals granted at deployment.
MAX_APPROVALS: constant(uint256) = 16
# Value lenders expect back from the flash callback (ERC-3156).
CALLBACK_SUCCESS: constant(bytes32) = constants.CALLBACK_SUCCESS


struct Call:
    target: address          # contract called from this account
    data: Bytes[MAX_DATA]    # calldata (selector + ABI arguments)
    patch_token: address     # non-empty: overwrite one word with balanceOf(this) of it
    patch_offset: uint256    # byte offset of that word in `data`
    inner: uint256           # > 0: a flash call; the next `inner` calls run in its callback


struct Approval:
    token: address
    spender: address


# The account's owner: the only sender `execute` accepts.
owner: public(immutable(address))

# The batch being executed (read by the flash callback).
pending: transient(DynArray[Call, MAX_CALLS])
# Index range [inner_start, inner_end) of the calls the pending flash callback runs.
inner_start: transient(uint256)
inner_end: transient(uint256)
# Lender of the flash call in progress; cleared when its callback runs.
lender: transient(address)


event Executed:
    owner: indexed(address)
    calls: uint256


@deploy
def __init__(owner_: address, approvals: DynArray[Approval, MAX_APPROVALS]):
    """
    @notice Sets the owner and grants each (token, spender) an unlimited allowance.
    @param owner_ The only account allowed to `execute`.
    @param approvals (token, spender) pairs approved for max_value(uint256).
    """
    assert owner_ != empty(address), "batch: zero owner"
    owner = owner_
    for a: Approval in approvals:
        is_ok: bool = extcall IERC20(a.token).approve(a.spender, max_value(uint256), default_return_value=True)
        assert is_ok, "batch: approve failed"


@external
def execute(calls: DynArray[Call, MAX_CALLS]) -> uint256:
    """
    @notice Run `calls` in order (see the contract notice); all or nothing.
    @param calls The batch: target, calldata, optional balance patch, inner count.
    @return The number of calls in the batch.
    """
    assert msg.sender == owner, "batch: not owner"
    assert len(calls) > 0, "batch: no calls"
    self.pending = calls
    i: uint256 = 0
    for _: uint256 in range(MAX_CALLS):
        if i >= len(calls):
            break
        c: Call = calls[i]
        if c.inner > 0:
            assert i + 1 + c.inner <= len(calls), "batch: inner calls out of range"
            self.inner_start = i + 1
            self.inner_end = i + 1 + c.inner
            self.lender = c.target
            self._call(c)
            assert self.lender == empty(address), "batch: flash callback not run"
            i += 1 + c.inner
        else:
            self._call(c)
            i += 1
    log Executed(owner=msg.sender, calls=len(calls))
    return len(calls)


@external
@reentrant
def on_flash_loan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    """
    @notice Flash callback: run the pending flash call's inner calls.
    @param initiator Who started the loan (must be this account).
    @param token The lent token.
    @param amount Units lent.
    @param fee Units owed on top; the inner calls must leave amount + fee approved.
    @param data Unused (the inner calls are the pending batch's).
    @return keccak256("ERC3156FlashBorrower.onFlashLoan").
    @dev `@reentrant` because the lender calls it while `execute` holds the lock;
         `lender` (set only by `execute`, cleared here) and the initiator check
         stand in for it.
    """
    assert self.lender != empty(address) and msg.sender == self.lender, "batch: untrusted lender"
    assert initiator == self, "batch: untrusted initiator"
    self.lender = empty(address)
    for j: uint256 in range(self.inner_start, self.inner_end, bound=MAX_CALLS):
        self._call(self.pending[j])
    return CALLBACK_SUCCESS


@internal
def _call(c: Call):
    """
    @dev Call `c.target` with `c.data`, its patched word replaced by this account's
         balance of `c.patch_token` when that is set; a revert bubbles up.
    """
    if c.patch_token == empty(address):
        raw_call(c.target, c.data)
        return
    assert c.patch_offset + 32 <= len(c.data), "batch: patch out of range"
    balance: uint256 = staticcall IERC20(c.patch_token).balanceOf(self)
    tail: uint256 = len(c.data) - c.patch_offset - 32
    raw_call(
        c.target,
        concat(slice(c.data, 0, c.patch_offset), convert(balance, bytes32), slice(c.data, c.patch_offset + 32, tail)),
    )

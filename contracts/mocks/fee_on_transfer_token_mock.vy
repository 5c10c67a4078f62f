# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Fee-On-Transfer ERC-20 Mock
@custom:contract-name fee_on_transfer_token_mock
@notice An ERC-20 that burns `fee_bps` / 10_000 of every transfer, so the
        receiver gets less than the amount named (10_000 bps: nothing arrives).
        Anyone may mint. Test-only.
@dev Invariants: totalSupply == Σ balanceOf (the fee is burned).
"""

from ethereum.ercs import IERC20

implements: IERC20

# Basis points denominator.
BPS: constant(uint256) = 10_000

name: public(String[25])
symbol: public(String[5])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
# Share of each transfer burned, in basis points.
fee_bps: public(uint256)


@deploy
def __init__(fee_bps_: uint256):
    assert fee_bps_ <= BPS, "fot: fee above 100%"
    self.name = "Fee Token"
    self.symbol = "FEE"
    self.decimals = 18
    self.fee_bps = fee_bps_


@external
def set_fee(fee_bps_: uint256):
    assert fee_bps_ <= BPS, "fot: fee above 100%"
    self.fee_bps = fee_bps_


@external
def mint(owner: address, amount: uint256):
    self.balanceOf[owner] += amount
    self.totalSupply += amount
    log IERC20.Transfer(sender=empty(address), receiver=owner, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    self.allowance[owner][msg.sender] -= amount
    self._transfer(owner, receiver, amount)
    return True


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    fee: uint256 = amount * self.fee_bps // BPS
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log IERC20.Transfer(sender=owner, receiver=receiver, value=amount - fee)

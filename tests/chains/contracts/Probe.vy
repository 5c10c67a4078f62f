# pragma version 0.4.3
"""
@title Probe
@notice Test contract for the JSON-RPC and conformance suites: storage, events,
        reverts with and without a reason, payable deposits and block context.
@dev
    - `stored` (slot 1) changes only through `store`, which logs every change.
    - `deposits[a]` is the sum of the wei `a` sent through `deposit`.
"""

owner: public(address)  # the deployer
stored: public(uint256)  # the last value stored
deposits: public(HashMap[address, uint256])  # wei received through deposit(), by sender

event Stored:
    setter: indexed(address)
    previous: uint256
    current: uint256

event Deposited:
    sender: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(initial: uint256):
    self.owner = msg.sender
    self.stored = initial


@external
def store(amount: uint256) -> uint256:
    assert amount != 13, "probe: unlucky number"
    log Stored(setter=msg.sender, previous=self.stored, current=amount)
    self.stored = amount
    return amount


@external
@payable
def deposit():
    assert msg.value > 0, "probe: no value"
    self.deposits[msg.sender] += msg.value
    log Deposited(sender=msg.sender, amount=msg.value)


@view
@external
def double(x: uint256) -> uint256:
    assert x < 100, "probe: too large"
    return x * 2


@external
def only_owner() -> bool:
    assert msg.sender == self.owner, "probe: not owner"
    return True


@view
@external
def require_zero(x: uint256) -> uint256:
    assert x == 0  # no reason: an empty REVERT
    return x


@view
@external
def context() -> (uint256, uint256, uint256):
    return block.number, block.timestamp, chain.id

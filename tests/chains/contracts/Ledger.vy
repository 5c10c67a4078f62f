# pragma version 0.4.3
"""
@title Ledger
@notice Test contract for the native chain API: storage, events, time, reverts.
"""

owner: public(address)
total: public(uint256)
entries: public(HashMap[address, uint256])
last_stamp: public(uint256)

event Recorded:
    who: indexed(address)
    amount: uint256
    total: uint256


@deploy
def __init__(initial: uint256):
    self.owner = msg.sender
    self.total = initial


@external
def record(amount: uint256) -> uint256:
    assert amount > 0, "ledger: zero amount"
    self.entries[msg.sender] += amount
    self.total += amount
    self.last_stamp = block.timestamp
    log Recorded(who=msg.sender, amount=amount, total=self.total)
    return self.total


@external
@payable
def deposit() -> uint256:
    return msg.value


@view
@external
def info() -> (uint256, uint256, uint256):
    return self.total, block.number, chain.id


@external
def burn_gas(rounds: uint256) -> uint256:
    acc: uint256 = 0
    for i: uint256 in range(rounds, bound=100000):
        acc = unsafe_add(acc, i)  # safe: bounded loop, test only
        self.last_stamp = acc
    return acc

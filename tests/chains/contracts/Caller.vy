# pragma version 0.4.3
"""
@title Caller
@notice Test contract for the tracing suite: calls a Probe every way the EVM can
        (CALL, STATICCALL, DELEGATECALL, CREATE, CREATE2) and logs around the calls.
@dev
    - `relay` logs before and after its call, so log positions are 0 and 1.
"""

interface IProbe:
    def store(amount: uint256) -> uint256: nonpayable
    def double(x: uint256) -> uint256: view

owner: public(address)  # Probe's slot 0, so a delegatecall to Probe sees its layout
stored: public(uint256)  # Probe's slot 1: delegatecalls to Probe.store write here
probe: public(address)  # the Probe every call goes to

event Relayed:
    amount: uint256


@deploy
def __init__(probe: address):
    self.owner = msg.sender
    self.probe = probe


@external
def relay(amount: uint256) -> uint256:
    log Relayed(amount=0)
    result: uint256 = extcall IProbe(self.probe).store(amount)
    log Relayed(amount=result)
    return result


@view
@external
def peek(x: uint256) -> uint256:
    return staticcall IProbe(self.probe).double(x)


@external
def borrow(amount: uint256) -> Bytes[32]:
    return raw_call(
        self.probe,
        abi_encode(amount, method_id=method_id("store(uint256)")),
        max_outsize=32,
        is_delegate_call=True,
    )


@external
def clone(salt: bytes32) -> (address, address):
    plain: address = create_copy_of(self.probe)
    salted: address = create_copy_of(self.probe, salt=salt)
    return plain, salted

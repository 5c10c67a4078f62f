# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Message Target / Sender Mock
@custom:contract-name message_target_mock
@notice A relayed message's target and a contract message sender, for tests.
        `handle(amount)` records the xdomain context the messenger shows during
        the call (and reverts if told to); `send(...)` sends a message through
        the messenger; `on_message_refunded` records the refund callback (and
        reverts if told to); `reenter(data)` is a target that calls the
        messenger back with `data` and records whether that succeeded.
        Test-only.
@dev Invariants: none; a probe for the messenger's context, retry and refund rules.
"""

from ..interfaces import IMessenger
from ..interfaces import IMessageRefundable

implements: IMessageRefundable

# The messenger this mock talks to.
messenger: public(IMessenger)
# Whether `handle` reverts.
reverts: public(bool)
# Whether `on_message_refunded` reverts.
refund_reverts: public(bool)
# Context seen by the last `handle`.
last_sender: public(address)
last_source_chain_id: public(uint256)
last_message_id: public(bytes32)
last_value: public(uint256)
# Calls of `handle` that went through.
handled: public(uint256)
# Refund callbacks received, and the last one's arguments.
refunds: public(uint256)
last_refund_id: public(bytes32)
last_refund_dest: public(uint256)
last_refund_target: public(address)
last_refund_payload: public(Bytes[1024])
# Whether the last `reenter` call into the messenger succeeded.
reentry_succeeded: public(bool)
reentry_attempts: public(uint256)


@deploy
def __init__(messenger_: address):
    self.messenger = IMessenger(messenger_)


@external
def set_reverts(reverts_: bool):
    self.reverts = reverts_


@external
def set_refund_reverts(reverts_: bool):
    self.refund_reverts = reverts_


@external
def handle(amount: uint256):
    """
    @notice Record the xdomain context; revert if told to.
    """
    assert not self.reverts, "target: told to revert"
    self.last_sender = staticcall self.messenger.xdomain_sender()
    self.last_source_chain_id = staticcall self.messenger.xdomain_source_chain_id()
    self.last_message_id = staticcall self.messenger.xdomain_message_id()
    self.last_value = amount
    self.handled += 1


@external
def reenter(data: Bytes[2048]):
    """
    @notice Call the messenger with `data` (e.g. another relay) and record the outcome.
    """
    ok: bool = raw_call(self.messenger.address, data, revert_on_failure=False)
    self.reentry_succeeded = ok
    self.reentry_attempts += 1


@external
def send(dest_chain_id: uint256, target: address, payload: Bytes[1024], deadline: uint256) -> bytes32:
    """
    @notice Send a message as this contract.
    """
    return extcall self.messenger.send_message(dest_chain_id, target, payload, deadline)


@external
def on_message_refunded(id: bytes32, dest_chain_id: uint256, target: address, payload: Bytes[1024]):
    assert msg.sender == self.messenger.address, "target: only messenger"
    assert not self.refund_reverts, "target: refund told to revert"
    self.refunds += 1
    self.last_refund_id = id
    self.last_refund_dest = dest_chain_id
    self.last_refund_target = target
    self.last_refund_payload = payload

# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Attested Cross-Chain Messenger
@custom:contract-name Messenger
@notice One per chain. `send_message` records a message and emits it; an
        off-chain relayer carries it to the destination messenger, whose
        `relay_message` accepts it only with a k-of-n attestation by the
        registered attesters and then calls `target` with `payload`. The target
        reads the original sender and source chain from `xdomain_sender` and
        `xdomain_source_chain_id`, during that call only.
        A message that was not delivered by its deadline is expired on the
        destination (`expire_message`, which needs the relay attestation: it
        is what proves the deadline) and, with the attesters' signatures over
        that expiry, refunded once on the source (`refund_message`), which
        calls back a contract sender (`IMessageRefundable`).

        Message id  = keccak256(abi_encode(source_chain_id, dest_chain_id,
                                           nonce, sender, target, payload))
        Relay proof = k signatures over keccak256(abi_encode(RELAY_TAG,
                                           source messenger, id, deadline))
        Expiry proof= k signatures over keccak256(abi_encode(EXPIRY_TAG,
                                           destination messenger, id))
        Signatures are 65-byte (r, s, v) over the raw digest, low-s, from
        distinct registered attesters, sorted by signer address ascending.
@dev Invariants:
     - nonces strictly increase per (sender, destination): every id is sent once;
     - a message executes at most once on its destination: status goes
       0 → DELIVERED or 0 → EXPIRED and never changes again;
     - status is set DELIVERED before the target call, so a reverting target
       reverts the whole relay and leaves the message retryable (status 0);
     - no relay without `threshold` valid signatures (threshold ≥ 1; an
       unconfigured messenger relays nothing; ecrecover's zero address and
       high-s signatures never count);
     - no relay for another chain, from an unregistered source, after the
       deadline, or to a privileged target (this messenger, its owner, any
       address flagged by `set_privileged`), and never a call to
       `on_message_refunded` (that entry point belongs to refunds);
     - a message is refunded on its source at most once, only if this
       messenger sent it and the attesters saw it expire on the destination,
       so it is never both delivered and refunded while fewer than
       `threshold` attesters lie;
     - the xdomain context is set only inside a relay's target call.
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from ..interfaces import IMessageRefundable

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)

# Domain tag of the relay attestation digest.
RELAY_TAG: public(constant(bytes32)) = keccak256("composability-testbed.Messenger.relay.v1")
# Domain tag of the expiry attestation digest.
EXPIRY_TAG: public(constant(bytes32)) = keccak256("composability-testbed.Messenger.expired.v1")
# Message status on the destination.
STATUS_NONE: public(constant(uint8)) = 0
STATUS_DELIVERED: public(constant(uint8)) = 1
STATUS_EXPIRED: public(constant(uint8)) = 2
# Most attesters (and most signatures per proof).
MAX_ATTESTERS: constant(uint256) = 32
# Largest payload a message carries.
MAX_PAYLOAD: constant(uint256) = 1024
# A relayed message may never call this (it is the refund callback).
REFUND_SELECTOR: constant(bytes4) = method_id("on_message_refunded(bytes32,uint256,address,bytes)", output_type=bytes4)

# Messenger on each peer chain (zero: not a peer).
peers: public(reentrant(HashMap[uint256, address]))
# Registered attesters, in the order given to `set_attesters`.
attester_list: DynArray[address, MAX_ATTESTERS]
# Whether an address is a registered attester.
is_attester: public(reentrant(HashMap[address, bool]))
# Signatures a proof needs (0 until `set_attesters`: nothing verifies).
threshold: public(reentrant(uint256))
# Targets a relayed message may never call (besides this messenger and its owner).
privileged_flag: HashMap[address, bool]
# Next nonce per (sender, destination chain).
next_nonce: public(reentrant(HashMap[address, HashMap[uint256, uint256]]))
# Deadline of each message sent from here (0: not sent here; deadlines are ≥ 1).
sent_deadline: public(reentrant(HashMap[bytes32, uint256]))
# Whether a message sent from here was refunded.
refunded: public(reentrant(HashMap[bytes32, bool]))
# Destination status of each message relayed or expired here.
status: public(reentrant(HashMap[bytes32, uint8]))

# Cross-domain context of the relay in progress (empty outside a target call).
ctx_sender: transient(address)
ctx_source_chain_id: transient(uint256)
ctx_message_id: transient(bytes32)
# Id of the refund whose callback is in progress (empty otherwise).
ctx_refund_id: transient(bytes32)


event MessageSent:
    id: indexed(bytes32)
    dest_chain_id: indexed(uint256)
    sender: indexed(address)
    nonce: uint256
    target: address
    payload: Bytes[MAX_PAYLOAD]
    deadline: uint256


event MessageDelivered:
    id: indexed(bytes32)
    source_chain_id: indexed(uint256)
    sender: indexed(address)
    nonce: uint256
    target: address


event MessageExpired:
    id: indexed(bytes32)
    source_chain_id: indexed(uint256)


event MessageRefunded:
    id: indexed(bytes32)
    dest_chain_id: indexed(uint256)
    sender: indexed(address)


event PeerSet:
    chain_id: indexed(uint256)
    messenger: address


event AttestersSet:
    attesters: DynArray[address, MAX_ATTESTERS]
    threshold: uint256


event PrivilegedSet:
    target: indexed(address)
    flag: bool


@deploy
def __init__():
    """
    @notice The deployer owns the messenger. It relays nothing until the owner
            registers attesters (`set_attesters`) and peers (`set_peer`).
    """
    ownable.__init__()


# ------------------------------------------------------------------------------------
# admin
# ------------------------------------------------------------------------------------


@external
def set_peer(chain_id: uint256, messenger: address):
    """
    @notice Register (or, with the zero address, remove) the messenger of
            another chain: messages go only to, and come only from, peers.
    """
    ownable._check_owner()
    assert chain_id != chain.id, "messenger: own chain"
    self.peers[chain_id] = messenger
    log PeerSet(chain_id=chain_id, messenger=messenger)


@external
def set_attesters(attesters: DynArray[address, MAX_ATTESTERS], threshold: uint256):
    """
    @notice Replace the attester set and the number of signatures a proof needs.
    @param attesters Distinct, non-zero addresses.
    @param threshold 1 ≤ threshold ≤ len(attesters).
    """
    ownable._check_owner()
    assert threshold >= 1, "messenger: threshold below 1"
    assert threshold <= len(attesters), "messenger: threshold above attesters"
    for old: address in self.attester_list:
        self.is_attester[old] = False
    for a: address in attesters:
        assert a != empty(address), "messenger: zero attester"
        assert not self.is_attester[a], "messenger: duplicate attester"
        self.is_attester[a] = True
    self.attester_list = attesters
    self.threshold = threshold
    log AttestersSet(attesters=attesters, threshold=threshold)


@external
def set_privileged(target: address, flag: bool):
    """
    @notice Flag (or unflag) an address relayed messages may never call, e.g. an
            admin contract that trusts this messenger. This messenger and its
            owner are privileged regardless.
    """
    ownable._check_owner()
    self.privileged_flag[target] = flag
    log PrivilegedSet(target=target, flag=flag)


# ------------------------------------------------------------------------------------
# source side
# ------------------------------------------------------------------------------------


@external
@reentrant
def send_message(dest_chain_id: uint256, target: address, payload: Bytes[MAX_PAYLOAD], deadline: uint256) -> bytes32:
    """
    @notice Send `payload` to `target` on `dest_chain_id`, deliverable until
            `deadline` (a timestamp on the destination chain).
            Reentrant on purpose: a relayed target may answer with a message.
            It touches only this sender's nonce and the new id's record.
    @return The message id.
    """
    assert self.peers[dest_chain_id] != empty(address), "messenger: unknown destination"
    assert target != empty(address), "messenger: zero target"
    assert deadline >= block.timestamp, "messenger: deadline passed"
    nonce: uint256 = self.next_nonce[msg.sender][dest_chain_id]
    self.next_nonce[msg.sender][dest_chain_id] = nonce + 1
    id: bytes32 = self._message_id(chain.id, dest_chain_id, nonce, msg.sender, target, payload)
    # Unreachable with nonces strictly increasing; kept as the invariant's guard.
    assert self.sent_deadline[id] == 0, "messenger: id reused"
    self.sent_deadline[id] = deadline
    log MessageSent(
        id=id,
        dest_chain_id=dest_chain_id,
        sender=msg.sender,
        nonce=nonce,
        target=target,
        payload=payload,
        deadline=deadline,
    )
    return id


@external
def refund_message(
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
    deadline: uint256,
    signatures: DynArray[Bytes[65], MAX_ATTESTERS],
):
    """
    @notice Refund a message sent from here that expired on its destination.
            Anyone may call it; the proof is the attesters' signatures over the
            expiry digest (they sign after seeing `MessageExpired` there).
            Marks it refunded, then, if `sender` is a contract, calls its
            `on_message_refunded`; a revert there undoes the refund.
    """
    peer: address = self.peers[dest_chain_id]
    assert peer != empty(address), "messenger: unknown destination"
    id: bytes32 = self._message_id(chain.id, dest_chain_id, nonce, sender, target, payload)
    stored: uint256 = self.sent_deadline[id]
    assert stored != 0, "messenger: unknown message"
    assert stored == deadline, "messenger: wrong deadline"
    assert not self.refunded[id], "messenger: already refunded"
    self._verify(keccak256(abi_encode(EXPIRY_TAG, peer, id)), signatures)
    self.refunded[id] = True
    log MessageRefunded(id=id, dest_chain_id=dest_chain_id, sender=sender)
    if sender.is_contract:
        self.ctx_refund_id = id
        extcall IMessageRefundable(sender).on_message_refunded(id, dest_chain_id, target, payload)
        self.ctx_refund_id = empty(bytes32)


# ------------------------------------------------------------------------------------
# destination side
# ------------------------------------------------------------------------------------


@external
def relay_message(
    source_chain_id: uint256,
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
    deadline: uint256,
    signatures: DynArray[Bytes[65], MAX_ATTESTERS],
):
    """
    @notice Deliver an attested message: mark it delivered, call `target` with
            `payload` under the xdomain context, clear the context. A reverting
            target reverts the relay (its reason bubbles up): the message stays
            undelivered and can be relayed again until its deadline.
    """
    id: bytes32 = self._check_attested(source_chain_id, dest_chain_id, nonce, sender, target, payload, deadline, signatures)
    assert block.timestamp <= deadline, "messenger: message expired"
    assert self.status[id] == STATUS_NONE, "messenger: already processed"
    assert not self._is_privileged(target), "messenger: privileged target"
    if len(payload) >= 4:
        assert convert(slice(payload, 0, 4), bytes4) != REFUND_SELECTOR, "messenger: refund callback"

    self.status[id] = STATUS_DELIVERED
    self.ctx_sender = sender
    self.ctx_source_chain_id = source_chain_id
    self.ctx_message_id = id
    raw_call(target, payload)
    self.ctx_sender = empty(address)
    self.ctx_source_chain_id = 0
    self.ctx_message_id = empty(bytes32)
    log MessageDelivered(id=id, source_chain_id=source_chain_id, sender=sender, nonce=nonce, target=target)


@external
def expire_message(
    source_chain_id: uint256,
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
    deadline: uint256,
    signatures: DynArray[Bytes[65], MAX_ATTESTERS],
):
    """
    @notice Mark an undelivered message past its deadline as expired; it can
            never be relayed afterwards. Anyone may call it, but only with the
            relay attestation: the deadline is not part of the id, so without
            the signed (id, deadline) pair anyone could expire any message
            early by claiming a past deadline.
    """
    id: bytes32 = self._check_attested(source_chain_id, dest_chain_id, nonce, sender, target, payload, deadline, signatures)
    assert block.timestamp > deadline, "messenger: not expired yet"
    assert self.status[id] == STATUS_NONE, "messenger: already processed"
    self.status[id] = STATUS_EXPIRED
    log MessageExpired(id=id, source_chain_id=source_chain_id)


# ------------------------------------------------------------------------------------
# views
# ------------------------------------------------------------------------------------


@view
@external
@reentrant
def xdomain_sender() -> address:
    """
    @notice Sender of the message being relayed; reverts outside a relay.
    """
    sender: address = self.ctx_sender
    assert sender != empty(address), "messenger: not in a relay"
    return sender


@view
@external
@reentrant
def xdomain_source_chain_id() -> uint256:
    """
    @notice Source chain of the message being relayed; reverts outside a relay.
    """
    source: uint256 = self.ctx_source_chain_id
    assert source != 0, "messenger: not in a relay"
    return source


@view
@external
@reentrant
def xdomain_message_id() -> bytes32:
    """
    @notice Id of the message being relayed; reverts outside a relay.
    """
    id: bytes32 = self.ctx_message_id
    assert id != empty(bytes32), "messenger: not in a relay"
    return id


@view
@external
@reentrant
def refunding_id() -> bytes32:
    """
    @notice Id of the refund whose sender callback is running (empty otherwise):
            lets a sender check that `on_message_refunded` comes from a refund.
    """
    return self.ctx_refund_id


@view
@external
@reentrant
def sent(id: bytes32) -> bool:
    """
    @notice Whether this messenger sent message `id`.
    """
    return self.sent_deadline[id] != 0


@view
@external
@reentrant
def privileged(target: address) -> bool:
    """
    @notice Whether relayed messages may never call `target`.
    """
    return self._is_privileged(target)


@view
@external
@reentrant
def attesters() -> DynArray[address, MAX_ATTESTERS]:
    """
    @notice The registered attesters.
    """
    return self.attester_list


@view
@external
@reentrant
def chain_id() -> uint256:
    """
    @notice The chain this messenger serves (`chain.id`).
    """
    return chain.id


@pure
@external
def message_id(
    source_chain_id: uint256,
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
) -> bytes32:
    """
    @notice keccak256(abi_encode(source_chain_id, dest_chain_id, nonce, sender, target, payload)).
    """
    return self._message_id(source_chain_id, dest_chain_id, nonce, sender, target, payload)


@view
@external
@reentrant
def relay_digest(source_chain_id: uint256, id: bytes32, deadline: uint256) -> bytes32:
    """
    @notice What attesters sign to relay `id`:
            keccak256(abi_encode(RELAY_TAG, peers[source_chain_id], id, deadline)).
    """
    return keccak256(abi_encode(RELAY_TAG, self.peers[source_chain_id], id, deadline))


@view
@external
@reentrant
def expiry_digest(dest_chain_id: uint256, id: bytes32) -> bytes32:
    """
    @notice What attesters sign to refund `id`:
            keccak256(abi_encode(EXPIRY_TAG, peers[dest_chain_id], id)).
    """
    return keccak256(abi_encode(EXPIRY_TAG, self.peers[dest_chain_id], id))


# ------------------------------------------------------------------------------------
# internal
# ------------------------------------------------------------------------------------


@internal
@pure
def _message_id(
    source_chain_id: uint256,
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
) -> bytes32:
    return keccak256(abi_encode(source_chain_id, dest_chain_id, nonce, sender, target, payload))


@internal
@view
def _is_privileged(target: address) -> bool:
    return target == self or target == ownable.owner or self.privileged_flag[target]


@internal
@view
def _check_attested(
    source_chain_id: uint256,
    dest_chain_id: uint256,
    nonce: uint256,
    sender: address,
    target: address,
    payload: Bytes[MAX_PAYLOAD],
    deadline: uint256,
    signatures: DynArray[Bytes[65], MAX_ATTESTERS],
) -> bytes32:
    """
    @dev Checks a message is for this chain, from a peer, and attested with
         its deadline; returns its id.
    """
    assert dest_chain_id == chain.id, "messenger: wrong destination chain"
    peer: address = self.peers[source_chain_id]
    assert peer != empty(address), "messenger: unknown source"
    id: bytes32 = self._message_id(source_chain_id, dest_chain_id, nonce, sender, target, payload)
    self._verify(keccak256(abi_encode(RELAY_TAG, peer, id, deadline)), signatures)
    return id


@internal
@view
def _verify(digest: bytes32, signatures: DynArray[Bytes[65], MAX_ATTESTERS]):
    """
    @dev At least `threshold` signatures, each 65 bytes and low-s (snekmate's
         `ecdsa` rejects high s and the zero address), each by a registered
         attester, signers strictly ascending (so no signer counts twice).
    """
    needed: uint256 = self.threshold
    assert needed != 0, "messenger: no attesters"
    assert len(signatures) >= needed, "messenger: too few signatures"
    last: uint160 = 0
    for signature: Bytes[65] in signatures:
        assert len(signature) == 65, "messenger: bad signature length"
        signer: address = ecdsa._recover_sig(digest, signature)
        assert convert(signer, uint160) > last, "messenger: signers not ascending"
        assert self.is_attester[signer], "messenger: not an attester"
        last = convert(signer, uint160)

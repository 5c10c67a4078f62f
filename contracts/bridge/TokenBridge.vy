# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Lock-and-Mint Token Bridge
@custom:contract-name TokenBridge
@notice One per chain, on top of this chain's `Messenger`. A home token is
        locked here and minted as a registered wrapped `Token.vy` on a remote
        chain; the wrapped token is burned there and the home token released
        here. `bridge_out` sends `receive_tokens(home_chain_id, home_token,
        original_sender, recipient, amount)` to the peer bridge of the
        destination through the messenger; `receive_tokens` accepts it only
        from the messenger, inside a relay, from the peer bridge of the source
        chain. A message that expires undelivered is refunded to the original
        sender (`on_message_refunded`: unlock, or re-mint a burned wrapped token).
        Each outbound lane (token, destination) can carry a token-bucket rate
        limit: `capacity` tokens, refilled at `refill_per_second`; so can each
        inbound lane (local token released or minted, source chain), which
        bounds what a forged message (a compromised attester quorum) can take
        per unit of time. An inbound transfer over its limit reverts the relay,
        which stays retryable until the bucket has refilled (or the deadline).
@dev Invariants:
     - locked(token) == this contract's balance of `token` that arrived through
       `bridge_out` and was not released or refunded (a lock counts the
       balance delta, so a fee-on-transfer token locks only what arrived, and
       a lock that delivered nothing reverts);
     - for each home token, across chains: locked on home == Σ wrapped supply
       on remotes + amount in flight (equality when no message is pending);
     - wrapped tokens are minted only by `receive_tokens` (from the peer
       bridge) and by refunds of wrapped burns, never otherwise;
     - a wrapped token goes out only towards its home chain;
     - a lane with a limit (either direction) never lets more than `capacity`
       plus `refill_per_second` × elapsed seconds through.
"""

from ethereum.ercs import IERC20
from snekmate.auth import ownable
from ..interfaces import IMessenger
from ..interfaces import IMintableToken
from ..interfaces import IMessageRefundable
from ..interfaces import ITokenBridge
from ..lib import token_lib

implements: IMessageRefundable
implements: ITokenBridge

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


interface IMinterRole:
    def is_minter(minter: address) -> bool: view


# Selector of the message every bridge sends to its peer.
RECEIVE_SELECTOR: constant(bytes4) = method_id("receive_tokens(uint256,address,address,address,uint256)", output_type=bytes4)
# Largest payload a message carries (the messenger's limit).
MAX_PAYLOAD: constant(uint256) = 1024

# This chain's messenger.
messenger: public(immutable(IMessenger))


struct HomeRef:
    chain_id: uint256  # home chain of a wrapped token
    token: address     # the token on its home chain


struct Bucket:
    capacity: uint256           # most tokens the lane holds (0: no limit)
    refill_per_second: uint256  # tokens added back per second
    level: uint256              # tokens available at `updated_at`
    updated_at: uint256         # timestamp of `level`


# Token bridge on each peer chain (zero: not a peer).
peers: public(reentrant(HashMap[uint256, address]))
# Tokens whose home is this chain (locked and released here).
is_home_token: public(reentrant(HashMap[address, bool]))
# Home tokens held for the remotes, per token.
locked: public(reentrant(HashMap[address, uint256]))
# Wrapped token on this chain of a (home chain, home token).
wrapped_of: public(reentrant(HashMap[uint256, HashMap[address, address]]))
# Home of each wrapped token on this chain.
home_ref: HashMap[address, HomeRef]
# Outbound rate limit per (local token, destination chain).
buckets: HashMap[address, HashMap[uint256, Bucket]]
# Inbound rate limit per (local token released or minted, source chain).
inbound_buckets: HashMap[address, HashMap[uint256, Bucket]]


event TokensLocked:
    id: indexed(bytes32)
    token: indexed(address)
    sender: indexed(address)
    dest_chain_id: uint256
    recipient: address
    amount: uint256


event TokensBurned:
    id: indexed(bytes32)
    token: indexed(address)
    sender: indexed(address)
    dest_chain_id: uint256
    recipient: address
    amount: uint256


event TokensReleased:
    id: indexed(bytes32)
    token: indexed(address)
    recipient: indexed(address)
    source_chain_id: uint256
    amount: uint256


event TokensMinted:
    id: indexed(bytes32)
    token: indexed(address)
    recipient: indexed(address)
    source_chain_id: uint256
    amount: uint256


event TokensRefunded:
    id: indexed(bytes32)
    token: indexed(address)
    sender: indexed(address)
    amount: uint256


event PeerSet:
    chain_id: indexed(uint256)
    bridge: address


event HomeTokenRegistered:
    token: indexed(address)


event WrappedRegistered:
    home_chain_id: indexed(uint256)
    home_token: indexed(address)
    wrapped: address


event RateLimitSet:
    token: indexed(address)
    dest_chain_id: indexed(uint256)
    capacity: uint256
    refill_per_second: uint256


event InboundRateLimitSet:
    token: indexed(address)
    source_chain_id: indexed(uint256)
    capacity: uint256
    refill_per_second: uint256


@deploy
def __init__(messenger_: address):
    """
    @param messenger_ This chain's `Messenger`.
    """
    ownable.__init__()
    assert messenger_ != empty(address), "bridge: zero messenger"
    messenger = IMessenger(messenger_)


# ------------------------------------------------------------------------------------
# admin
# ------------------------------------------------------------------------------------


@external
def set_peer(chain_id: uint256, bridge: address):
    """
    @notice Register (or, with the zero address, remove) the bridge of another chain.
    """
    ownable._check_owner()
    assert chain_id != chain.id, "bridge: own chain"
    self.peers[chain_id] = bridge
    log PeerSet(chain_id=chain_id, bridge=bridge)


@external
def register_home_token(token: address):
    """
    @notice Let `token` (native to this chain) be locked here and released here.
    """
    ownable._check_owner()
    assert token != empty(address), "bridge: zero token"
    assert self.home_ref[token].token == empty(address), "bridge: token is wrapped"
    self.is_home_token[token] = True
    log HomeTokenRegistered(token=token)


@external
def register_wrapped(home_chain_id: uint256, home_token: address, wrapped: address):
    """
    @notice Register `wrapped` (a `Token.vy` whose minter is this bridge) as the
            local form of `home_token` of `home_chain_id`. Once per pair and per
            wrapped token: the mapping never changes, so supply stays accounted.
    """
    ownable._check_owner()
    assert home_chain_id != chain.id, "bridge: home is this chain"
    assert home_token != empty(address), "bridge: zero token"
    assert wrapped != empty(address), "bridge: zero token"
    assert not self.is_home_token[wrapped], "bridge: token is a home token"
    assert self.wrapped_of[home_chain_id][home_token] == empty(address), "bridge: already registered"
    assert self.home_ref[wrapped].token == empty(address), "bridge: already registered"
    assert staticcall IMinterRole(wrapped).is_minter(self), "bridge: not a minter of wrapped"
    self.wrapped_of[home_chain_id][home_token] = wrapped
    self.home_ref[wrapped] = HomeRef(chain_id=home_chain_id, token=home_token)
    log WrappedRegistered(home_chain_id=home_chain_id, home_token=home_token, wrapped=wrapped)


@external
def set_rate_limit(token: address, dest_chain_id: uint256, capacity: uint256, refill_per_second: uint256):
    """
    @notice Limit the outbound lane (`token` → `dest_chain_id`) to a token
            bucket that starts full; `capacity` 0 removes the limit.
    """
    ownable._check_owner()
    self.buckets[token][dest_chain_id] = Bucket(
        capacity=capacity,
        refill_per_second=refill_per_second,
        level=capacity,
        updated_at=block.timestamp,
    )
    log RateLimitSet(token=token, dest_chain_id=dest_chain_id, capacity=capacity, refill_per_second=refill_per_second)


@external
def set_inbound_rate_limit(token: address, source_chain_id: uint256, capacity: uint256, refill_per_second: uint256):
    """
    @notice Limit the inbound lane (`source_chain_id` → `token`, the local token
            released or minted) to a token bucket that starts full; `capacity` 0
            removes the limit.
    """
    ownable._check_owner()
    self.inbound_buckets[token][source_chain_id] = Bucket(
        capacity=capacity,
        refill_per_second=refill_per_second,
        level=capacity,
        updated_at=block.timestamp,
    )
    log InboundRateLimitSet(token=token, source_chain_id=source_chain_id, capacity=capacity, refill_per_second=refill_per_second)


# ------------------------------------------------------------------------------------
# outbound
# ------------------------------------------------------------------------------------


@external
def bridge_out(token: address, amount: uint256, dest_chain_id: uint256, recipient: address, deadline: uint256) -> bytes32:
    """
    @notice Move `amount` of `token` to `recipient` on `dest_chain_id`.
            A home token is pulled from the caller (approval needed) and
            locked: only the balance increase counts (fee-on-transfer tokens
            lock less than `amount`; nothing arriving reverts). A wrapped
            token is burned from the caller (approval needed) and may only go
            to its home chain. Undelivered by `deadline`, it is refundable.
    @return The message id.
    """
    assert amount > 0, "bridge: zero amount"
    assert recipient != empty(address), "bridge: zero recipient"
    peer: address = self.peers[dest_chain_id]
    assert peer != empty(address), "bridge: unknown destination"

    home_chain_id: uint256 = chain.id
    home_token: address = token
    sent_amount: uint256 = amount
    is_lock: bool = self.is_home_token[token]
    if is_lock:
        before: uint256 = staticcall IERC20(token).balanceOf(self)
        token_lib._transfer_from(token, msg.sender, self, amount, "bridge: transfer failed")
        after: uint256 = staticcall IERC20(token).balanceOf(self)
        assert after > before, "bridge: nothing arrived"
        sent_amount = after - before
        self._consume(True, token, dest_chain_id, sent_amount)
        self.locked[token] += sent_amount
    else:
        home: HomeRef = self.home_ref[token]
        assert home.token != empty(address), "bridge: unknown token"
        assert dest_chain_id == home.chain_id, "bridge: wrapped goes home only"
        self._consume(True, token, dest_chain_id, amount)
        extcall IMintableToken(token).burn_from(msg.sender, amount)
        home_chain_id = home.chain_id
        home_token = home.token

    payload: Bytes[MAX_PAYLOAD] = abi_encode(
        home_chain_id, home_token, msg.sender, recipient, sent_amount, method_id=RECEIVE_SELECTOR
    )
    id: bytes32 = extcall messenger.send_message(dest_chain_id, peer, payload, deadline)
    if is_lock:
        log TokensLocked(id=id, token=token, sender=msg.sender, dest_chain_id=dest_chain_id, recipient=recipient, amount=sent_amount)
    else:
        log TokensBurned(id=id, token=token, sender=msg.sender, dest_chain_id=dest_chain_id, recipient=recipient, amount=amount)
    return id


# ------------------------------------------------------------------------------------
# inbound (called by the messenger)
# ------------------------------------------------------------------------------------


@external
def receive_tokens(home_chain_id: uint256, home_token: address, original_sender: address, recipient: address, amount: uint256):
    """
    @notice Deliver bridged tokens: release the home token if this is its home
            chain, otherwise mint its registered wrapped token. Only the
            messenger calls it, inside the relay of a message whose sender is
            the peer bridge of its source chain.
    """
    assert msg.sender == messenger.address, "bridge: only messenger"
    source_chain_id: uint256 = staticcall messenger.xdomain_source_chain_id()
    assert staticcall messenger.xdomain_sender() == self.peers[source_chain_id], "bridge: not from peer bridge"
    id: bytes32 = staticcall messenger.xdomain_message_id()
    if home_chain_id == chain.id:
        assert self.is_home_token[home_token], "bridge: unknown token"
        self._consume(False, home_token, source_chain_id, amount)
        self.locked[home_token] -= amount
        token_lib._transfer(home_token, recipient, amount, "bridge: transfer failed")
        log TokensReleased(id=id, token=home_token, recipient=recipient, source_chain_id=source_chain_id, amount=amount)
    else:
        wrapped: address = self.wrapped_of[home_chain_id][home_token]
        assert wrapped != empty(address), "bridge: unknown token"
        self._consume(False, wrapped, source_chain_id, amount)
        extcall IMintableToken(wrapped).mint(recipient, amount)
        log TokensMinted(id=id, token=wrapped, recipient=recipient, source_chain_id=source_chain_id, amount=amount)


@external
def on_message_refunded(id: bytes32, dest_chain_id: uint256, target: address, payload: Bytes[MAX_PAYLOAD]):
    """
    @notice Give the tokens of an expired, refunded transfer back to its
            original sender: unlock a home token, re-mint a burned wrapped one.
            Only the messenger calls it, during the refund of `id` (the
            messenger derived `id` from this very payload and this bridge as
            sender, so the payload is one this bridge built).
    """
    assert msg.sender == messenger.address, "bridge: only messenger"
    assert staticcall messenger.refunding_id() == id, "bridge: not a refund"
    assert len(payload) == 4 + 5 * 32, "bridge: bad payload"
    assert convert(slice(payload, 0, 4), bytes4) == RECEIVE_SELECTOR, "bridge: bad payload"
    home_chain_id: uint256 = empty(uint256)
    home_token: address = empty(address)
    original_sender: address = empty(address)
    recipient: address = empty(address)
    amount: uint256 = empty(uint256)
    home_chain_id, home_token, original_sender, recipient, amount = abi_decode(
        slice(payload, 4, 5 * 32), (uint256, address, address, address, uint256)
    )
    if home_chain_id == chain.id:
        self.locked[home_token] -= amount
        token_lib._transfer(home_token, original_sender, amount, "bridge: transfer failed")
        log TokensRefunded(id=id, token=home_token, sender=original_sender, amount=amount)
    else:
        wrapped: address = self.wrapped_of[home_chain_id][home_token]
        assert wrapped != empty(address), "bridge: unknown token"
        extcall IMintableToken(wrapped).mint(original_sender, amount)
        log TokensRefunded(id=id, token=wrapped, sender=original_sender, amount=amount)


# ------------------------------------------------------------------------------------
# views
# ------------------------------------------------------------------------------------


@view
@external
@reentrant
def home_of(wrapped: address) -> (uint256, address):
    """
    @notice (home chain id, home token) of a wrapped token; (0, zero) if unknown.
    """
    home: HomeRef = self.home_ref[wrapped]
    return home.chain_id, home.token


@view
@external
@reentrant
def available(token: address, dest_chain_id: uint256) -> uint256:
    """
    @notice Tokens the lane (`token` → `dest_chain_id`) lets through now
            (max uint256 without a limit).
    """
    bucket: Bucket = self.buckets[token][dest_chain_id]
    if bucket.capacity == 0:
        return max_value(uint256)
    return self._level(bucket)


@view
@external
@reentrant
def rate_limit(token: address, dest_chain_id: uint256) -> (uint256, uint256):
    """
    @notice (capacity, refill_per_second) of an outbound lane; capacity 0: no limit.
    """
    bucket: Bucket = self.buckets[token][dest_chain_id]
    return bucket.capacity, bucket.refill_per_second


@view
@external
@reentrant
def available_inbound(token: address, source_chain_id: uint256) -> uint256:
    """
    @notice Tokens the inbound lane (`source_chain_id` → local `token`) lets in
            now (max uint256 without a limit).
    """
    bucket: Bucket = self.inbound_buckets[token][source_chain_id]
    if bucket.capacity == 0:
        return max_value(uint256)
    return self._level(bucket)


@view
@external
@reentrant
def inbound_rate_limit(token: address, source_chain_id: uint256) -> (uint256, uint256):
    """
    @notice (capacity, refill_per_second) of an inbound lane; capacity 0: no limit.
    """
    bucket: Bucket = self.inbound_buckets[token][source_chain_id]
    return bucket.capacity, bucket.refill_per_second


# ------------------------------------------------------------------------------------
# internal
# ------------------------------------------------------------------------------------


@internal
@view
def _level(bucket: Bucket) -> uint256:
    """
    @dev level_now = min(capacity, level + refill_per_second · (now − updated_at)),
         computed without overflow for any refill rate.
    """
    missing: uint256 = bucket.capacity - bucket.level
    elapsed: uint256 = block.timestamp - bucket.updated_at
    if bucket.refill_per_second == 0 or missing == 0:
        return bucket.level
    if elapsed > missing // bucket.refill_per_second:
        return bucket.capacity
    # elapsed ≤ missing // refill, so elapsed · refill ≤ missing: no overflow.
    return bucket.level + elapsed * bucket.refill_per_second


@internal
def _consume(outbound: bool, token: address, chain_id: uint256, amount: uint256):
    """
    @dev Take `amount` from the lane's bucket (outbound: to `chain_id`; inbound:
         from `chain_id`); no limit configured lets everything through. Reads the
         capacity alone first, so an unlimited lane costs one storage read.
    """
    if outbound:
        if self.buckets[token][chain_id].capacity == 0:
            return
        level: uint256 = self._level(self.buckets[token][chain_id])
        assert amount <= level, "bridge: rate limited"
        self.buckets[token][chain_id].level = level - amount
        self.buckets[token][chain_id].updated_at = block.timestamp
    else:
        if self.inbound_buckets[token][chain_id].capacity == 0:
            return
        level: uint256 = self._level(self.inbound_buckets[token][chain_id])
        assert amount <= level, "bridge: inbound rate limited"
        self.inbound_buckets[token][chain_id].level = level - amount
        self.inbound_buckets[token][chain_id].updated_at = block.timestamp

# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title ERC-7683 Destination Settler
@custom:contract-name DestinationSettler
@notice The destination side of a cross-chain intent (ERC-7683's open / fill /
        settle). A solver `fill`s an order opened on an `OriginSettler` by
        paying the order's output from its own inventory to the recipient
        before the fill deadline; the fill is recorded once per order id and
        its proof — `settle(orderId, filler)` — goes to the origin settler
        through this chain's messenger (the attested bridge), which repays the
        filler from the escrow there. After the deadline, an unfilled order
        can be `expire`d by anyone: the proof of that — `refund(orderId)` —
        goes the same way and returns the escrow to the user.
        orderId = keccak256(originData), originData = abi_encode(FillData) as
        the origin settler emitted it, so a fill pays exactly what the user
        asked for, to whom, on this chain.
@dev Invariants:
     - an order is filled at most once, only before its fill deadline, only
       on the chain it names, only for an origin settler registered here;
     - an order is expired at most once, only after its fill deadline, and
       never if it was filled: an order gets a settle proof or a refund
       proof, never both;
     - a fill moves exactly `output_amount` of `output_token` from the filler
       to `recipient`.
"""

from snekmate.auth import ownable
from .interfaces import IMessenger
from .lib import token_lib

initializes: ownable

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)

# abi_encode(FillData) length (all fields static).
ORIGIN_DATA_SIZE: constant(uint256) = 288
# Selectors of the origin settler's message entry points.
SETTLE_SELECTOR: constant(bytes4) = method_id("settle(bytes32,address)", output_type=bytes4)
REFUND_SELECTOR: constant(bytes4) = method_id("refund(bytes32)", output_type=bytes4)

# This chain's messenger.
messenger: public(immutable(IMessenger))
# Seconds a proof message may take to reach the origin before it expires.
proof_window: public(immutable(uint256))


# `originData` (the origin settler's FillData).
struct FillData:
    origin_chain_id: uint256
    origin_settler: address
    user: address
    nonce: uint256
    fill_deadline: uint32
    output_token: address
    output_amount: uint256
    recipient: address
    destination_chain_id: uint256


# Origin settler on each chain (zero: orders from there are refused).
origin_settlers: public(HashMap[uint256, address])
# Who filled each order (its repayment address on the origin); zero: not filled.
filled_by: public(HashMap[bytes32, address])
# Whether an unfilled order was expired (its refund proof sent).
expired: public(HashMap[bytes32, bool])


event Filled:
    orderId: indexed(bytes32)
    filler: indexed(address)
    recipient: indexed(address)
    token: address
    amount: uint256
    message_id: bytes32


event Expired:
    orderId: indexed(bytes32)
    message_id: bytes32


event ProofReturned:
    message_id: indexed(bytes32)


event OriginSettlerSet:
    chain_id: indexed(uint256)
    settler: address


@deploy
def __init__(messenger_: address, proof_window_: uint256):
    """
    @notice The deployer owns the settler and registers origin settlers.
    @param messenger_ This chain's messenger.
    @param proof_window_ Seconds a settle or refund proof may take to arrive.
    """
    ownable.__init__()
    assert messenger_ != empty(address), "destination: zero messenger"
    assert proof_window_ > 0, "destination: zero proof window"
    messenger = IMessenger(messenger_)
    proof_window = proof_window_


@external
def set_origin_settler(chain_id: uint256, settler: address):
    """
    @notice Register (or, with the zero address, remove) the origin settler of
            `chain_id`.
    """
    ownable._check_owner()
    assert chain_id != chain.id, "destination: own chain"
    self.origin_settlers[chain_id] = settler
    log OriginSettlerSet(chain_id=chain_id, settler=settler)


@external
def fill(orderId: bytes32, originData: Bytes[ORIGIN_DATA_SIZE], fillerData: Bytes[32]) -> bytes32:
    """
    @notice Fill an order (ERC-7683 `IDestinationSettler.fill`): pay its output
            from the caller's inventory to its recipient, record the fill and
            send the settle proof to the origin. `fillerData` is
            abi_encode(repayment address on the origin); empty: the caller.
    @dev The caller must have approved `output_amount` of `output_token`.
    @return The proof message's id.
    """
    data: FillData = self._check(orderId, originData)
    assert block.timestamp <= convert(data.fill_deadline, uint256), "destination: fill deadline passed"
    assert self.filled_by[orderId] == empty(address), "destination: already filled"
    assert not self.expired[orderId], "destination: order expired"
    filler: address = msg.sender
    if len(fillerData) > 0:
        filler = abi_decode(fillerData, address)
    assert filler != empty(address), "destination: zero filler"
    self.filled_by[orderId] = filler
    message_id: bytes32 = self._prove_fill(orderId, data, filler)
    log Filled(
        orderId=orderId,
        filler=filler,
        recipient=data.recipient,
        token=data.output_token,
        amount=data.output_amount,
        message_id=message_id,
    )
    token_lib._transfer_from(data.output_token, msg.sender, data.recipient, data.output_amount, "destination: transfer failed")
    return message_id


@external
def expire(orderId: bytes32, originData: Bytes[ORIGIN_DATA_SIZE]) -> bytes32:
    """
    @notice Mark an order past its fill deadline and unfilled as expired and
            send the refund proof to the origin. Anyone may call it.
    @return The proof message's id.
    """
    data: FillData = self._check(orderId, originData)
    assert block.timestamp > convert(data.fill_deadline, uint256), "destination: fill deadline not passed"
    assert self.filled_by[orderId] == empty(address), "destination: order filled"
    assert not self.expired[orderId], "destination: already expired"
    self.expired[orderId] = True
    payload: Bytes[36] = concat(REFUND_SELECTOR, abi_encode(orderId))
    message_id: bytes32 = extcall messenger.send_message(
        data.origin_chain_id, data.origin_settler, payload, block.timestamp + proof_window
    )
    log Expired(orderId=orderId, message_id=message_id)
    return message_id


@external
def prove(orderId: bytes32, originData: Bytes[ORIGIN_DATA_SIZE]) -> bytes32:
    """
    @notice Send a filled order's settle proof again (one that expired
            undelivered). Anyone may call it; the origin settles an order at
            most once, so a repeated proof pays nothing twice.
    @return The proof message's id.
    """
    data: FillData = self._check(orderId, originData)
    filler: address = self.filled_by[orderId]
    assert filler != empty(address), "destination: order not filled"
    return self._prove_fill(orderId, data, filler)


@external
def on_message_refunded(id: bytes32, dest_chain_id: uint256, target: address, payload: Bytes[1024]):
    """
    @notice The messenger returns a proof that expired undelivered: accept it
            (a fill proof can be sent again with `prove`).
    """
    assert msg.sender == messenger.address, "destination: not the messenger"
    assert staticcall messenger.refunding_id() == id, "destination: not a refund"
    log ProofReturned(message_id=id)


@internal
@view
def _check(order_id: bytes32, origin_data: Bytes[ORIGIN_DATA_SIZE]) -> FillData:
    """
    @dev The order data matches its id, names this chain and a registered
         origin settler.
    """
    assert keccak256(origin_data) == order_id, "destination: order id mismatch"
    data: FillData = abi_decode(origin_data, FillData)
    assert data.destination_chain_id == chain.id, "destination: wrong chain"
    settler: address = self.origin_settlers[data.origin_chain_id]
    assert settler != empty(address), "destination: unknown origin"
    assert data.origin_settler == settler, "destination: unknown origin settler"
    return data


@internal
def _prove_fill(order_id: bytes32, data: FillData, filler: address) -> bytes32:
    """
    @dev Send settle(order_id, filler) to the origin settler through the messenger.
    """
    payload: Bytes[68] = concat(SETTLE_SELECTOR, abi_encode(order_id, filler))
    return extcall messenger.send_message(
        data.origin_chain_id, data.origin_settler, payload, block.timestamp + proof_window
    )

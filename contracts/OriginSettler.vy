# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title ERC-7683 Origin Settler
@custom:contract-name OriginSettler
@notice The origin side of a cross-chain intent (ERC-7683's open / fill /
        settle). A user `open`s an `OnchainCrossChainOrder` whose `orderData`
        is the testbed's `OrderData` (ORDER_DATA_TYPE): the input tokens move
        into escrow here, the order asks for `output_amount` of `output_token`
        to `recipient` on `destination_chain_id` by `fillDeadline`, and the
        `Open` event carries the `ResolvedCrossChainOrder` a solver fills from.
        orderId = keccak256(originData), originData = abi_encode(FillData)
        (what the destination settler needs), so both chains derive the same
        id from the same order.
        The escrow leaves only through this chain's messenger, on a message
        from the destination settler registered for the order's destination
        chain (an attested bridge message):
        - `settle(orderId, filler)`: the order was filled there before its
          deadline; the filler is repaid the whole input, once;
        - `refund(orderId)`: the deadline passed there unfilled (the
          destination settler's `expire`); the user gets the input back,
          exactly, once.
        A refund is never taken on the origin's own clock: a fill made just
        before the deadline may still be on its way, and the escrow is owed to
        its filler. Only the on-chain flavour (`open`) is implemented, not the
        gasless `openFor`.
@dev Invariants:
     - escrowed(token) == Σ input_amount of OPEN orders in `token` (this
       contract's balance of it, tokens sent here by mistake aside);
     - an order goes NONE → OPEN → SETTLED or NONE → OPEN → REFUNDED and never
       changes again: it pays out at most once, to exactly one party;
     - nothing pays out except on a message relayed by `messenger` whose
       cross-domain sender is the destination settler registered for the
       order's destination chain;
     - a refund returns exactly `input_amount` to the order's `user`.
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

# EIP-712 type string of `orderData`; its hash is the `orderDataType` open accepts.
ORDER_DATA_TYPE: public(constant(bytes32)) = keccak256(
    "OrderData(address input_token,uint256 input_amount,address output_token,uint256 output_amount,address recipient,uint256 destination_chain_id)"
)
# Order status.
STATUS_NONE: public(constant(uint8)) = 0
STATUS_OPEN: public(constant(uint8)) = 1
STATUS_SETTLED: public(constant(uint8)) = 2
STATUS_REFUNDED: public(constant(uint8)) = 3
# abi_encode(OrderData) and abi_encode(FillData) lengths (all fields static).
ORDER_DATA_SIZE: constant(uint256) = 192
ORIGIN_DATA_SIZE: constant(uint256) = 288

# This chain's messenger: the only caller of `settle` and `refund`.
messenger: public(immutable(IMessenger))


# ERC-7683
struct OnchainCrossChainOrder:
    fillDeadline: uint32
    orderDataType: bytes32
    orderData: Bytes[ORDER_DATA_SIZE]


# ERC-7683
struct Output:
    token: bytes32
    amount: uint256
    recipient: bytes32
    chainId: uint256


# ERC-7683
struct FillInstruction:
    destinationChainId: uint64
    destinationSettler: bytes32
    originData: Bytes[ORIGIN_DATA_SIZE]


# ERC-7683
struct ResolvedCrossChainOrder:
    user: address
    originChainId: uint256
    openDeadline: uint32
    fillDeadline: uint32
    orderId: bytes32
    maxSpent: DynArray[Output, 1]
    minReceived: DynArray[Output, 1]
    fillInstructions: DynArray[FillInstruction, 1]


# The testbed's `orderData`: one input here, one output there.
struct OrderData:
    input_token: address
    input_amount: uint256
    output_token: address
    output_amount: uint256
    recipient: address
    destination_chain_id: uint256


# `originData`: what the destination settler checks and pays out.
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


# An escrowed order.
struct Order:
    user: address
    input_token: address
    input_amount: uint256
    destination_chain_id: uint256
    fill_deadline: uint32
    status: uint8


# Destination settler on each chain (zero: orders to that chain are refused).
destination_settlers: public(HashMap[uint256, address])
# Next order nonce per user.
nonces: public(HashMap[address, uint256])
# Orders by id.
orders: public(HashMap[bytes32, Order])


# ERC-7683
event Open:
    orderId: indexed(bytes32)
    resolvedOrder: ResolvedCrossChainOrder


event Settled:
    orderId: indexed(bytes32)
    filler: indexed(address)
    token: address
    amount: uint256


event Refunded:
    orderId: indexed(bytes32)
    user: indexed(address)
    token: address
    amount: uint256


event DestinationSettlerSet:
    chain_id: indexed(uint256)
    settler: address


@deploy
def __init__(messenger_: address):
    """
    @notice The deployer owns the settler and registers destination settlers.
    @param messenger_ This chain's messenger.
    """
    ownable.__init__()
    assert messenger_ != empty(address), "origin: zero messenger"
    messenger = IMessenger(messenger_)


@external
def set_destination_settler(chain_id: uint256, settler: address):
    """
    @notice Register (or, with the zero address, remove) the destination
            settler of `chain_id`: orders to that chain fill there, and only
            its messages settle or refund them.
    """
    ownable._check_owner()
    assert chain_id != chain.id, "origin: own chain"
    self.destination_settlers[chain_id] = settler
    log DestinationSettlerSet(chain_id=chain_id, settler=settler)


@external
def open(order: OnchainCrossChainOrder) -> bytes32:
    """
    @notice Open an order: escrow the input, emit `Open` with the resolved
            order (ERC-7683 `IOriginSettler.open`; returns the order id, which
            the standard leaves to the event).
    @dev The caller must have approved `input_amount` of `input_token`.
    """
    resolved: ResolvedCrossChainOrder = self._resolve(order, msg.sender, self.nonces[msg.sender])
    data: OrderData = abi_decode(order.orderData, OrderData)
    order_id: bytes32 = resolved.orderId
    assert self.orders[order_id].status == STATUS_NONE, "origin: order exists"
    self.nonces[msg.sender] += 1
    self.orders[order_id] = Order(
        user=msg.sender,
        input_token=data.input_token,
        input_amount=data.input_amount,
        destination_chain_id=data.destination_chain_id,
        fill_deadline=order.fillDeadline,
        status=STATUS_OPEN,
    )
    log Open(orderId=order_id, resolvedOrder=resolved)
    token_lib._transfer_from(data.input_token, msg.sender, self, data.input_amount, "origin: transfer failed")
    return order_id


@view
@external
def resolve(order: OnchainCrossChainOrder) -> ResolvedCrossChainOrder:
    """
    @notice The order `msg.sender` would open now (ERC-7683 `resolve`).
    """
    return self._resolve(order, msg.sender, self.nonces[msg.sender])


@external
def settle(order_id: bytes32, filler: address):
    """
    @notice Repay `filler` the escrowed input of a filled order. Only a
            message relayed by the messenger from the destination settler of
            the order's destination chain (its fill proof) gets here.
    """
    source: uint256 = self._check_settler_message()
    order: Order = self.orders[order_id]
    assert order.status == STATUS_OPEN, "origin: order not open"
    assert order.destination_chain_id == source, "origin: wrong destination chain"
    assert filler != empty(address), "origin: zero filler"
    self.orders[order_id].status = STATUS_SETTLED
    log Settled(orderId=order_id, filler=filler, token=order.input_token, amount=order.input_amount)
    token_lib._transfer(order.input_token, filler, order.input_amount, "origin: transfer failed")


@external
def refund(order_id: bytes32):
    """
    @notice Return the escrowed input of an order that expired unfilled to its
            user, exactly. Only a message relayed by the messenger from the
            destination settler of the order's destination chain (its expiry
            proof) gets here.
    """
    source: uint256 = self._check_settler_message()
    order: Order = self.orders[order_id]
    assert order.status == STATUS_OPEN, "origin: order not open"
    assert order.destination_chain_id == source, "origin: wrong destination chain"
    self.orders[order_id].status = STATUS_REFUNDED
    log Refunded(orderId=order_id, user=order.user, token=order.input_token, amount=order.input_amount)
    token_lib._transfer(order.input_token, order.user, order.input_amount, "origin: transfer failed")


@internal
@view
def _check_settler_message() -> uint256:
    """
    @dev The caller is the messenger relaying a message whose sender is the
         registered destination settler of its source chain; returns that chain.
    """
    assert msg.sender == messenger.address, "origin: not the messenger"
    source: uint256 = staticcall messenger.xdomain_source_chain_id()
    settler: address = self.destination_settlers[source]
    assert settler != empty(address), "origin: unknown destination"
    assert staticcall messenger.xdomain_sender() == settler, "origin: not the destination settler"
    return source


@internal
@view
def _resolve(order: OnchainCrossChainOrder, user: address, nonce: uint256) -> ResolvedCrossChainOrder:
    """
    @dev Checks an order and resolves it: orderId = keccak256(abi_encode(FillData)).
    """
    assert order.orderDataType == ORDER_DATA_TYPE, "origin: unknown order data type"
    assert convert(order.fillDeadline, uint256) > block.timestamp, "origin: fill deadline passed"
    data: OrderData = abi_decode(order.orderData, OrderData)
    assert data.input_amount > 0, "origin: zero input"
    assert data.output_amount > 0, "origin: zero output"
    assert data.recipient != empty(address), "origin: zero recipient"
    settler: address = self.destination_settlers[data.destination_chain_id]
    assert settler != empty(address), "origin: unknown destination"
    fill: FillData = FillData(
        origin_chain_id=chain.id,
        origin_settler=self,
        user=user,
        nonce=nonce,
        fill_deadline=order.fillDeadline,
        output_token=data.output_token,
        output_amount=data.output_amount,
        recipient=data.recipient,
        destination_chain_id=data.destination_chain_id,
    )
    origin_data: Bytes[ORIGIN_DATA_SIZE] = abi_encode(fill)
    spent: DynArray[Output, 1] = [
        Output(
            token=convert(data.input_token, bytes32),
            amount=data.input_amount,
            recipient=empty(bytes32),
            chainId=chain.id,
        )
    ]
    received: DynArray[Output, 1] = [
        Output(
            token=convert(data.output_token, bytes32),
            amount=data.output_amount,
            recipient=convert(data.recipient, bytes32),
            chainId=data.destination_chain_id,
        )
    ]
    instructions: DynArray[FillInstruction, 1] = [
        FillInstruction(
            destinationChainId=convert(data.destination_chain_id, uint64),
            destinationSettler=convert(settler, bytes32),
            originData=origin_data,
        )
    ]
    return ResolvedCrossChainOrder(
        user=user,
        originChainId=chain.id,
        openDeadline=convert(block.timestamp, uint32),
        fillDeadline=order.fillDeadline,
        orderId=keccak256(origin_data),
        maxSpent=spent,
        minReceived=received,
        fillInstructions=instructions,
    )

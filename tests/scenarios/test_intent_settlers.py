"""The ERC-7683 settlers (``contracts/OriginSettler.vy``, ``contracts/DestinationSettler.vy``)
on the world's bridged layout: open / fill / settle, expire / refund, and every way to
take the escrow twice or without a fill. Messages are relayed by hand with the bridge's
attestation (the world's relayer is paused), so each test controls what arrives when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_abi import encode
from eth_utils import keccak
from testing_helpers import reverts

from chains import Chain, Contract, Receipt
from scenarios import World
from scenarios.world import PROOF_WINDOW

AMOUNT = 1_000 * 10**6
OUTPUT = 999 * 10**6
WINDOW = 300


@dataclass
class Desk:
    """The world, the settlers on B (origin) and A (destination), and the roles."""

    world: World
    origin: Contract
    destination: Contract
    token_in: Contract
    token_out: Contract
    src: Chain
    dst: Chain
    trader: str
    solver: str
    attacker: str
    deadline: int = 0

    def open(self, *, deadline: int | None = None, output: int = OUTPUT) -> Receipt:
        now = int(self.world.devnet.now)
        data = encode(
            ["address", "uint256", "address", "uint256", "address", "uint256"],
            [
                self.token_in.address,
                AMOUNT,
                self.token_out.address,
                output,
                self.trader,
                self.dst.chain_id,
            ],
        )
        self.deadline = now + WINDOW if deadline is None else deadline
        order = (self.deadline, self.origin.ORDER_DATA_TYPE(), data)
        return self.origin.open.transact(order, sender=self.trader)

    def relay(self, chain: Chain, receipt: Receipt) -> Receipt:
        """Relay the message ``receipt`` sent on ``chain``, attested, by hand."""
        deployment = self.world.bridged.deployment
        message = deployment.message_from_receipt(chain, receipt)
        return deployment.relay(message, sender=self.attacker)


def _order(receipt: Receipt) -> tuple[bytes, bytes]:
    opened = next(e for e in receipt.events if e.name == "Open")
    return bytes(opened.args["orderId"]), bytes(opened.args["resolvedOrder"][7][0][2])


def _filler(address: str) -> bytes:
    return encode(["address"], [address])


@pytest.fixture
def desk(scenario_world: World) -> Iterator[Desk]:
    """An order desk B → A with the relayer paused; the world reverts afterwards."""
    world = scenario_world
    with world.session():
        relayer = world.bridged.relayer
        relayer.pause()
        try:
            intent = world.intent
            chains = {c.name: c for c in world.devnet.chains}
            trader = world.roles.user
            token_in = intent.token("USDC", "B")
            token_in.transfer(trader, AMOUNT, sender=world.roles.fronter)
            yield Desk(
                world,
                intent.origin["B"],
                intent.destination["A"],
                token_in,
                intent.token("USDC", "A"),
                chains["B"],
                chains["A"],
                trader,
                intent.solver,
                world.roles.arbitrageur,
            )
        finally:
            relayer.resume()


def test_open_escrows_the_input_and_emits_the_resolved_order(desk: Desk) -> None:
    receipt = desk.open()
    order_id, origin_data = _order(receipt)
    assert bytes(receipt.return_value) == order_id == keccak(origin_data)
    assert desk.token_in.balanceOf(desk.trader) == 0
    assert desk.token_in.balanceOf(desk.origin.address) == AMOUNT
    resolved = next(e for e in receipt.events if e.name == "Open").args["resolvedOrder"]
    user, origin_chain, _, fill_deadline, _, spent, received, instructions = resolved
    assert (user.lower(), origin_chain) == (desk.trader.lower(), desk.src.chain_id)
    assert fill_deadline == desk.deadline
    assert spent[0][1] == AMOUNT and received[0][1] == OUTPUT
    assert received[0][3] == desk.dst.chain_id
    assert instructions[0][0] == desk.dst.chain_id
    assert desk.origin.orders(order_id)[5] == desk.origin.STATUS_OPEN()


def test_open_past_its_deadline_reverts(desk: Desk) -> None:
    with reverts("origin: fill deadline passed"):
        desk.open(deadline=int(desk.world.devnet.now) - 1)
    assert desk.token_in.balanceOf(desk.trader) == AMOUNT


def test_open_to_an_unknown_chain_reverts(desk: Desk) -> None:
    desk.dst = desk.src  # no settler of its own chain is registered
    with reverts("origin: unknown destination"):
        desk.open()


def test_fill_pays_the_recipient_and_settle_repays_the_solver_once(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    before = desk.token_out.balanceOf(desk.trader)
    fill = desk.destination.fill.transact(
        order_id, origin_data, _filler(desk.solver), sender=desk.solver
    )
    assert desk.token_out.balanceOf(desk.trader) - before == OUTPUT
    assert desk.destination.filled_by(order_id).lower() == desk.solver.lower()
    solver_before = desk.token_in.balanceOf(desk.solver)
    settle = desk.relay(desk.dst, fill)
    assert [e.name for e in settle.events if e.name == "Settled"] == ["Settled"]
    assert desk.token_in.balanceOf(desk.solver) - solver_before == AMOUNT
    assert desk.token_in.balanceOf(desk.origin.address) == 0
    # the same proof again: the messenger refuses it
    with reverts("messenger: already processed"):
        desk.relay(desk.dst, fill)
    # a second proof of the same fill: the origin pays nothing twice
    again = desk.destination.prove.transact(order_id, origin_data, sender=desk.attacker)
    with reverts("origin: order not open"):
        desk.relay(desk.dst, again)


def test_fill_twice_reverts(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    desk.destination.fill(order_id, origin_data, _filler(desk.solver), sender=desk.solver)
    with reverts("destination: already filled"):
        desk.destination.fill(order_id, origin_data, _filler(desk.attacker), sender=desk.solver)


def test_fill_after_the_deadline_reverts(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    desk.world.devnet.advance(WINDOW + 10)
    with reverts("destination: fill deadline passed"):
        desk.destination.fill(order_id, origin_data, _filler(desk.solver), sender=desk.solver)


def test_fill_with_altered_order_data_reverts(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    cheaper = origin_data[:192] + (1).to_bytes(32, "big") + origin_data[224:]
    with reverts("destination: order id mismatch"):
        desk.destination.fill(order_id, cheaper, _filler(desk.solver), sender=desk.solver)


def test_expire_and_refund_returns_the_input_exactly(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    with reverts("destination: fill deadline not passed"):
        desk.destination.expire(order_id, origin_data, sender=desk.trader)
    desk.world.devnet.advance(WINDOW + 10)
    expire = desk.destination.expire.transact(order_id, origin_data, sender=desk.trader)
    with reverts("destination: already expired"):
        desk.destination.expire(order_id, origin_data, sender=desk.trader)
    refund = desk.relay(desk.dst, expire)
    assert [e.name for e in refund.events if e.name == "Refunded"] == ["Refunded"]
    assert desk.token_in.balanceOf(desk.trader) == AMOUNT
    assert desk.token_in.balanceOf(desk.origin.address) == 0
    assert desk.origin.orders(order_id)[5] == desk.origin.STATUS_REFUNDED()


def test_expire_of_a_filled_order_reverts(desk: Desk) -> None:
    order_id, origin_data = _order(desk.open())
    desk.destination.fill(order_id, origin_data, _filler(desk.solver), sender=desk.solver)
    desk.world.devnet.advance(WINDOW + 10)
    with reverts("destination: order filled"):
        desk.destination.expire(order_id, origin_data, sender=desk.trader)


def test_settle_or_refund_called_directly_reverts(desk: Desk) -> None:
    order_id, _ = _order(desk.open())
    with reverts("origin: not the messenger"):
        desk.origin.settle(order_id, desk.attacker, sender=desk.attacker)
    with reverts("origin: not the messenger"):
        desk.origin.refund(order_id, sender=desk.trader)


def test_forged_fill_message_reverts(desk: Desk) -> None:
    """A real, attested message claiming a fill, sent by anyone but the destination
    settler: the relay reverts and the escrow stays."""
    order_id, _ = _order(desk.open())
    selector = keccak(text="settle(bytes32,address)")[:4]
    payload = selector + encode(["bytes32", "address"], [order_id, desk.attacker])
    messenger = desk.world.bridged.deployment.messenger(desk.dst)
    sent = messenger.send_message.transact(
        desk.src.chain_id,
        desk.origin.address,
        payload,
        int(desk.world.devnet.now) + PROOF_WINDOW,
        sender=desk.attacker,
    )
    with reverts("origin: not the destination settler"):
        desk.relay(desk.dst, sent)
    assert desk.token_in.balanceOf(desk.origin.address) == AMOUNT
    assert desk.origin.orders(order_id)[5] == desk.origin.STATUS_OPEN()

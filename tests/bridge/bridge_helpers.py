"""Helpers shared by the bridge tests (imported as a plain module, not fixtures)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge import BridgeDeployment, Message
from chains import Chain, Contract, Devnet, Receipt

MAX_UINT256 = 2**256 - 1
USDC = 10**6
#: Order of secp256k1, to build high-s twins of signatures.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
#: Keys that are not attesters (a forger's).
FOREIGN_KEYS = [bytes([0x42] * 32), bytes([0x43] * 32), bytes([0x44] * 32)]


@dataclass(frozen=True)
class Roles:
    """Addresses of the actors, by role (the same dev accounts on every chain)."""

    owner: str
    user: str
    recipient: str
    relayer: str
    attacker: str


@dataclass(frozen=True)
class World:
    """The bridge deployment plus what the tests use on top of it.

    Chains ``a``, ``b``, ``c``; ``usdc`` is native to ``a`` and bridgeable; ``wusdc`` maps a
    chain id to its wrapped USDC; ``fee_token`` is a 10%-fee token native to ``a``;
    ``targets`` maps a chain id to a ``message_target_mock``.
    """

    devnet: Devnet
    deployment: BridgeDeployment
    a: Chain
    b: Chain
    c: Chain
    usdc: Contract
    wusdc: dict[int, Contract]
    fee_token: Contract
    targets: dict[int, Contract]
    roles: Roles

    def messenger(self, chain: Chain) -> Contract:
        return self.deployment.messenger(chain)

    def bridge(self, chain: Chain) -> Contract:
        return self.deployment.bridge(chain)

    def deadline(self, chain: Chain, seconds: int = 3_600) -> int:
        """A deadline ``seconds`` after the chain's next block (which is no earlier than the
        clock, nor than one second after the latest block)."""
        return max(int(self.devnet.now), chain.timestamp + 1) + seconds

    def send(
        self,
        source: Chain,
        dest: Chain,
        amount: int = 7,
        *,
        sender: str | None = None,
        deadline: int | None = None,
    ) -> tuple[Message, Receipt]:
        """Send ``handle(amount)`` to the target mock on ``dest``; return the message."""
        target = self.targets[dest.chain_id]
        receipt = self.messenger(source).send_message.transact(
            dest.chain_id,
            target.address,
            target.handle.encode(amount),
            self.deadline(source) if deadline is None else deadline,
            sender=sender or self.roles.user,
        )
        return self.deployment.message_from_receipt(source, receipt), receipt

    def expire_past(self, message: Message) -> None:
        """Move the clock past ``message``'s deadline on every chain."""
        self.devnet.advance_to(max(self.devnet.now, message.deadline + 1))


def high_s_twin(signature: bytes) -> bytes:
    """The malleable twin (r, n − s, v ^ 1) of a low-s signature: same signer."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28


def bridged_supply(world: World, home: Chain, token: Contract) -> int:
    """Σ wrapped supply of ``token`` (home ``home``) on every other chain."""
    return sum(
        world.deployment.wrapped_token(home, token, chain).totalSupply()
        for chain in (world.a, world.b, world.c)
        if chain is not home
    )

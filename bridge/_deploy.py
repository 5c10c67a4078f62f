"""Deploy and wire the bridge contracts on a devnet; sign attestations in Python.

:func:`deploy_bridge` puts a ``Messenger`` and a ``TokenBridge`` on each chain, makes every
pair of chains peers and registers the attesters. :class:`BridgeDeployment` holds the
handles and the attester keys and signs relay and expiry attestations exactly as the
contracts verify them (see ``bridge/README.md`` for the formulas). :class:`Message` is the
value of one sent message, rebuilt from its ``MessageSent`` event.

The deployment keeps no state outside the chains (keys and addresses never change after
deployment), so it is not a devnet participant: devnet snapshots cover it already.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_abi import encode
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_checksum_address

from chains import Chain, Contract, Devnet, Event, Receipt, contracts_dir

__all__ = [
    "BRIDGE_CONTRACTS_DIR",
    "EXPIRY_TAG",
    "RELAY_TAG",
    "STATUS_DELIVERED",
    "STATUS_EXPIRED",
    "STATUS_NONE",
    "BridgeDeployError",
    "BridgeDeployment",
    "Message",
    "deploy_bridge",
    "derive_attester_keys",
    "get_expiry_digest",
    "get_message_id",
    "get_relay_digest",
    "sign_digest",
]

#: Folder holding the Vyper sources: ``contracts/`` at the project root in a checkout or an
#: editable install, their installed copy in a wheel install (:func:`chains.contracts_dir`).
CONTRACTS_DIR = contracts_dir()
#: Folder holding ``Messenger.vy`` and ``TokenBridge.vy``.
BRIDGE_CONTRACTS_DIR = CONTRACTS_DIR / "bridge"

#: Domain tag of the relay attestation digest (``Messenger.RELAY_TAG``).
RELAY_TAG = keccak(text="composability-testbed.Messenger.relay.v1")
#: Domain tag of the expiry attestation digest (``Messenger.EXPIRY_TAG``).
EXPIRY_TAG = keccak(text="composability-testbed.Messenger.expired.v1")

#: ``Messenger.status`` values.
STATUS_NONE = 0
STATUS_DELIVERED = 1
STATUS_EXPIRED = 2

_MAX_ATTESTERS = 32
_MAX_PAYLOAD = 1024
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class BridgeDeployError(ValueError):
    """Bad arguments to :func:`deploy_bridge` or :meth:`BridgeDeployment.add_token`."""


# ----------------------------------------------------------------------------------------
# formulas (pure)
# ----------------------------------------------------------------------------------------


def get_message_id(
    source_chain_id: int,
    dest_chain_id: int,
    nonce: int,
    sender: str,
    target: str,
    payload: bytes,
) -> bytes:
    """``keccak256(abi_encode(source, dest, nonce, sender, target, payload))``."""
    return keccak(
        encode(
            ["uint256", "uint256", "uint256", "address", "address", "bytes"],
            [source_chain_id, dest_chain_id, nonce, sender, target, bytes(payload)],
        )
    )


def get_relay_digest(source_messenger: str, message_id: bytes, deadline: int) -> bytes:
    """``keccak256(abi_encode(RELAY_TAG, source_messenger, id, deadline))``."""
    if (
        message_id.__class__ is bytes
        and len(message_id) == 32
        and deadline.__class__ is int
        and 0 <= deadline < 2**256
        and source_messenger.__class__ is str
    ):
        # the words eth_abi writes for these values (the address's own word memoised)
        words = (
            RELAY_TAG + _address_word(source_messenger) + message_id + deadline.to_bytes(32, "big")
        )
        return keccak(words)
    return keccak(
        encode(
            ["bytes32", "address", "bytes32", "uint256"],
            [RELAY_TAG, source_messenger, message_id, deadline],
        )
    )


@functools.lru_cache(maxsize=256)
def _address_word(address: str) -> bytes:
    """eth_abi's word of an address (its checks and errors), memoised: a deployment has a
    messenger per chain, and every relay digest names one."""
    return encode(["address"], [address])


def get_expiry_digest(dest_messenger: str, message_id: bytes) -> bytes:
    """``keccak256(abi_encode(EXPIRY_TAG, dest_messenger, id))``."""
    return keccak(
        encode(["bytes32", "address", "bytes32"], [EXPIRY_TAG, dest_messenger, message_id])
    )


def sign_digest(digest: bytes, private_keys: Sequence[bytes]) -> list[bytes]:
    """65-byte ``r || s || v`` signatures (v 27/28, low s) of the raw ``digest``, sorted by
    signer address ascending, as ``Messenger`` expects them."""
    signed: list[tuple[bytes, bytes]] = []
    for key in private_keys:
        pk, secp_key, signer = _signer(bytes(key))
        if digest.__class__ is bytes and len(digest) == 32:
            # what eth-keys' libsecp256k1 backend does (deterministic RFC 6979 nonce, low
            # s, ``r || s || recovery id``), with the key object kept
            sig = secp_key.sign_recoverable(digest, hasher=None)
            raw = sig[:64] + bytes([sig[64] + 27])
        else:  # eth-keys' checks and errors
            esig = pk.sign_msg_hash(digest)
            raw = esig.r.to_bytes(32, "big") + esig.s.to_bytes(32, "big") + bytes([esig.v + 27])
        signed.append((signer, raw))
    signed.sort(key=lambda pair: pair[0])
    return [raw for _, raw in signed]


@functools.lru_cache(maxsize=256)
def _signer(key: bytes) -> tuple[PrivateKey, coincurve.PrivateKey, bytes]:
    """The key objects of ``key`` (eth-keys' checks it) and its signer's address, memoised:
    deriving the public key is an elliptic-curve multiplication, and a relayer signs with
    the same few attester keys for every message."""
    pk = PrivateKey(key)
    return pk, coincurve.PrivateKey(key), pk.public_key.to_canonical_address()


def derive_attester_keys(seed: int, count: int) -> list[bytes]:
    """``count`` secp256k1 keys derived from ``seed``: keccak("...attester", seed, i)."""
    out: list[bytes] = []
    for index in range(count):
        counter = 0
        while True:
            material = keccak(
                b"composability-testbed.attester"
                + seed.to_bytes(32, "big", signed=True)
                + index.to_bytes(4, "big")
                + counter.to_bytes(4, "big")
            )
            if 0 < int.from_bytes(material, "big") < _SECP256K1_N:
                break
            counter += 1  # pragma: no cover - probability ~2**-128
        out.append(material)
    return out


# ----------------------------------------------------------------------------------------
# message value
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One cross-chain message: what the source emitted and the destination relays."""

    source_chain_id: int
    dest_chain_id: int
    nonce: int
    sender: str
    target: str
    payload: bytes
    deadline: int
    id: bytes

    @classmethod
    def from_fields(
        cls,
        source_chain_id: int,
        dest_chain_id: int,
        nonce: int,
        sender: str,
        target: str,
        payload: bytes,
        deadline: int,
    ) -> Message:
        """Build a message and compute its id."""
        sender, target = to_checksum_address(sender), to_checksum_address(target)
        payload = bytes(payload)
        return cls(
            source_chain_id,
            dest_chain_id,
            nonce,
            sender,
            target,
            payload,
            deadline,
            get_message_id(source_chain_id, dest_chain_id, nonce, sender, target, payload),
        )

    @classmethod
    def from_event(cls, source_chain_id: int, event: Event | Mapping[str, Any]) -> Message:
        """Rebuild a message from a decoded ``MessageSent`` event of ``source_chain_id``.

        Raises ``ValueError`` if the event's id does not match its fields (wrong source
        chain, or not a ``MessageSent`` event).
        """
        args: Mapping[str, Any] = event.args if isinstance(event, Event) else event
        if isinstance(event, Event) and event.name != "MessageSent":
            raise ValueError(f"not a MessageSent event: {event.name}")
        try:
            message = cls.from_fields(
                source_chain_id,
                int(args["dest_chain_id"]),
                int(args["nonce"]),
                args["sender"],
                args["target"],
                bytes(args["payload"]),
                int(args["deadline"]),
            )
            emitted = bytes(args["id"])
        except KeyError as exc:
            raise ValueError(f"MessageSent event lacks field {exc}") from exc
        if emitted != message.id:
            raise ValueError(
                f"MessageSent id 0x{emitted.hex()} does not match its fields with source chain "
                f"{source_chain_id} (computed 0x{message.id.hex()})"
            )
        return message

    def relay_args(self) -> tuple[int, int, int, str, str, bytes, int]:
        """``(source, dest, nonce, sender, target, payload, deadline)``: the leading
        arguments of ``relay_message`` and ``expire_message``."""
        return (
            self.source_chain_id,
            self.dest_chain_id,
            self.nonce,
            self.sender,
            self.target,
            self.payload,
            self.deadline,
        )

    def refund_args(self) -> tuple[int, int, str, str, bytes, int]:
        """``(dest, nonce, sender, target, payload, deadline)``: the leading arguments of
        ``refund_message``."""
        return (
            self.dest_chain_id,
            self.nonce,
            self.sender,
            self.target,
            self.payload,
            self.deadline,
        )


# ----------------------------------------------------------------------------------------
# deployment
# ----------------------------------------------------------------------------------------


@dataclass
class BridgeDeployment:
    """A Messenger and a TokenBridge per chain, wired as peers, and the attester keys.

    ``messengers`` and ``bridges`` are keyed by chain id. ``attest_relay`` and
    ``attest_expiry`` sign with the first ``threshold`` attester keys unless ``keys`` is
    given (to model a subset, or compromised or foreign signers).
    """

    devnet: Devnet
    chains: dict[int, Chain]
    messengers: dict[int, Contract]
    bridges: dict[int, Contract]
    attester_keys: tuple[bytes, ...]
    threshold: int
    owners: dict[int, str]

    @property
    def attesters(self) -> list[str]:
        """Attester addresses, in key order."""
        return [
            to_checksum_address(PrivateKey(k).public_key.to_canonical_address())
            for k in self.attester_keys
        ]

    def messenger(self, chain: Chain | int) -> Contract:
        """The messenger on ``chain`` (a Chain or a chain id)."""
        return self.messengers[chain if isinstance(chain, int) else chain.chain_id]

    def bridge(self, chain: Chain | int) -> Contract:
        """The token bridge on ``chain`` (a Chain or a chain id)."""
        return self.bridges[chain if isinstance(chain, int) else chain.chain_id]

    # -- attestations ----------------------------------------------------------------------
    def _signing_keys(self, keys_: Sequence[bytes] | None) -> Sequence[bytes]:
        return self.attester_keys[: self.threshold] if keys_ is None else keys_

    def get_relay_digest(self, message: Message) -> bytes:
        """What attesters sign to let ``message`` be relayed (or expired)."""
        source = self.messengers[message.source_chain_id].address
        return get_relay_digest(source, message.id, message.deadline)

    def get_expiry_digest(self, message: Message) -> bytes:
        """What attesters sign to let ``message`` be refunded on its source."""
        dest = self.messengers[message.dest_chain_id].address
        return get_expiry_digest(dest, message.id)

    def attest_relay(self, message: Message, keys: Sequence[bytes] | None = None) -> list[bytes]:
        """Signatures (sorted by signer) over the relay digest of ``message``."""
        return sign_digest(self.get_relay_digest(message), self._signing_keys(keys))

    def attest_expiry(self, message: Message, keys: Sequence[bytes] | None = None) -> list[bytes]:
        """Signatures (sorted by signer) over the expiry digest of ``message``; attesters
        give these only after seeing ``MessageExpired`` on the destination."""
        return sign_digest(self.get_expiry_digest(message), self._signing_keys(keys))

    # -- message actions (a thin layer over the contracts) ---------------------------------
    def fetch_sent(self, chain: Chain | int, *, from_block: int = 0) -> list[Message]:
        """Every message the messenger on ``chain`` emitted in sealed blocks, in order."""
        messenger = self.messenger(chain)
        source = messenger.chain.chain_id
        return [
            Message.from_event(source, event)
            for event in messenger.get_events("MessageSent", from_block=from_block)
        ]

    def message_from_receipt(self, chain: Chain | int, receipt: Receipt) -> Message:
        """The single message a transaction on ``chain`` sent, from its ``MessageSent``."""
        messenger = self.messenger(chain)
        events = [
            e for e in receipt.events if e.name == "MessageSent" and e.address == messenger.address
        ]
        if len(events) != 1:
            raise ValueError(f"expected one MessageSent in the receipt, found {len(events)}")
        return Message.from_event(messenger.chain.chain_id, events[0])

    def relay(
        self,
        message: Message,
        *,
        signatures: Sequence[bytes] | None = None,
        sender: str | None = None,
    ) -> Receipt:
        """Send ``relay_message`` on the destination (attested by the default signers)."""
        sigs = self.attest_relay(message) if signatures is None else list(signatures)
        messenger = self.messengers[message.dest_chain_id]
        return messenger.relay_message.transact(*message.relay_args(), sigs, sender=sender)

    def expire(
        self,
        message: Message,
        *,
        signatures: Sequence[bytes] | None = None,
        sender: str | None = None,
    ) -> Receipt:
        """Send ``expire_message`` on the destination (needs the relay attestation)."""
        sigs = self.attest_relay(message) if signatures is None else list(signatures)
        messenger = self.messengers[message.dest_chain_id]
        return messenger.expire_message.transact(*message.relay_args(), sigs, sender=sender)

    def refund(
        self,
        message: Message,
        *,
        signatures: Sequence[bytes] | None = None,
        sender: str | None = None,
    ) -> Receipt:
        """Send ``refund_message`` on the source (attested expiry by the default signers)."""
        sigs = self.attest_expiry(message) if signatures is None else list(signatures)
        messenger = self.messengers[message.source_chain_id]
        return messenger.refund_message.transact(*message.refund_args(), sigs, sender=sender)

    # -- tokens ----------------------------------------------------------------------------
    def add_token(self, home_chain: Chain | int, token: Contract | str) -> dict[int, Contract]:
        """Make ``token`` (native to ``home_chain``) bridgeable to every other chain.

        Registers it as a home token on the home bridge and deploys, on each other chain,
        a wrapped ``Token.vy`` ("Bridged <name>", symbol "w<SYMBOL>" cut to 5 characters,
        same decimals) whose only minter is that chain's bridge (the deployer gives up
        ownership, and with it its own minter role). Returns the wrapped tokens by chain id.
        """
        home_id = home_chain if isinstance(home_chain, int) else home_chain.chain_id
        if home_id not in self.chains:
            raise BridgeDeployError(f"chain {home_id} is not part of this bridge deployment")
        home = self.chains[home_id]
        address = token.address if isinstance(token, Contract) else to_checksum_address(token)
        if not home.get_code(address):
            raise BridgeDeployError(f"no contract at {address} on chain {home.name}")
        if self.bridges[home_id].is_home_token(address):
            raise BridgeDeployError(f"token {address} of chain {home.name} was already added")
        handle = home.at(address, CONTRACTS_DIR / "Token.vy")
        fns = handle.functions  # `name` is also the handle's own label attribute
        name, symbol, decimals = fns["name"](), fns["symbol"](), fns["decimals"]()
        self.bridges[home_id].register_home_token(address, sender=self.owners[home_id])
        wrapped: dict[int, Contract] = {}
        for chain_id, chain in self.chains.items():
            if chain_id == home_id:
                continue
            owner = self.owners[chain_id]
            copy = chain.deploy(
                CONTRACTS_DIR / "Token.vy",
                f"Bridged {name}"[:25],
                f"w{symbol}"[:5],
                decimals,
                sender=owner,
            )
            bridge = self.bridges[chain_id]
            copy.set_minter(bridge.address, True, sender=owner)
            copy.renounce_ownership(sender=owner)
            bridge.register_wrapped(home_id, address, copy.address, sender=owner)
            wrapped[chain_id] = copy
        return wrapped

    def wrapped_token(
        self, home_chain: Chain | int, token: Contract | str, chain: Chain | int
    ) -> Contract:
        """The wrapped form on ``chain`` of ``token`` from ``home_chain`` (read on chain)."""
        home_id = home_chain if isinstance(home_chain, int) else home_chain.chain_id
        address = token.address if isinstance(token, Contract) else to_checksum_address(token)
        bridge = self.bridge(chain)
        wrapped = bridge.wrapped_of(home_id, address)
        if int(wrapped, 16) == 0:
            raise KeyError(
                f"no wrapped form of {address} (home chain {home_id}) on chain {bridge.chain.name}"
            )
        return bridge.chain.at(wrapped, CONTRACTS_DIR / "Token.vy")


def deploy_bridge(
    devnet: Devnet,
    *,
    attester_keys: Sequence[bytes] | None = None,
    threshold: int = 2,
    n_attesters: int = 3,
    chains: Sequence[Chain] | None = None,
    deployer: str | None = None,
) -> BridgeDeployment:
    """Deploy a Messenger and a TokenBridge on each chain and wire them together.

    Every pair of chains becomes peers (both contracts); every messenger registers the
    same attesters with ``threshold``. Without ``attester_keys``, ``n_attesters`` keys are
    derived from the devnet seed (:func:`derive_attester_keys`), so the same seed gives the
    same attesters. ``deployer`` (default: each chain's first dev account) owns everything.
    """
    selected = list(devnet.chains if chains is None else chains)
    if len(selected) < 2:
        raise BridgeDeployError(f"a bridge needs at least 2 chains, got {len(selected)}")
    for chain in selected:
        if all(chain is not c for c in devnet.chains):
            raise BridgeDeployError(f"chain {chain.name} is not part of the devnet")
    if len({c.chain_id for c in selected}) != len(selected):
        raise BridgeDeployError("the same chain was given twice")
    if attester_keys is None:
        if not isinstance(n_attesters, int) or not 1 <= n_attesters <= _MAX_ATTESTERS:
            raise BridgeDeployError(
                f"n_attesters must be between 1 and {_MAX_ATTESTERS}, got {n_attesters!r}"
            )
        key_list = derive_attester_keys(devnet.seed, n_attesters)
    else:
        key_list = [bytes(k) for k in attester_keys]
        if not 1 <= len(key_list) <= _MAX_ATTESTERS:
            raise BridgeDeployError(
                f"give between 1 and {_MAX_ATTESTERS} attester keys, got {len(key_list)}"
            )
        for key in key_list:
            if len(key) != 32 or not 0 < int.from_bytes(key, "big") < _SECP256K1_N:
                raise BridgeDeployError("attester keys must be valid 32-byte secp256k1 keys")
        if len(set(key_list)) != len(key_list):
            raise BridgeDeployError("attester keys must be distinct")
    if not isinstance(threshold, int) or not 1 <= threshold <= len(key_list):
        raise BridgeDeployError(
            f"threshold must be between 1 and the number of attesters ({len(key_list)}), "
            f"got {threshold!r}"
        )
    attesters = [
        to_checksum_address(PrivateKey(k).public_key.to_canonical_address()) for k in key_list
    ]

    messengers: dict[int, Contract] = {}
    bridges: dict[int, Contract] = {}
    owners: dict[int, str] = {}
    for chain in selected:
        owner = to_checksum_address(deployer) if deployer is not None else chain.default_sender
        owners[chain.chain_id] = owner
        messenger = chain.deploy(BRIDGE_CONTRACTS_DIR / "Messenger.vy", sender=owner)
        messenger.set_attesters(attesters, threshold, sender=owner)
        messengers[chain.chain_id] = messenger
        bridges[chain.chain_id] = chain.deploy(
            BRIDGE_CONTRACTS_DIR / "TokenBridge.vy", messenger.address, sender=owner
        )
    for chain in selected:
        here = chain.chain_id
        for other in selected:
            if other.chain_id == here:
                continue
            messengers[here].set_peer(
                other.chain_id, messengers[other.chain_id].address, sender=owners[here]
            )
            bridges[here].set_peer(
                other.chain_id, bridges[other.chain_id].address, sender=owners[here]
            )
    return BridgeDeployment(
        devnet=devnet,
        chains={c.chain_id: c for c in selected},
        messengers=messengers,
        bridges=bridges,
        attester_keys=tuple(key_list),
        threshold=threshold,
        owners=owners,
    )

"""deploy_bridge, BridgeDeployment and Message: wiring, keys, validation, signatures."""

from __future__ import annotations

import dataclasses

import pytest
from bridge_helpers import SECP256K1_N, World
from eth_keys import keys

from bridge import (
    BridgeDeployError,
    Message,
    deploy_bridge,
    derive_attester_keys,
    get_relay_digest,
    sign_digest,
)
from chains import Devnet


def test_every_pair_is_wired(world: World) -> None:
    chains = (world.a, world.b, world.c)
    for here in chains:
        messenger, bridge = world.messenger(here), world.bridge(here)
        assert bridge.messenger() == messenger.address
        assert messenger.threshold() == 2
        assert messenger.attesters() == world.deployment.attesters
        assert messenger.owner() == world.roles.owner
        for other in chains:
            expected_m = world.messenger(other).address if other is not here else "0x" + "00" * 20
            expected_b = world.bridge(other).address if other is not here else "0x" + "00" * 20
            assert messenger.peers(other.chain_id).lower() == expected_m.lower()
            assert bridge.peers(other.chain_id).lower() == expected_b.lower()


def test_attester_keys_derive_from_the_seed() -> None:
    assert derive_attester_keys(4, 3) == derive_attester_keys(4, 3)
    assert derive_attester_keys(4, 3) != derive_attester_keys(5, 3)
    assert derive_attester_keys(4, 5)[:3] == derive_attester_keys(4, 3)
    assert len(set(derive_attester_keys(4, 32))) == 32


def test_deployment_uses_the_seeded_keys(world: World) -> None:
    assert list(world.deployment.attester_keys) == derive_attester_keys(4, 3)


def test_add_token_makes_bridge_only_minter(world: World) -> None:
    for chain in (world.b, world.c):
        wrapped = world.wusdc[chain.chain_id]
        fns = wrapped.functions
        assert fns["name"]() == "Bridged USD Coin"
        assert fns["symbol"]() == "wUSDC"
        assert fns["decimals"]() == 6
        assert wrapped.owner() == "0x" + "00" * 20
        assert wrapped.is_minter(world.bridge(chain).address)
        assert not wrapped.is_minter(world.roles.owner)
        assert world.deployment.wrapped_token(world.a, world.usdc, chain).address == wrapped.address
    with pytest.raises(KeyError, match="no wrapped form"):
        world.deployment.wrapped_token(world.a, world.fee_token, world.b)


def test_add_token_twice_is_an_error(world: World) -> None:
    with pytest.raises(BridgeDeployError, match="already added"):
        world.deployment.add_token(world.a, world.usdc)
    with pytest.raises(BridgeDeployError, match="no contract"):
        world.deployment.add_token(world.a, world.roles.user)
    with pytest.raises(BridgeDeployError, match="not part of this bridge"):
        world.deployment.add_token(999, world.usdc)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0}, "threshold must be between 1 and the number of attesters"),
        ({"threshold": 4}, "threshold must be between 1 and the number of attesters"),
        ({"n_attesters": 0}, "n_attesters must be between 1 and 32"),
        ({"n_attesters": 33}, "n_attesters must be between 1 and 32"),
        ({"attester_keys": []}, "give between 1 and 32 attester keys"),
        ({"attester_keys": [b"\x01" * 31]}, "valid 32-byte secp256k1 keys"),
        ({"attester_keys": [b"\x00" * 32]}, "valid 32-byte secp256k1 keys"),
        ({"attester_keys": [b"\x01" * 32, b"\x01" * 32], "threshold": 1}, "distinct"),
    ],
)
def test_deploy_bridge_validates(kwargs: dict[str, object], match: str) -> None:
    devnet = Devnet(n_chains=2, seed=1)
    with pytest.raises(BridgeDeployError, match=match):
        deploy_bridge(devnet, **kwargs)  # type: ignore[arg-type]


def test_deploy_bridge_needs_two_chains_of_the_devnet() -> None:
    devnet, other = Devnet(n_chains=2, seed=1), Devnet(n_chains=2, seed=1)
    with pytest.raises(BridgeDeployError, match="at least 2 chains"):
        deploy_bridge(devnet, chains=devnet.chains[:1])
    with pytest.raises(BridgeDeployError, match="not part of the devnet"):
        deploy_bridge(devnet, chains=[devnet.chains[0], other.chains[1]])
    with pytest.raises(BridgeDeployError, match="given twice"):
        deploy_bridge(devnet, chains=[devnet.chains[0], devnet.chains[0]])


def test_sign_digest_is_low_s_sorted_and_recoverable() -> None:
    digest = get_relay_digest("0x" + "ab" * 20, b"\x07" * 32, 123)
    keys_ = derive_attester_keys(9, 5)
    sigs = sign_digest(digest, keys_)
    signers = []
    for sig in sigs:
        assert len(sig) == 65
        assert sig[64] in (27, 28)
        assert int.from_bytes(sig[32:64], "big") <= SECP256K1_N // 2
        vrs = (sig[64] - 27, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"))
        recovered = keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest)
        signers.append(recovered.to_canonical_address())
    assert signers == sorted(signers)
    assert set(signers) == {keys.PrivateKey(k).public_key.to_canonical_address() for k in keys_}


def test_message_from_event_checks_the_id(world: World) -> None:
    message, receipt = world.send(world.a, world.b)
    (event,) = [e for e in receipt.events if e.name == "MessageSent"]
    assert Message.from_event(world.a.chain_id, event) == message
    assert Message.from_event(world.a.chain_id, event.args) == message
    with pytest.raises(ValueError, match="does not match its fields"):
        Message.from_event(world.c.chain_id, event)
    with pytest.raises(ValueError, match="lacks field"):
        Message.from_event(world.a.chain_id, {k: v for k, v in event.args.items() if k != "nonce"})
    (other,) = [e for e in world.deployment.relay(message).events if e.name == "MessageDelivered"]
    with pytest.raises(ValueError, match="not a MessageSent event"):
        Message.from_event(world.a.chain_id, other)
    assert world.deployment.fetch_sent(world.a)[-1] == message
    assert dataclasses.replace(message).id == message.id

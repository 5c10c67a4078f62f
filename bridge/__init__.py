"""bridge: cross-chain messenger and token-bridge contracts, their deployment and attestation.

>>> from chains import Devnet
>>> from bridge import deploy_bridge
>>> devnet = Devnet(n_chains=2, seed=7)
>>> deployment = deploy_bridge(devnet)
>>> sorted(deployment.messengers) == [31337, 31338]
True
"""

from __future__ import annotations

from bridge._deploy import (
    BRIDGE_CONTRACTS_DIR,
    EXPIRY_TAG,
    RELAY_TAG,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_NONE,
    BridgeDeployError,
    BridgeDeployment,
    Message,
    deploy_bridge,
    derive_attester_keys,
    get_expiry_digest,
    get_message_id,
    get_relay_digest,
    sign_digest,
)

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

"""The venues the runners trade on and the roles that act: plain values over contracts.

A venue is one protocol on one chain with the tokens it uses; the one-chain layout builds
them from the suite on A (``from_suite``), the bridged layout from its own deployments.
"""

from __future__ import annotations

from dataclasses import dataclass

from chains import Chain, Contract
from scenarios.world._suite import Suite

__all__ = ["AmmVenue", "CdpVenue", "LendingVenue", "Roles"]


@dataclass(frozen=True)
class Roles:
    """Addresses of the actors, by role."""

    deployer: str
    user: str
    fronter: str
    arbitrageur: str
    flow: str


@dataclass(frozen=True)
class AmmVenue:
    """The AMM side: router and pools on one chain, with the tokens they trade."""

    chain: Chain
    router: Contract
    usdc: Contract
    weth: Contract
    dai: Contract
    weth_usdc: Contract
    dai_usdc: Contract

    @classmethod
    def from_suite(cls, s: Suite) -> AmmVenue:
        """The one-chain layout's AMM: the suite's router and pools."""
        return cls(s.chain, s.router, s.usdc, s.weth, s.dai, s.weth_usdc, s.dai_usdc)


@dataclass(frozen=True)
class LendingVenue:
    """The lending market and its oracle (collateral ``weth``, loans in ``usdc``)."""

    chain: Chain
    market: Contract
    oracle: Contract
    usdc: Contract
    weth: Contract

    @classmethod
    def from_suite(cls, s: Suite) -> LendingVenue:
        """The one-chain layout's lending market and oracle."""
        return cls(s.chain, s.market, s.oracle, s.usdc, s.weth)


@dataclass(frozen=True)
class CdpVenue:
    """The CDP vault and its oracle (collateral ``weth``, debt in ``dai``)."""

    chain: Chain
    vault: Contract
    oracle: Contract
    weth: Contract
    dai: Contract

    @classmethod
    def from_suite(cls, s: Suite) -> CdpVenue:
        """The one-chain layout's CDP vault and oracle."""
        return cls(s.chain, s.vault, s.oracle, s.weth, s.dai)

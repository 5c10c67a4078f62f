"""The venues the runners trade on and the roles that act: plain values over contracts.

A venue is one protocol on one chain with the tokens it uses; the one-chain layout builds
them from the suite on A (``from_suite``), the bridged layout from its own deployments.
"""

from __future__ import annotations

from dataclasses import dataclass

from chains import Chain, Contract
from scenarios.world._suite import Suite

__all__ = ["AmmVenue", "CdpVenue", "LendingVenue", "Roles", "fetch_token0"]

#: ``token0`` of each pool seen, by the pool's deployed code: ``token0`` is an immutable,
#: and Vyper appends immutables to the runtime code, so the same code has the same token0.
_TOKEN0: dict[bytes, str] = {}
_TOKEN0_CAP = 1024


def fetch_token0(pool: Contract) -> str:
    """``pool.token0()`` of a :file:`contracts/ConstantProductPool.vy`, read once per
    deployed code: a code read (no EVM run) finds an answer already read, exactly, whatever
    was deployed or reverted since."""
    code = pool.chain.get_code(pool.address)
    token0 = _TOKEN0.get(code)
    if token0 is None:
        if len(_TOKEN0) >= _TOKEN0_CAP:
            _TOKEN0.clear()
        token0 = _TOKEN0[code] = pool.token0()
    return token0


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

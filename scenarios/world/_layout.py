"""The bridged layout: the bridge, wrapped tokens and the venues on chains B (and C).

:func:`build_layout` runs once inside :meth:`World.build`, after the one-chain suite on A:

- ``deploy_bridge`` (a Messenger and a TokenBridge per chain, 2-of-3 attesters from the
  devnet seed) and one :class:`bridge.Relayer` (in-memory SQLite store), attached to the
  devnet so every World snapshot and revert covers its store and schedule, and started;
- token topology — USDC and WETH are at home on A (the AMM chain), with wrapped copies
  ``wUSDC``/``wWETH`` on every other chain; in the 3-chain layout DAI is at home on C (the
  vault on C is its only minter) with a wrapped ``wDAI`` on A, traded in a wDAI/USDC pool
  there. A wrapped token only goes back towards its home, so collateral leaving B for C
  travels B → A → C;
- B: an oracle and a lending market on wUSDC (loans) and wWETH (collateral), with the
  suite's terms (:func:`~scenarios.world._suite.market_args`);
- C (3 chains): DAI, an oracle and a CDP vault on wWETH
  (:func:`~scenarios.world._suite.vault_args`); in the 2-chain layout the CDP is the
  suite's own vault on A (native WETH and DAI);
- seeding goes through the bridge and the relayer like any transfer: the deployer bridges
  the market's USDC supply to B and supplies it; the fronter bridges its B inventory; in
  the 3-chain layout the deployer bridges WETH to C, draws the seed DAI from C's vault (so
  every DAI is backed by vault debt, as on A) and bridges it to A for the wDAI/USDC pool.

Every role approves every venue and bridge it uses, once, here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge import BridgeDeployment, MessageEvent, MessageStore, Relayer, deploy_bridge
from chains import Chain, Contract, Devnet
from scenarios.world._suite import CONTRACTS_DIR, Suite, _units, market_args, vault_args
from scenarios.world._venues import AmmVenue, CdpVenue, LendingVenue, Roles

__all__ = ["FRONTER_INVENTORY", "BridgedLayout", "build_layout"]

logger = logging.getLogger(__name__)

_MAX_UINT256 = 2**256 - 1
#: Wrapped USDC the fronter holds on B (whole tokens): its inventory for fronting.
FRONTER_INVENTORY = 10_000_000
#: Deadline of the build's seeding transfers (seconds after sending).
_SEED_DEADLINE = 3_600


@dataclass
class BridgedLayout:
    """Handles of the bridged layout (see the module docstring).

    ``chain_of`` names the chain of each venue: ``amm`` (A), ``lending`` (B), ``cdp`` (C in
    the 3-chain layout, A in the 2-chain one). ``usdc``/``weth``/``dai`` map a chain name to
    that chain's form of the token (home or wrapped), where it exists.
    """

    deployment: BridgeDeployment
    relayer: Relayer
    amm: AmmVenue
    lending: LendingVenue
    cdp: CdpVenue
    usdc: dict[str, Contract]
    weth: dict[str, Contract]
    dai: dict[str, Contract]
    #: The general layout's venues by (kind, chain, instance); empty in the standard ones.
    venues: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    listener: Callable[[MessageEvent], None] | None = field(default=None, repr=False)

    @property
    def chains(self) -> list[Chain]:
        return list(self.deployment.chains.values())

    def bridge(self, chain: Chain) -> Contract:
        return self.deployment.bridge(chain)

    def dispatch(self, event: MessageEvent) -> None:
        """The relayer's lifecycle events go to the run in progress, if any."""
        if self.listener is not None:
            self.listener(event)


def build_layout(devnet: Devnet, suite: Suite, roles: Roles) -> BridgedLayout:
    """Deploy and seed the bridged layout on ``devnet`` (2 or 3 chains), next to the one-chain
    ``suite`` on A (see the module docstring)."""
    n_chains = len(devnet.chains)
    cfg = suite.config
    a, b = devnet.chains[0], devnet.chains[1]
    c = devnet.chains[2] if n_chains == 3 else None
    deployer = roles.deployer
    deployment = deploy_bridge(devnet, deployer=deployer)
    wusdc = deployment.add_token(a, suite.usdc)
    wweth = deployment.add_token(a, suite.weth)
    relayer = Relayer(devnet, deployment, store=MessageStore(":memory:"), latency="same-block")
    devnet.attach(relayer)
    relayer.start()

    usdc = {a.name: suite.usdc, **{ch.name: wusdc[ch.chain_id] for ch in devnet.chains[1:]}}
    weth = {a.name: suite.weth, **{ch.name: wweth[ch.chain_id] for ch in devnet.chains[1:]}}

    def deploy(chain: Chain, name: str, *args: object) -> Contract:
        return chain.deploy(CONTRACTS_DIR / f"{name}.vy", *args, sender=deployer)

    # B: oracle and lending market on the wrapped tokens
    oracle_b = deploy(b, "Oracle", 0)
    market_b = deploy(
        b,
        "LendingMarket",
        *market_args(cfg, usdc[b.name].address, weth[b.name].address, oracle_b.address),
    )
    oracle_b.set_price(usdc[b.name].address, _wad(cfg.usdc_price), sender=deployer)
    oracle_b.set_price(weth[b.name].address, _wad(cfg.weth_price), sender=deployer)
    lending = LendingVenue(b, market_b, oracle_b, usdc[b.name], weth[b.name])

    bridge_a = deployment.bridge(a)
    for token in (suite.usdc, suite.weth):
        for owner in (deployer, roles.user, roles.fronter):
            token.approve(bridge_a.address, _MAX_UINT256, sender=owner)

    def send(chain: Chain, token: Contract, amount: int, dest: Chain, owner: str) -> None:
        deployment.bridge(chain).bridge_out(
            token.address,
            amount,
            dest.chain_id,
            owner,
            int(devnet.now) + _SEED_DEADLINE,
            sender=owner,
        )

    def deliver() -> None:
        """Let the relayer (same-block latency at build time) deliver everything sent."""
        devnet.advance(1.0)
        if not relayer.is_quiescent:  # pragma: no cover - a broken bridge, not a user error
            raise RuntimeError("bridged layout: the relayer left build transfers undelivered")

    supply = _units(cfg.market_supply, 6)
    suite.usdc.mint(deployer, supply, sender=deployer)
    send(a, suite.usdc, supply, b, deployer)
    send(a, suite.usdc, FRONTER_INVENTORY * 10**6, b, roles.fronter)

    if c is not None:
        oracle_c = deploy(c, "Oracle", 0)
        dai_c = deploy(c, "Token", "Dai Stablecoin", "DAI", 18)
        vault_c = deploy(
            c, "CdpVault", *vault_args(cfg, weth[c.name].address, dai_c.address, oracle_c.address)
        )
        dai_c.set_minter(vault_c.address, True, sender=deployer)
        dai_c.renounce_ownership(sender=deployer)
        oracle_c.set_price(weth[c.name].address, _wad(cfg.weth_price), sender=deployer)
        oracle_c.set_price(dai_c.address, _wad(cfg.dai_price), sender=deployer)
        wdai = deployment.add_token(c, dai_c)
        dai = {c.name: dai_c, **{ch.name: wdai[ch.chain_id] for ch in (a, b)}}
        seed_dai = _units(cfg.dai_usdc_liquidity, 18)
        seed_weth = _units(
            Decimal(str(cfg.dai_usdc_liquidity))
            * Decimal(str(cfg.seed_collateral_ratio))
            / Decimal(str(cfg.weth_price)),
            18,
            round_up=True,
        )
        suite.weth.mint(deployer, seed_weth, sender=deployer)
        send(a, suite.weth, seed_weth, c, deployer)
        deliver()
        weth[c.name].approve(vault_c.address, _MAX_UINT256, sender=deployer)
        vault_c.lock(seed_weth, deployer, sender=deployer)
        vault_c.draw(seed_dai, deployer, sender=deployer)
        dai_c.approve(deployment.bridge(c).address, _MAX_UINT256, sender=deployer)
        send(c, dai_c, seed_dai, a, deployer)
        deliver()
        seed_usdc = _units(cfg.dai_usdc_liquidity, 6)
        suite.usdc.mint(deployer, seed_usdc, sender=deployer)
        dai[a.name].approve(suite.router.address, _MAX_UINT256, sender=deployer)
        suite.router.add_liquidity(
            dai[a.name].address,
            suite.usdc.address,
            seed_dai,
            seed_usdc,
            0,
            0,
            deployer,
            _MAX_UINT256,
            sender=deployer,
        )
        pool_source = CONTRACTS_DIR / "ConstantProductPool.vy"
        wdai_usdc = a.at(
            suite.factory.get_pool(dai[a.name].address, suite.usdc.address), pool_source
        )
        amm = AmmVenue(
            a, suite.router, suite.usdc, suite.weth, dai[a.name], suite.weth_usdc, wdai_usdc
        )
        cdp = CdpVenue(c, vault_c, oracle_c, weth[c.name], dai_c)
    else:
        deliver()
        dai = {a.name: suite.dai}
        amm = AmmVenue.from_suite(suite)
        cdp = CdpVenue.from_suite(suite)

    # B: the deployer supplies the market; approvals of the user and the fronter
    usdc[b.name].approve(market_b.address, _MAX_UINT256, sender=deployer)
    market_b.supply(supply, deployer, sender=deployer)
    for owner in (roles.user, roles.fronter):
        usdc[b.name].approve(market_b.address, _MAX_UINT256, sender=owner)
        weth[b.name].approve(market_b.address, _MAX_UINT256, sender=owner)
        weth[b.name].approve(deployment.bridge(b).address, _MAX_UINT256, sender=owner)
        usdc[b.name].approve(deployment.bridge(b).address, _MAX_UINT256, sender=owner)
        amm.dai.approve(suite.router.address, _MAX_UINT256, sender=owner)
        cdp.weth.approve(cdp.vault.address, _MAX_UINT256, sender=owner)
        cdp.dai.approve(deployment.bridge(cdp.chain).address, _MAX_UINT256, sender=owner)
        cdp.dai.approve(cdp.vault.address, _MAX_UINT256, sender=owner)
    layout = BridgedLayout(
        deployment=deployment,
        relayer=relayer,
        amm=amm,
        lending=lending,
        cdp=cdp,
        usdc=usdc,
        weth=weth,
        dai=dai,
    )
    relayer.on_event(layout.dispatch)
    logger.info(
        "bridged layout: %d chains, market on %s, vault on %s",
        n_chains,
        b.name,
        cdp.chain.name,
    )
    return layout


def _wad(value: float) -> int:
    return _units(value, 18)

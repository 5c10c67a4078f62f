"""The general layout: venues on any of up to five chains, as a :class:`Hosting` asks.

:func:`build_general_layout` runs inside :meth:`World.build` after the one-chain suite on A,
for every hosting the standard layouts (``scenarios/world/_layout.py``) do not cover. It
follows the standard layout's rules:

- the bridge (a Messenger and a TokenBridge per chain, 2-of-3 attesters from the devnet seed)
  and one relayer, attached to the devnet and started;
- token topology — USDC and WETH at home on A (the suite's), wrapped copies on every other
  chain; DAI at home on the chain of the CDP vault (the suite's DAI when that is A, else a
  DAI token whose only minter is the vault there), wrapped everywhere else;
- venues: an AMM on A (first instance) is the suite's router and WETH/USDC pool, with the
  suite's DAI/USDC pool when DAI is at home on A, else a wDAI/USDC pool; every other AMM
  instance is its own blueprint, factory and router with a WETH/USDC pool (the suite's depth
  at the suite's price) and a DAI/USDC pool (the suite's depth, at par); a lending market on A
  is the suite's, elsewhere an oracle and a market on the chain's tokens supplied with the
  suite's supply; a CDP vault on A is the suite's, elsewhere an oracle and a vault minting
  the chain's DAI;
- every token that leaves A (or DAI's home) travels through the bridge and the relayer, as a
  user's would: pool and market liquidity, the seed DAI (drawn from a deployer CDP on the DAI
  home, so every DAI is backed by vault debt), the fronter's USDC inventory on every chain
  (and its WETH inventory when the hosting asks for it), the market actors' inventory on
  every chain with an AMM;
- every role approves every venue and bridge it uses on every chain, once.

Also the extra AMMs on A for the one-chain form (:func:`deploy_amm`, used by ``World``).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from bridge import MessageStore, Relayer, deploy_bridge
from chains import Chain, Contract, Devnet
from scenarios.model import ScenarioConfigError
from scenarios.world._hosting import Hosting
from scenarios.world._layout import FRONTER_INVENTORY, BridgedLayout
from scenarios.world._suite import (
    CONTRACTS_DIR,
    Suite,
    SuiteConfig,
    _units,
    build_blueprint_initcode,
    market_args,
    vault_args,
)
from scenarios.world._venues import AmmVenue, CdpVenue, LendingVenue, Roles

__all__ = ["ACTOR_REMOTE_USDC", "ACTOR_REMOTE_WETH", "build_general_layout", "deploy_amm"]

logger = logging.getLogger(__name__)

_MAX_UINT256 = 2**256 - 1
_SEED_DEADLINE = 3_600
#: Inventory the market actors (arbitrageur, flow) hold on every other chain with an AMM,
#: and the fronter's WETH inventory on every other chain (whole tokens).
ACTOR_REMOTE_USDC = 5_000_000
ACTOR_REMOTE_WETH = 2_500
FRONTER_REMOTE_WETH = 2_500


def deploy_amm(
    chain: Chain,
    cfg: SuiteConfig,
    deployer: str,
    usdc: Contract,
    weth: Contract,
    dai: Contract,
) -> AmmVenue:
    """A blueprint, factory and router on ``chain`` with WETH/USDC and DAI/USDC pools seeded
    from the deployer's balances (the suite's depths and prices)."""

    def deploy(name: str, *args: object) -> Contract:
        return chain.deploy(CONTRACTS_DIR / f"{name}.vy", *args, sender=deployer)

    pool_source = CONTRACTS_DIR / "ConstantProductPool.vy"
    blueprint = chain.deploy_bytecode(
        build_blueprint_initcode(chain.compile(pool_source).bytecode),
        [],
        name="ConstantProductPoolBlueprint",
        sender=deployer,
    )
    factory = deploy("PoolFactory", blueprint.address)
    router = deploy("Router", factory.address)
    for token in (usdc, weth, dai):
        token.approve(router.address, _MAX_UINT256, sender=deployer)
    pool_weth, pool_usdc = _weth_pool_seed(cfg)
    router.add_liquidity(
        weth.address,
        usdc.address,
        pool_weth,
        pool_usdc,
        0,
        0,
        deployer,
        _MAX_UINT256,
        sender=deployer,
    )
    seed_dai, seed_usdc = _dai_pool_seed(cfg)
    router.add_liquidity(
        dai.address,
        usdc.address,
        seed_dai,
        seed_usdc,
        0,
        0,
        deployer,
        _MAX_UINT256,
        sender=deployer,
    )
    weth_usdc = chain.at(factory.get_pool(weth.address, usdc.address), pool_source)
    dai_usdc = chain.at(factory.get_pool(dai.address, usdc.address), pool_source)
    return AmmVenue(chain, router, usdc, weth, dai, weth_usdc, dai_usdc)


def _weth_pool_seed(cfg: SuiteConfig) -> tuple[int, int]:
    weth = _units(cfg.weth_usdc_liquidity, 18)
    usdc = _units(Decimal(str(cfg.weth_usdc_liquidity)) * Decimal(str(cfg.weth_price)), 6)
    return weth, usdc


def _dai_pool_seed(cfg: SuiteConfig) -> tuple[int, int]:
    return _units(cfg.dai_usdc_liquidity, 18), _units(cfg.dai_usdc_liquidity, 6)


def _seed_weth_for(cfg: SuiteConfig, dai_units: Decimal) -> int:
    """Collateral that backs ``dai_units`` DAI at the seed collateral ratio (rounded up)."""
    return _units(
        dai_units * Decimal(str(cfg.seed_collateral_ratio)) / Decimal(str(cfg.weth_price)),
        18,
        round_up=True,
    )


def build_general_layout(
    devnet: Devnet, suite: Suite, roles: Roles, hosting: Hosting
) -> BridgedLayout:
    """Deploy and seed ``hosting``'s venues on ``devnet`` (see the module docstring)."""
    if len(devnet.chains) != hosting.chains:
        raise ScenarioConfigError(
            f"hosting for {hosting.chains} chains on a devnet of {len(devnet.chains)}"
        )
    cfg = suite.config
    chains = {c.name: c for c in devnet.chains}
    a = devnet.chains[0]
    others = devnet.chains[1:]
    deployer = roles.deployer
    need = {(kind, label): n for kind, label, n in hosting.spread}
    dai_home = next((label for (kind, label) in need if kind == "cdp"), a.name)
    home = chains[dai_home]
    amm_slots = [
        (label, i) for (kind, label), n in sorted(need.items()) if kind == "amm" for i in range(n)
    ]
    remote_amms = [(label, i) for label, i in amm_slots if (label, i) != (a.name, 0)]
    amm_chains = sorted({label for label, _ in amm_slots} - {a.name})

    deployment = deploy_bridge(devnet, deployer=deployer)
    wusdc = deployment.add_token(a, suite.usdc)
    wweth = deployment.add_token(a, suite.weth)
    relayer = Relayer(devnet, deployment, store=MessageStore(":memory:"), latency="same-block")
    devnet.attach(relayer)
    relayer.start()
    usdc = {a.name: suite.usdc, **{ch.name: wusdc[ch.chain_id] for ch in others}}
    weth = {a.name: suite.weth, **{ch.name: wweth[ch.chain_id] for ch in others}}

    def deploy(chain: Chain, name: str, *args: object) -> Contract:
        return chain.deploy(CONTRACTS_DIR / f"{name}.vy", *args, sender=deployer)

    def send(src: Chain, token: Contract, amount: int, dest: Chain, owner: str) -> None:
        deployment.bridge(src).bridge_out(
            token.address,
            amount,
            dest.chain_id,
            owner,
            int(devnet.now) + _SEED_DEADLINE,
            sender=owner,
        )

    def deliver() -> None:
        devnet.advance(1.0)
        if not relayer.is_quiescent:  # pragma: no cover - a broken bridge, not a user error
            raise RuntimeError("general layout: the relayer left build transfers undelivered")

    actors = (roles.deployer, roles.user, roles.fronter, roles.arbitrageur, roles.flow)
    for token in (suite.usdc, suite.weth, suite.dai):
        for owner in actors:
            token.approve(deployment.bridge(a).address, _MAX_UINT256, sender=owner)

    # DAI: the suite's when its home is A, else a token and a vault on its home chain
    if dai_home == a.name:
        dai_token, vault_home = suite.dai, suite.vault
        cdp_home = CdpVenue.from_suite(suite)
    else:
        oracle_c = deploy(home, "Oracle", 0)
        dai_token = deploy(home, "Token", "Dai Stablecoin", "DAI", 18)
        vault_home = deploy(
            home,
            "CdpVault",
            *vault_args(cfg, weth[home.name].address, dai_token.address, oracle_c.address),
        )
        dai_token.set_minter(vault_home.address, True, sender=deployer)
        dai_token.renounce_ownership(sender=deployer)
        oracle_c.set_price(weth[home.name].address, _units(cfg.weth_price, 18), sender=deployer)
        oracle_c.set_price(dai_token.address, _units(cfg.dai_price, 18), sender=deployer)
        cdp_home = CdpVenue(home, vault_home, oracle_c, weth[home.name], dai_token)
    wdai = deployment.add_token(home, dai_token)
    dai = {
        home.name: dai_token,
        **{ch.name: wdai[ch.chain_id] for ch in devnet.chains if ch is not home},
    }
    for owner in actors:
        dai_token.approve(deployment.bridge(home).address, _MAX_UINT256, sender=owner)

    # round 1: everything that leaves A
    pool_weth, pool_usdc = _weth_pool_seed(cfg)
    seed_dai, seed_usdc = _dai_pool_seed(cfg)
    suite_amm_pools_wdai = dai_home != a.name and (a.name, 0) in amm_slots
    dai_pools = list(remote_amms) + ([(a.name, 0)] if suite_amm_pools_wdai else [])
    dai_needed = Decimal(str(cfg.dai_usdc_liquidity)) * len(dai_pools)
    seed_weth = _seed_weth_for(cfg, dai_needed) if dai_pools else 0
    supply = _units(cfg.market_supply, 6)
    lending_chains = [label for (kind, label) in need if kind == "lending" and label != a.name]
    mint_usdc = supply * len(lending_chains) + (pool_usdc + seed_usdc) * len(remote_amms)
    mint_weth = pool_weth * len(remote_amms) + seed_weth
    suite.usdc.mint(deployer, mint_usdc, sender=deployer)
    suite.weth.mint(deployer, mint_weth, sender=deployer)
    for label, _ in remote_amms:
        if label != a.name:
            send(a, suite.weth, pool_weth, chains[label], deployer)
            send(a, suite.usdc, pool_usdc + seed_usdc, chains[label], deployer)
    for label in lending_chains:
        send(a, suite.usdc, supply, chains[label], deployer)
    if seed_weth and dai_home != a.name:
        send(a, suite.weth, seed_weth, home, deployer)
    for ch in others:
        send(a, suite.usdc, FRONTER_INVENTORY * 10**6, ch, roles.fronter)
        if hosting.inventory:
            send(a, suite.weth, FRONTER_REMOTE_WETH * 10**18, ch, roles.fronter)
    for label in amm_chains:
        for actor in (roles.arbitrageur, roles.flow):
            send(a, suite.usdc, ACTOR_REMOTE_USDC * 10**6, chains[label], actor)
            send(a, suite.weth, ACTOR_REMOTE_WETH * 10**18, chains[label], actor)
    deliver()

    # round 2: the seed DAI, drawn on its home and sent to every AMM chain that pools it
    if seed_weth:
        weth[home.name].approve(vault_home.address, _MAX_UINT256, sender=deployer)
        vault_home.lock(seed_weth, deployer, sender=deployer)
        vault_home.draw(_units(dai_needed, 18), deployer, sender=deployer)
        for label, _ in dai_pools:
            if label != home.name:
                send(home, dai_token, seed_dai, chains[label], deployer)
        deliver()

    # venues
    amms: dict[tuple[str, int], AmmVenue] = {}
    for label, i in amm_slots:
        chain = chains[label]
        if (label, i) == (a.name, 0):
            amms[(label, i)] = _suite_amm_on_a(suite, dai, dai_home, deployer)
        else:
            amms[(label, i)] = deploy_amm(
                chain, cfg, deployer, usdc[label], weth[label], dai[label]
            )
    lendings: dict[str, LendingVenue] = {}
    for (kind, label), _ in sorted(need.items()):
        if kind != "lending":
            continue
        if label == a.name:
            lendings[label] = LendingVenue.from_suite(suite)
            continue
        chain = chains[label]
        oracle = deploy(chain, "Oracle", 0)
        market = deploy(
            chain,
            "LendingMarket",
            *market_args(cfg, usdc[label].address, weth[label].address, oracle.address),
        )
        oracle.set_price(usdc[label].address, _units(cfg.usdc_price, 18), sender=deployer)
        oracle.set_price(weth[label].address, _units(cfg.weth_price, 18), sender=deployer)
        usdc[label].approve(market.address, _MAX_UINT256, sender=deployer)
        market.supply(supply, deployer, sender=deployer)
        lendings[label] = LendingVenue(chain, market, oracle, usdc[label], weth[label])

    # approvals: every role, every venue and bridge on every chain
    for ch in devnet.chains:
        label = ch.name
        spenders = [deployment.bridge(ch).address]
        spenders += [amm.router.address for (lb, _), amm in amms.items() if lb == label]
        if label in lendings:
            spenders.append(lendings[label].market.address)
        if label == dai_home:
            spenders.append(cdp_home.vault.address)
        for owner in (roles.user, roles.fronter, roles.arbitrageur, roles.flow):
            for token in (usdc[label], weth[label], dai[label]):
                for spender in spenders:
                    token.approve(spender, _MAX_UINT256, sender=owner)

    venues: dict[tuple[str, str, int], object] = {}
    for (label, i), amm in amms.items():
        venues[("amm", label, i)] = amm
    for label, lending in lendings.items():
        venues[("lending", label, 0)] = lending
    if any(kind == "cdp" for kind, _ in need):
        venues[("cdp", dai_home, 0)] = cdp_home
    first_amm = amms.get((a.name, 0)) or next(iter(amms.values()), AmmVenue.from_suite(suite))
    layout = BridgedLayout(
        deployment=deployment,
        relayer=relayer,
        amm=first_amm,
        lending=next(iter(lendings.values()), LendingVenue.from_suite(suite)),
        cdp=cdp_home,
        usdc=usdc,
        weth=weth,
        dai=dai,
        venues=venues,
    )
    relayer.on_event(layout.dispatch)
    logger.info("general layout: %d chains, %s", hosting.chains, hosting.text())
    return layout


def _suite_amm_on_a(
    suite: Suite, dai: dict[str, Contract], dai_home: str, deployer: str
) -> AmmVenue:
    """The suite's router and WETH/USDC pool on A; its DAI/USDC pool when DAI is at home on
    A, else a wDAI/USDC pool added to the suite's factory (as the 3-chain layout does)."""
    a = suite.chain
    if dai_home == a.name:
        return AmmVenue.from_suite(suite)
    wdai = dai[a.name]
    seed_dai, seed_usdc = _dai_pool_seed(suite.config)
    suite.usdc.mint(deployer, seed_usdc, sender=deployer)
    wdai.approve(suite.router.address, _MAX_UINT256, sender=deployer)
    suite.router.add_liquidity(
        wdai.address,
        suite.usdc.address,
        seed_dai,
        seed_usdc,
        0,
        0,
        deployer,
        _MAX_UINT256,
        sender=deployer,
    )
    pool = a.at(
        suite.factory.get_pool(wdai.address, suite.usdc.address),
        CONTRACTS_DIR / "ConstantProductPool.vy",
    )
    return AmmVenue(a, suite.router, suite.usdc, suite.weth, wdai, suite.weth_usdc, pool)

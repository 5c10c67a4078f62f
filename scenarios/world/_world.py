"""The deployed world the runners share: a devnet, the suites, the roles, one anchor.

``World.build(chains)`` makes a devnet of ``chains`` chains (A, B[, C]), deploys the full suite
on A — the venues of the ``atomic`` and ``sequential`` modes, and the AMM of ``bridged`` — and
the bridged layout: bridge, relayer, wrapped tokens, lending on B, CDP on C or A (see
``scenarios/world/_layout.py``), then the ``atomic`` mode's batch-executor account of the
user on A (``World.batch_executor``). ``World.build(chains, hosting=...)`` hosts any placement
instead (venues on any of up to 5 chains, several AMMs, WETH inventory: a
:class:`~scenarios.world.Hosting`, see ``scenarios/world/_general.py``); a hosting the standard
layout of its chain count covers is built exactly as the standard layout. Every run
happens inside :meth:`World.session`, which reverts the devnet (chains, clock, attached
participants) to the anchor taken after deployment: the world is built once per process and
never redeployed per run.

Roles (dev accounts, the same address on every chain): ``deployer`` (owns tokens and oracles,
acts as every oracle's keeper), ``user`` (runs the scenario), ``fronter`` (a solver holding
USDC inventory that fronts the refinance repayment), ``arbitrageur`` and ``flow`` (market
actors); the intent layout's solver is dev account 5 (``world.intent.solver``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from chains import Contract, Devnet
from scenarios.model import RunSpec, ScenarioConfigError
from scenarios.world._general import build_general_layout, deploy_amm
from scenarios.world._hosting import MAX_WORLD_CHAINS, Hosting
from scenarios.world._intent import IntentLayout, build_intent
from scenarios.world._layout import BridgedLayout, build_layout
from scenarios.world._suite import CONTRACTS_DIR, Suite, SuiteConfig, _units, deploy_suite
from scenarios.world._venues import AmmVenue, CdpVenue, LendingVenue, Roles, fetch_token0

__all__ = ["World"]

logger = logging.getLogger(__name__)

_MAX_UINT256 = 2**256 - 1
#: Inventory minted to the market actors and the fronter at build time (whole tokens).
ACTOR_USDC = 50_000_000
ACTOR_WETH = 25_000


@dataclass
class World:
    """A devnet with the suites deployed, reused across runs (see the module docstring)."""

    devnet: Devnet
    chains: int
    suite: Suite
    roles: Roles
    start_time: float
    bridged: BridgedLayout = field(default=None, repr=False)  # type: ignore[assignment]
    #: What the world hosts (the standard layout of ``chains``, or a general one).
    hosting: Hosting = field(default=None, repr=False)  # type: ignore[assignment]
    #: AMMs on A beyond the suite's, for one-chain plans with several AMM venues.
    extra_amms: list[AmmVenue] = field(default_factory=list, repr=False)
    intent: IntentLayout = field(default=None, repr=False)  # type: ignore[assignment]
    #: The user's :file:`contracts/BatchExecutor.vy` account on A, the ``atomic`` mode's
    #: (deployed last, so every other contract keeps its address).
    batch_executor: Contract = field(default=None, repr=False)  # type: ignore[arg-type]
    _anchor: int = field(default=0, repr=False)

    @classmethod
    def build(
        cls,
        chains: int = 3,
        seed: int = 0,
        config: SuiteConfig | None = None,
        *,
        hosting: Hosting | None = None,
    ) -> World:
        """Deploy everything for ``hosting`` (default: the standard layout of ``chains``, 2
        or 3) and take the anchor."""
        if hosting is None:
            if isinstance(chains, bool) or chains not in (2, 3):
                raise ScenarioConfigError(
                    f"chains={chains!r}: the standard layouts have 2 or 3 chains; for up to "
                    f"{MAX_WORLD_CHAINS}, give a hosting (World.build(chains, hosting=...))"
                )
            hosting = Hosting.standard(chains)
        elif hosting.chains != chains:
            raise ScenarioConfigError(
                f"chains={chains!r} but the hosting is for {hosting.chains} chains"
            )
        hosting = hosting.effective()
        devnet = Devnet(n_chains=chains, seed=seed)
        home = devnet.chains[0]
        accounts = [a.address for a in home.accounts]
        roles = Roles(
            deployer=accounts[0],
            user=accounts[1],
            fronter=accounts[2],
            arbitrageur=accounts[3],
            flow=accounts[4],
        )
        suite = deploy_suite(home, config, sender=roles.deployer)
        for actor in (roles.arbitrageur, roles.flow, roles.fronter):
            suite.fund(actor, usdc=ACTOR_USDC * 10**6, weth=ACTOR_WETH * 10**18)
        for owner in (roles.user, roles.arbitrageur, roles.flow, roles.fronter):
            for token in suite.tokens.values():
                for spender in (suite.router, suite.market, suite.vault, suite.composer):
                    token.approve(spender.address, _MAX_UINT256, sender=owner)
        world = cls(
            devnet=devnet, chains=chains, suite=suite, roles=roles, start_time=0.0, hosting=hosting
        )
        if hosting.is_standard:
            world.bridged = build_layout(devnet, suite, roles)
        else:
            world.extra_amms = _extra_amms(suite, roles, hosting.one_chain_amms - 1)
            world.bridged = build_general_layout(devnet, suite, roles, hosting)
        world.intent = build_intent(devnet, suite, roles, world.bridged)
        world.batch_executor = _deploy_batch_executor(world)
        # Let the clock catch up with the deployment blocks' timestamps, then start on a
        # whole minute so the runs' block times are round numbers.
        latest = max(c.timestamp for c in devnet.chains)
        devnet.advance_to(float((int(latest) // 60 + 2) * 60))
        for chain in devnet.chains:
            chain.mine()
        world.start_time = devnet.now
        world._anchor = devnet.snapshot()
        logger.info("world built: %d chains, start t=%s", chains, world.start_time)
        return world

    @property
    def amm(self) -> AmmVenue:
        """The one-chain layout's AMM (chain A)."""
        return AmmVenue.from_suite(self.suite)

    @property
    def lending(self) -> LendingVenue:
        """The one-chain layout's lending market (chain A)."""
        return LendingVenue.from_suite(self.suite)

    @property
    def cdp(self) -> CdpVenue:
        """The one-chain layout's CDP vault (chain A)."""
        return CdpVenue.from_suite(self.suite)

    @contextlib.contextmanager
    def session(self) -> Iterator[World]:
        """Run inside: on exit the devnet is back at the post-deployment anchor."""
        self.devnet.revert(self._anchor)
        try:
            yield self
        finally:
            self.devnet.revert(self._anchor)

    def check_spec(self, spec: RunSpec) -> None:
        """Reject parameters this world cannot run: a target LTV at or above the market's
        liquidation threshold, a notional beyond the WETH/USDC pool's depth."""
        spec.validate()
        errors = []
        threshold = self.suite.config.liquidation_threshold
        if spec.target_ltv >= threshold:
            errors.append(
                f"target_ltv={spec.target_ltv!r} is at or above the market's liquidation "
                f"threshold {threshold!r}: the position would be liquidatable at once"
            )
        usdc_reserve = self.fetch_usdc_depth()
        if spec.notional * 10**6 >= usdc_reserve:
            errors.append(
                f"notional={spec.notional!r} USDC is beyond the WETH/USDC pool's depth "
                f"({usdc_reserve / 10**6:,.0f} USDC in reserve)"
            )
        if errors:
            raise ScenarioConfigError("impossible RunSpec: " + "; ".join(errors))

    def check_hosting(self, needs: Hosting) -> None:
        """Refuse a plan this world does not host, naming what it hosts and what is needed."""
        if not self.hosting.covers(needs):
            raise ScenarioConfigError(
                f"this world hosts {self.hosting.text()} on {self.chains} chains; the run "
                f"needs {needs.text()} on {needs.chains}: build "
                f"World.build({needs.chains}, hosting=...) for it"
            )

    def fetch_usdc_depth(self) -> int:
        """USDC reserve of the WETH/USDC pool on A (base units)."""
        pool = self.suite.weth_usdc
        r0, r1, _ = pool.get_reserves()
        return int(r0 if fetch_token0(pool) == self.suite.usdc.address else r1)


def _deploy_batch_executor(world: World) -> Contract:
    """The user's batch-executor account on A (owner: the user), with allowances to the
    router, the market, the vault and every extra AMM's router for USDC, WETH and DAI."""
    suite = world.suite
    spenders = (suite.router, suite.market, suite.vault, *(a.router for a in world.extra_amms))
    approvals = [
        (token.address, spender.address)
        for token in (suite.usdc, suite.weth, suite.dai)
        for spender in spenders
    ]
    return suite.chain.deploy(
        CONTRACTS_DIR / "BatchExecutor.vy",
        world.roles.user,
        approvals,
        sender=world.roles.deployer,
    )


def _extra_amms(suite: Suite, roles: Roles, count: int) -> list[AmmVenue]:
    """``count`` more AMMs on A on the suite's tokens (the seed DAI of each drawn from a
    deployer CDP in the suite's vault), approved by every role."""
    if count <= 0:
        return []
    cfg, deployer = suite.config, roles.deployer
    weth_seed = _units(cfg.weth_usdc_liquidity, 18)
    usdc_seed = _units(cfg.weth_usdc_liquidity * cfg.weth_price + cfg.dai_usdc_liquidity, 6)
    dai_seed = _units(cfg.dai_usdc_liquidity, 18)
    collateral = _units(
        cfg.dai_usdc_liquidity * cfg.seed_collateral_ratio / cfg.weth_price, 18, round_up=True
    )
    out = []
    for _ in range(count):
        suite.fund(deployer, usdc=usdc_seed, weth=weth_seed + collateral)
        suite.vault.lock(collateral, deployer, sender=deployer)
        suite.vault.draw(dai_seed, deployer, sender=deployer)
        amm = deploy_amm(suite.chain, cfg, deployer, suite.usdc, suite.weth, suite.dai)
        for owner in (roles.user, roles.arbitrageur, roles.flow, roles.fronter):
            for token in suite.tokens.values():
                token.approve(amm.router.address, _MAX_UINT256, sender=owner)
        out.append(amm)
    return out

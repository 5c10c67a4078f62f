"""Deploy and wire the DeFi suite on one chain: the single facade every caller uses.

``deploy_suite(chain)`` deploys the tokens (USDC, WETH, DAI), the AMM (pool blueprint,
factory, router and the WETH/USDC and DAI/USDC pools), the oracle, the lending market,
the CDP vault and the composer; gives the vault DAI's only minter role; sets the oracle
prices; and seeds liquidity: the AMM pools at the oracle price, USDC supply in the
market, and the DAI for the DAI/USDC pool drawn from a CDP position of the deployer (so
every DAI in existence is backed by vault debt). Fixtures, hypothesis strategies and
scenarios all build on it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from chains import Chain, Contract, contracts_dir

__all__ = [
    "CONTRACTS_DIR",
    "build_blueprint_initcode",
    "Suite",
    "SuiteConfig",
    "SuiteConfigError",
    "deploy_suite",
    "market_args",
    "vault_args",
]

logger = logging.getLogger(__name__)

#: Folder holding the Vyper sources: ``contracts/`` at the project root in a checkout or an
#: editable install, their installed copy in a wheel install (:func:`chains.contracts_dir`).
CONTRACTS_DIR = contracts_dir()

_MAX_UINT256 = 2**256 - 1
# ERC-5202 blueprint: preamble, then a tiny deployer that returns it as runtime code.
_BLUEPRINT_PREFIX = b"\xfe\x71\x00"


class SuiteConfigError(ValueError):
    """A :class:`SuiteConfig` value is invalid or unknown; the message names each field."""


@dataclass(frozen=True)
class SuiteConfig:
    """Parameters of one suite deployment, in human units.

    Prices are USD per whole token; ratios, rates and fees are fractions (0.75 = 75%,
    rates per year); token amounts are whole tokens; durations are seconds. Values are
    converted exactly (through their decimal text) to the contracts' fixed-point units.
    """

    # oracle
    weth_price: float = 2000.0
    usdc_price: float = 1.0
    dai_price: float = 1.0
    oracle_delay: int = 0
    max_price_age: int = 3600
    # AMM seed liquidity: WETH in the WETH/USDC pool (USDC at the WETH price), and each
    # side of the DAI/USDC pool (at par)
    weth_usdc_liquidity: float = 1000.0
    dai_usdc_liquidity: float = 2_000_000.0
    # lending market
    market_supply: float = 2_000_000.0
    ltv: float = 0.75
    liquidation_threshold: float = 0.80
    liquidation_bonus: float = 0.05
    base_rate: float = 0.0
    slope1: float = 0.04
    slope2: float = 0.75
    kink: float = 0.80
    market_flash_fee: float = 0.0005
    # CDP vault
    liquidation_ratio: float = 1.5
    stability_fee: float = 0.02
    liquidation_penalty: float = 0.13
    debt_ceiling: float = 10_000_000.0
    dust: float = 100.0
    max_flash: float = 10_000_000.0
    vault_flash_fee: float = 0.0001
    # collateral ratio of the deployer's CDP position that mints the seed DAI
    seed_collateral_ratio: float = 2.0

    def __post_init__(self) -> None:
        errors = [*self._type_errors()]
        if not errors:
            errors += self._range_errors()
        if errors:
            raise SuiteConfigError("invalid SuiteConfig: " + "; ".join(errors))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SuiteConfig:
        """Build from a mapping (a TOML table, JSON); unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SuiteConfigError(
                f"unknown SuiteConfig key(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def _type_errors(self) -> list[str]:
        errors = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            wants_int = f.type in ("int", int)
            allowed: tuple[type, ...] = (int,) if wants_int else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed):
                kind = "an integer" if wants_int else "a number"
                errors.append(f"{f.name}={value!r} must be {kind}")
            elif isinstance(value, float) and not Decimal(str(value)).is_finite():
                errors.append(f"{f.name}={value!r} must be finite")
        return errors

    def _range_errors(self) -> list[str]:
        errors = []

        def check(is_ok: bool, name: str, rule: str) -> None:
            if not is_ok:
                errors.append(f"{name}={getattr(self, name)!r} {rule}")

        for name in ("weth_price", "usdc_price", "dai_price", "weth_usdc_liquidity"):
            check(getattr(self, name) > 0, name, "must be positive")
        for name in ("base_rate", "slope1", "slope2", "stability_fee", "liquidation_bonus"):
            check(getattr(self, name) >= 0, name, "must not be negative")
        for name in ("market_supply", "dust", "max_flash", "oracle_delay"):
            check(getattr(self, name) >= 0, name, "must not be negative")
        for name in ("market_flash_fee", "vault_flash_fee", "liquidation_penalty"):
            check(0 <= getattr(self, name) < 1, name, "must be in [0, 1)")
        check(self.max_price_age > 0, "max_price_age", "must be positive")
        check(0 < self.kink < 1, "kink", "must be in (0, 1)")
        check(0 < self.ltv < 1, "ltv", "must be in (0, 1)")
        check(
            self.ltv < self.liquidation_threshold < 1,
            "liquidation_threshold",
            f"must be in (ltv={self.ltv!r}, 1)",
        )
        check(
            self.liquidation_threshold * (1 + self.liquidation_bonus) < 1,
            "liquidation_bonus",
            f"must keep liquidation_threshold·(1 + bonus) below 1 "
            f"(threshold {self.liquidation_threshold!r})",
        )
        check(self.liquidation_ratio > 1, "liquidation_ratio", "must be above 1")
        check(
            self.seed_collateral_ratio > self.liquidation_ratio,
            "seed_collateral_ratio",
            f"must be above liquidation_ratio={self.liquidation_ratio!r}",
        )
        check(
            self.dust <= self.dai_usdc_liquidity <= self.debt_ceiling,
            "dai_usdc_liquidity",
            f"must be in [dust={self.dust!r}, debt_ceiling={self.debt_ceiling!r}] "
            "(it is drawn from the vault)",
        )
        return errors


@dataclass(frozen=True)
class Suite:
    """Handles on a deployed suite; ``deployer`` owns the tokens, oracle and vault."""

    chain: Chain
    config: SuiteConfig
    deployer: str
    usdc: Contract
    weth: Contract
    dai: Contract
    factory: Contract
    router: Contract
    weth_usdc: Contract
    dai_usdc: Contract
    oracle: Contract
    market: Contract
    vault: Contract
    composer: Contract

    @property
    def tokens(self) -> dict[str, Contract]:
        """The three tokens by symbol."""
        return {"USDC": self.usdc, "WETH": self.weth, "DAI": self.dai}

    @property
    def contracts(self) -> dict[str, Contract]:
        """Every contract of the suite by field name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), Contract)
        }

    def fund(self, to: str, *, usdc: int = 0, weth: int = 0) -> None:
        """Mint USDC and WETH (base units) to ``to``, as the token owner."""
        if usdc:
            self.usdc.mint(to, usdc, sender=self.deployer)
        if weth:
            self.weth.mint(to, weth, sender=self.deployer)

    def set_price(self, token: Contract, price: int) -> None:
        """Report ``price`` (USD per whole token, WAD) for ``token``, as the deployer."""
        self.oracle.set_price(token.address, price, sender=self.deployer)


def deploy_suite(
    chain: Chain, config: SuiteConfig | None = None, *, sender: str | None = None
) -> Suite:
    """Deploy, wire and seed the whole suite on ``chain`` from ``sender`` (default
    ``chain.default_sender``); return typed handles."""
    cfg = config if config is not None else SuiteConfig()
    deployer = sender if sender is not None else chain.default_sender

    def deploy(name: str, *args: Any) -> Contract:
        return chain.deploy(CONTRACTS_DIR / f"{name}.vy", *args, sender=deployer)

    usdc = deploy("Token", "USD Coin", "USDC", 6)
    weth = deploy("Token", "Wrapped Ether", "WETH", 18)
    dai = deploy("Token", "Dai Stablecoin", "DAI", 18)

    pool_source = CONTRACTS_DIR / "ConstantProductPool.vy"
    blueprint = chain.deploy_bytecode(
        build_blueprint_initcode(chain.compile(pool_source).bytecode),
        [],
        name="ConstantProductPoolBlueprint",
        sender=deployer,
    )
    factory = deploy("PoolFactory", blueprint.address)
    router = deploy("Router", factory.address)
    # deployed without delay so the seed prices take effect at once; the delay follows
    oracle = deploy("Oracle", 0)
    market = deploy("LendingMarket", *market_args(cfg, usdc.address, weth.address, oracle.address))
    vault = deploy("CdpVault", *vault_args(cfg, weth.address, dai.address, oracle.address))
    composer = deploy(
        "Composer",
        usdc.address,
        weth.address,
        dai.address,
        router.address,
        market.address,
        vault.address,
    )

    # DAI: the vault becomes the only minter
    dai.set_minter(vault.address, True, sender=deployer)
    dai.renounce_ownership(sender=deployer)

    for token, price in ((usdc, cfg.usdc_price), (weth, cfg.weth_price), (dai, cfg.dai_price)):
        oracle.set_price(token.address, _wad(price), sender=deployer)
    if cfg.oracle_delay:
        oracle.set_delay(cfg.oracle_delay, sender=deployer)

    # seed amounts
    pool_weth = _units(cfg.weth_usdc_liquidity, 18)
    pool_usdc = _units(Decimal(str(cfg.weth_usdc_liquidity)) * Decimal(str(cfg.weth_price)), 6)
    seed_dai = _units(cfg.dai_usdc_liquidity, 18)
    seed_usdc = _units(cfg.dai_usdc_liquidity, 6)
    supply_usdc = _units(cfg.market_supply, 6)
    # collateral for the seed CDP: dai·ratio / price, rounded up
    seed_weth = _units(
        Decimal(str(cfg.dai_usdc_liquidity))
        * Decimal(str(cfg.seed_collateral_ratio))
        / Decimal(str(cfg.weth_price)),
        18,
        round_up=True,
    )
    usdc.mint(deployer, pool_usdc + seed_usdc + supply_usdc, sender=deployer)
    weth.mint(deployer, pool_weth + seed_weth, sender=deployer)
    for token, spender in (
        (weth, vault),
        (weth, router),
        (usdc, router),
        (usdc, market),
        (dai, router),
    ):
        token.approve(spender.address, _MAX_UINT256, sender=deployer)

    if seed_dai:
        vault.lock(seed_weth, deployer, sender=deployer)
        vault.draw(seed_dai, deployer, sender=deployer)
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
    else:
        factory.create_pool(dai.address, usdc.address, sender=deployer)
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
    if supply_usdc:
        market.supply(supply_usdc, deployer, sender=deployer)

    weth_usdc = chain.at(factory.get_pool(weth.address, usdc.address), pool_source)
    dai_usdc = chain.at(factory.get_pool(dai.address, usdc.address), pool_source)
    logger.info(
        "suite on chain %s: composer %s, market %s, vault %s, WETH at %s USD",
        chain.name,
        composer.address,
        market.address,
        vault.address,
        cfg.weth_price,
    )
    return Suite(
        chain=chain,
        config=cfg,
        deployer=deployer,
        usdc=usdc,
        weth=weth,
        dai=dai,
        factory=factory,
        router=router,
        weth_usdc=weth_usdc,
        dai_usdc=dai_usdc,
        oracle=oracle,
        market=market,
        vault=vault,
        composer=composer,
    )


def market_args(cfg: SuiteConfig, loan: str, collateral: str, oracle: str) -> tuple[Any, ...]:
    """``LendingMarket`` constructor arguments for ``cfg`` with the given token and oracle
    addresses (the bridged layout deploys a market on wrapped tokens with the same terms)."""
    return (
        loan,
        collateral,
        oracle,
        _wad(cfg.ltv),
        _wad(cfg.liquidation_threshold),
        _wad(cfg.liquidation_bonus),
        _wad(cfg.base_rate),
        _wad(cfg.slope1),
        _wad(cfg.slope2),
        _wad(cfg.kink),
        _wad(cfg.market_flash_fee),
        cfg.max_price_age,
    )


def vault_args(cfg: SuiteConfig, collateral: str, dai: str, oracle: str) -> tuple[Any, ...]:
    """``CdpVault`` constructor arguments for ``cfg`` with the given addresses."""
    return (
        collateral,
        dai,
        oracle,
        _wad(cfg.liquidation_ratio),
        _wad(cfg.stability_fee),
        _wad(cfg.liquidation_penalty),
        _wad(cfg.debt_ceiling),
        _wad(cfg.dust),
        _wad(cfg.max_flash),
        _wad(cfg.vault_flash_fee),
        cfg.max_price_age,
    )


def build_blueprint_initcode(initcode: bytes) -> bytes:
    """Creation code that stores ``initcode`` as an ERC-5202 blueprint (Vyper's layout)."""
    blueprint = _BLUEPRINT_PREFIX + initcode
    return b"\x61" + len(blueprint).to_bytes(2, "big") + b"\x3d\x81\x60\x0a\x3d\x39\xf3" + blueprint


def _wad(value: float | Decimal) -> int:
    """A fraction or price as an 18-decimal integer (exact through its decimal text)."""
    return _units(value, 18)


def _units(value: float | Decimal, decimals: int, *, round_up: bool = False) -> int:
    """``value`` whole tokens in base units, rounded down (or up)."""
    scaled = Decimal(str(value)).scaleb(decimals)
    return int(scaled.to_integral_value(rounding=ROUND_CEILING if round_up else ROUND_FLOOR))

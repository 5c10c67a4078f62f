"""The deployment facade: wiring, seeding, config validation, and plain web3.py deploys."""

from __future__ import annotations

from typing import Any

import pytest
from contract_helpers import DAI, MAX_UINT256, USDC, WAD, WETH

from chains import Chain
from scenarios import Suite, SuiteConfig, SuiteConfigError, deploy_suite
from scenarios.world import CONTRACTS_DIR, build_blueprint_initcode

ZERO_ADDRESS = "0x" + "0" * 40


def test_suite_is_wired(suite: Suite) -> None:
    assert suite.market.loan_token() == suite.usdc.address
    assert suite.market.collateral_token() == suite.weth.address
    assert suite.vault.dai() == suite.dai.address
    assert suite.composer.market() == suite.market.address
    assert suite.composer.vault() == suite.vault.address
    assert suite.router.factory() == suite.factory.address
    assert [t.decimals() for t in suite.tokens.values()] == [6, 18, 18]
    assert suite.dai.is_minter(suite.vault.address)
    assert suite.dai.owner() == ZERO_ADDRESS


def test_suite_is_seeded_at_the_oracle_price(suite: Suite) -> None:
    config = suite.config
    r0, r1, _ = suite.weth_usdc.get_reserves()
    reserves = {suite.weth_usdc.token0(): r0, suite.weth_usdc.token1(): r1}
    assert reserves[suite.weth.address] == int(config.weth_usdc_liquidity) * WETH
    assert (
        reserves[suite.usdc.address] == int(config.weth_usdc_liquidity * config.weth_price) * USDC
    )
    assert suite.oracle.latest(suite.weth.address)[0] == int(config.weth_price) * WAD
    assert suite.market.total_supply_assets() == int(config.market_supply) * USDC
    # every DAI in the pool was drawn from the deployer's vault position
    assert suite.dai.totalSupply() == int(config.dai_usdc_liquidity) * DAI
    assert suite.vault.art(suite.deployer) == suite.vault.total_art() > 0
    assert (
        suite.vault.collateral_ratio(suite.deployer)
        >= int(config.seed_collateral_ratio) * WAD - WAD // 100
    )


def test_custom_config_deploys(chain: Chain) -> None:
    config = SuiteConfig(weth_price=1500.5, oracle_delay=600, dai_usdc_liquidity=50_000, ltv=0.6)
    suite = deploy_suite(chain, config, sender=chain.accounts[9].address)
    assert suite.deployer == chain.accounts[9].address
    assert suite.oracle.delay() == 600
    assert suite.oracle.latest(suite.weth.address)[0] == 15_005 * WAD // 10
    assert suite.market.ltv() == 6 * WAD // 10
    assert suite.dai.totalSupply() == 50_000 * DAI


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ltv": 0.9}, ["liquidation_threshold"]),
        ({"kink": 1.0}, ["kink"]),
        ({"weth_price": -1, "dust": -5}, ["weth_price", "dust"]),
        ({"liquidation_ratio": 1.0}, ["liquidation_ratio"]),
        ({"liquidation_bonus": 0.3}, ["liquidation_bonus"]),
        ({"dai_usdc_liquidity": 20_000_000}, ["dai_usdc_liquidity"]),
        ({"max_price_age": 1.5}, ["max_price_age"]),
        ({"ltv": True}, ["ltv"]),
    ],
    ids=[
        "ltv-above-threshold",
        "kink",
        "two-bad-fields",
        "ratio",
        "bonus",
        "ceiling",
        "type",
        "bool",
    ],
)
def test_invalid_config_names_the_fields(changes: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(SuiteConfigError) as info:
        SuiteConfig(**changes)
    for field in fields:
        assert f"{field}=" in str(info.value)


def test_config_from_mapping(suite: Suite) -> None:
    assert SuiteConfig.from_mapping({"weth_price": 1800}).weth_price == 1800


def test_config_from_mapping_unknown_key_reverts() -> None:
    with pytest.raises(SuiteConfigError, match="unknown SuiteConfig key.*weth_prise"):
        SuiteConfig.from_mapping({"weth_prise": 1800})


# -------------------------------------------------------------------- plain web3.py ---


def _ctor_args(suite: Suite, name: str, blueprint: str) -> list[Any]:
    s = suite
    pct = WAD // 100
    args: dict[str, list[Any]] = {
        "Token": ["Wrapped Token", "WTKN", 8],
        "PoolFactory": [blueprint],
        "Router": [s.factory.address],
        "Oracle": [0],
        "LendingMarket": [
            *(s.usdc.address, s.weth.address, s.oracle.address),
            *(75 * pct, 80 * pct, 5 * pct, 0, 4 * pct, 75 * pct, 80 * pct, 0, 3600),
        ],
        "CdpVault": [
            *(s.weth.address, s.dai.address, s.oracle.address),
            *(150 * pct, 2 * pct, 13 * pct, MAX_UINT256, 0, 0, 0, 3600),
        ],
        "Composer": [
            *(s.usdc.address, s.weth.address, s.dai.address),
            *(s.router.address, s.market.address, s.vault.address),
        ],
    }
    return args[name]


@pytest.mark.parametrize(
    "name", ["Token", "PoolFactory", "Router", "Oracle", "LendingMarket", "CdpVault", "Composer"]
)
def test_contract_deploys_through_web3(suite: Suite, chain: Chain, name: str) -> None:
    w3 = chain.w3
    sender = chain.accounts[8].address
    pool = chain.compile(CONTRACTS_DIR / "ConstantProductPool.vy")
    blueprint_tx = w3.eth.send_transaction(
        {"from": sender, "data": build_blueprint_initcode(pool.bytecode)}
    )
    blueprint = w3.eth.get_transaction_receipt(blueprint_tx)["contractAddress"]

    compiled = chain.compile(CONTRACTS_DIR / f"{name}.vy")
    factory = w3.eth.contract(abi=compiled.abi_list, bytecode=compiled.bytecode)
    tx = factory.constructor(*_ctor_args(suite, name, blueprint)).transact({"from": sender})
    address = w3.eth.get_transaction_receipt(tx)["contractAddress"]
    deployed = w3.eth.contract(address=address, abi=compiled.abi_list)
    # runtime code = compiled runtime + the immutables Vyper appends
    assert bytes(w3.eth.get_code(address)).startswith(compiled.runtime_bytecode[:32])
    if name == "Token":
        deployed.functions.mint(sender, 5).transact({"from": sender})
        assert deployed.functions.balanceOf(sender).call() == 5
        assert deployed.functions.decimals().call() == 8
    if name == "PoolFactory":
        deployed.functions.create_pool(suite.weth.address, suite.dai.address).transact(
            {"from": sender}
        )
        assert deployed.functions.all_pools_length().call() == 1

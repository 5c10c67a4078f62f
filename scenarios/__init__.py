"""scenarios: the DeFi suite on a chain, its reference math, and (later) scenario runners.

>>> from chains import Devnet
>>> from scenarios import deploy_suite
>>> suite = deploy_suite(Devnet(n_chains=1).chains[0])  # doctest: +SKIP
"""

from __future__ import annotations

from scenarios._models import (
    RAY,
    SECONDS_PER_YEAR,
    WAD,
    CdpLiquidation,
    MarketLiquidation,
    RateModel,
    accrue_interest,
    cdp_collateral_ratio,
    cdp_debt,
    cdp_is_safe,
    cdp_liquidation,
    compounded_growth,
    continuous_growth,
    get_amount_in,
    get_amount_out,
    get_amounts_in,
    get_amounts_out,
    health_factor,
    market_liquidation,
    mul_div,
    per_second_factor,
    quote,
    rate_after,
    rpow,
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
)
from scenarios._suite import Suite, SuiteConfig, SuiteConfigError, deploy_suite

__all__ = [
    "RAY",
    "SECONDS_PER_YEAR",
    "WAD",
    "CdpLiquidation",
    "MarketLiquidation",
    "RateModel",
    "Suite",
    "SuiteConfig",
    "SuiteConfigError",
    "accrue_interest",
    "cdp_collateral_ratio",
    "cdp_debt",
    "cdp_is_safe",
    "cdp_liquidation",
    "compounded_growth",
    "continuous_growth",
    "deploy_suite",
    "get_amount_in",
    "get_amount_out",
    "get_amounts_in",
    "get_amounts_out",
    "health_factor",
    "market_liquidation",
    "mul_div",
    "per_second_factor",
    "quote",
    "rate_after",
    "rpow",
    "to_assets_down",
    "to_assets_up",
    "to_shares_down",
    "to_shares_up",
]

"""Helpers shared by the contract tests (imported as a plain module, not fixtures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chains import Contract, Devnet
from scenarios import Suite

MAX_UINT256 = 2**256 - 1
WAD = 10**18
USDC = 10**6
WETH = 10**18
DAI = 10**18
RAY = 10**27


@dataclass(frozen=True)
class Roles:
    """Addresses of the actors, by role."""

    deployer: str
    trader: str
    lp: str
    borrower: str
    liquidator: str
    keeper: str
    attacker: str
    supplier: str


def fetch_balances(tokens: dict[str, Contract], holders: dict[str, str]) -> dict[str, int]:
    """``"TOKEN@holder" -> balance`` for every token and holder."""
    return {
        f"{symbol}@{name}": token.balanceOf(address)
        for symbol, token in tokens.items()
        for name, address in holders.items()
    }


def fetch_suite_state(suite: Suite, holders: dict[str, str]) -> dict[str, Any]:
    """Everything a composer run could touch: balances, pools, market, vault, oracle."""
    everyone = {**holders, **{name: c.address for name, c in suite.contracts.items()}}
    state: dict[str, Any] = fetch_balances(suite.tokens, everyone)
    for name in ("weth_usdc", "dai_usdc"):
        pool: Contract = getattr(suite, name)
        state[f"{name}.reserves"] = pool.get_reserves()[:2]
        state[f"{name}.supply"] = pool.totalSupply()
    market, vault = suite.market, suite.vault
    state["market.totals"] = tuple(
        getattr(market, f)()
        for f in (
            "total_supply_assets",
            "total_supply_shares",
            "total_borrow_assets",
            "total_borrow_shares",
        )
    )
    state["vault.totals"] = (
        vault.total_art(),
        vault.total_collateral(),
        vault.rate(),
        vault.bad_debt(),
        vault.flash_fees(),
    )
    for name, address in everyone.items():
        state[f"market@{name}"] = (
            market.supply_shares(address),
            market.borrow_shares(address),
            market.collateral(address),
        )
        state[f"vault@{name}"] = (vault.ink(address), vault.art(address))
    for symbol, token in suite.tokens.items():
        state[f"oracle.{symbol}"] = suite.oracle.latest(token.address)
        state[f"supply.{symbol}"] = token.totalSupply()
    return state


def advance_time(devnet: Devnet, seconds: int) -> None:
    """Move the shared clock ``seconds`` past the latest block, then mine a block on every
    chain at that time.

    Automined blocks run ahead of the clock (each takes at least a second more than the
    last), so advancing the clock alone can leave block time short of the intended gap;
    and a pending block opened by an earlier call keeps its timestamp until sealed.
    """
    latest = max(chain.timestamp for chain in devnet.chains)
    devnet.advance_to(max(devnet.now, latest) + seconds)
    for chain in devnet.chains:
        chain.mine()

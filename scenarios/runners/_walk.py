"""A walk of a plan with the venues' view functions: the t0 quote, and the atomic batch.

The walk follows the legs with integer holdings (wallet per asset, market collateral and
debt, vault collateral and debt), each amount the venue's own view at the current state:
swap outputs (``get_amounts_out``), a borrow at the target LTV (``collateral_to_loan`` ×
LTV − debt), a refinance's DAI (``get_amounts_in`` of the debt, plus the vault's
``flash_fee``). Hops move amounts unchanged (the testbed's bridge charges no fee).

- At t0 it gives the **quote** (holdings the plan ends with if nothing moved, and each swap's
  quoted output): the reference of ``shortfall_bps`` and of the bridged swap guards.
- At submission, on one chain, it also emits the **batch** the atomic mode sends through the
  user's :file:`contracts/BatchExecutor.vy` account: one call per leg, a whole-holding
  amount patched from the account's balance when the call runs, a refinance as a flash
  mint whose callback runs its inner calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from scenarios.model import AMM_FEE, Holdings, get_amount_in, get_amount_out
from scenarios.plan import AtLtv, Holding, Leg, Plan, Received, ScenarioError, Units
from scenarios.runners._one_chain import MAX_UINT256, USDC, WAD, to_wad
from scenarios.world import fetch_token0

if TYPE_CHECKING:
    from scenarios.runners._legs import Binding

__all__ = ["BatchCall", "Walk", "walk_plan"]

DECIMALS = {"USDC": 6, "WETH": 18, "DAI": 18}
#: Byte offset of the first argument in calldata (after the 4-byte selector).
FIRST_ARG = 4


@dataclass(frozen=True)
class BatchCall:
    """One call of a batch (the executor's ``Call`` struct) and the leg it runs."""

    target: str
    data: bytes
    patch_token: str = "0x" + "00" * 20
    patch_offset: int = 0
    inner: int = 0
    leg: int = 0

    def as_struct(self) -> tuple[str, bytes, str, int, int]:
        return (self.target, self.data, self.patch_token, self.patch_offset, self.inner)


@dataclass
class Walk:
    """The walk's result: end holdings, each swap leg's quoted output, the batch, and the
    fees the plan pays (USD at ``price``, in the order the legs pay them)."""

    holdings: Holdings
    quotes: dict[int, int]
    calls: list[BatchCall] = field(default_factory=list)
    fees: list[float] = field(default_factory=list)
    flash_fees: list[float] = field(default_factory=list)  # the part of ``fees`` that is flash


class _Pools:
    """The AMM pools' reserves as the walk's swaps change them (Uniswap v2 integer math,
    ``scenarios/_models.py``), read from the chain the first time a pool is used."""

    def __init__(self) -> None:
        self.reserves: dict[str, dict[str, int]] = {}

    def _pool(self, amm: Any, a: str, b: str) -> dict[str, int]:
        pool = amm.dai_usdc if "DAI" in (a, b) else amm.weth_usdc
        if pool.address not in self.reserves:
            r0, r1, _ = pool.get_reserves()
            token0 = fetch_token0(pool)
            tokens = {"USDC": amm.usdc, "WETH": amm.weth, "DAI": amm.dai}
            x, y = (a, b) if tokens[a].address == token0 else (b, a)
            self.reserves[pool.address] = {x: int(r0), y: int(r1)}
        return self.reserves[pool.address]

    def swap_in(self, amm: Any, sell: str, buy: str, amount: int) -> int:
        """Output of selling ``amount`` (``get_amount_out``); updates the reserves."""
        r = self._pool(amm, sell, buy)
        if amount <= 0:
            return 0
        out = get_amount_out(amount, r[sell], r[buy])
        r[sell] += amount
        r[buy] -= out
        return out

    def swap_out(self, amm: Any, sell: str, buy: str, out: int) -> int:
        """Input that buys exactly ``out`` (``get_amount_in``); updates the reserves."""
        r = self._pool(amm, sell, buy)
        if out <= 0:
            return 0
        amount = get_amount_in(out, r[sell], r[buy])
        r[sell] += amount
        r[buy] -= out
        return amount


def walk_plan(
    plan: Plan,
    binding: Binding,
    *,
    notional: int,
    account: str,
    target_ltv: float,
    slippage: float,
    price: float,
    deadline: int,
    emit: bool = False,
    recipients: Mapping[str, str] | None = None,
) -> Walk:
    """Walk ``plan`` (see the module docstring); ``emit`` builds the batch (one chain);
    ``recipients`` maps a transfer's role name to its address."""
    wallet: dict[str, int] = {plan.scenario.start_asset: notional}
    collateral = debt = ink = vault_debt = 0
    received: dict[str, dict[str, int]] = {}
    quotes: dict[int, int] = {}
    calls: list[BatchCall] = []
    fees: list[float] = []
    flash_fees: list[float] = []
    owed_in_kind: dict[str, int] = {}  # inventory fronted in kind, until repaid
    refinancing = {s.id for s in plan.scenario.steps if s.kind == "refinance"}
    pools = _Pools()

    def add(leg: Leg, contract: Any, fn: str, *args: Any, patch: str | None = None) -> None:
        if emit:
            data = getattr(contract, fn).encode(*args)
            token = patch if patch is not None else "0x" + "00" * 20
            calls.append(BatchCall(contract.address, data, token, FIRST_ARG, 0, leg.n))

    def amount_of(leg: Leg, held: int, asset: str) -> tuple[int, bool]:
        """(base units, whether the call patches it from the balance)."""
        amount = leg.amount
        if amount is None or isinstance(amount, Holding):
            fraction = 1.0 if amount is None else amount.fraction
            if fraction == 1.0:
                return held, True
            return held * to_wad(fraction) // WAD, False
        if isinstance(amount, Units):
            return int(Decimal(str(amount.value)) * 10 ** DECIMALS[asset]), False
        if isinstance(amount, Received):
            got = received.get(amount.step, {}).get(asset, 0)
            value = got if amount.fraction == 1.0 else got * to_wad(amount.fraction) // WAD
            return value, False
        raise ScenarioError(f"leg {leg.n} ({leg.action}): amount {amount} does not apply here")

    def usd(asset: str, amount: int) -> float:
        if asset == "USDC":
            return amount / USDC
        if asset == "DAI":
            return amount / WAD
        return amount / WAD * price

    legs = plan.legs
    i = 0
    while i < len(legs):
        leg = legs[i]
        i += 1
        got: dict[str, int] = {}
        in_refinance = leg.step in refinancing
        if leg.action == "swap" and not in_refinance:
            amm = binding.amm[leg.venue or ""]
            sell, buy = leg.param("sell"), leg.param("buy")
            tokens = {"USDC": amm.usdc, "WETH": amm.weth, "DAI": amm.dai}
            amount, patched = amount_of(leg, wallet.get(sell, 0), sell)
            path = [tokens[sell].address, tokens[buy].address]
            out = pools.swap_in(amm, sell, buy, amount)
            quotes[leg.n] = out
            slip = slippage if leg.param("slippage") is None else leg.param("slippage")
            add(
                leg,
                amm.router,
                "swap_exact_tokens_for_tokens",
                amount,
                out * to_wad(1 - slip) // WAD,
                path,
                account,
                deadline,
                patch=tokens[sell].address if patched else None,
            )
            fees.append(AMM_FEE * usd(sell, amount))
            wallet[sell] = wallet.get(sell, 0) - amount
            wallet[buy] = wallet.get(buy, 0) + out
            got[buy] = out
        elif leg.action == "supply":
            lending = binding.lending[leg.venue or ""]
            amount, patched = amount_of(leg, wallet.get("WETH", 0), "WETH")
            add(
                leg,
                lending.market,
                "supply_collateral",
                amount,
                account,
                patch=lending.weth.address if patched else None,
            )
            wallet["WETH"] = wallet.get("WETH", 0) - amount
            collateral += amount
        elif leg.action == "borrow":
            market = binding.lending[leg.venue or ""].market
            if isinstance(leg.amount, AtLtv):
                ltv = target_ltv if leg.amount.ltv is None else leg.amount.ltv
                amount = max(0, market.collateral_to_loan(collateral) * to_wad(ltv) // WAD - debt)
            else:
                amount, _ = amount_of(leg, 0, "USDC")
            add(leg, market, "borrow", amount, account)
            debt += amount
            wallet["USDC"] = wallet.get("USDC", 0) + amount
            got["USDC"] = amount
        elif leg.action in ("front_repay", "flash_mint"):
            step = plan.scenario.step(leg.step)
            amm = binding.amm[str(step.via)]  # type: ignore[union-attr]
            cdp = binding.cdp[str(step.to)]  # type: ignore[union-attr]
            lending = binding.lending[step.venue or ""]
            dai_in = pools.swap_out(amm, "DAI", "USDC", debt)
            fee = int(cdp.vault.flash_fee(dai_in))
            if emit:
                inner = [
                    (amm.router, "swap_tokens_for_exact_tokens", debt, dai_in),
                    (lending.market, "repay", MAX_UINT256, account),
                    (lending.market, "withdraw_collateral", collateral, account),
                    (cdp.vault, "lock", collateral, account),
                    (cdp.vault, "draw", dai_in + fee, account),
                ]
                data = cdp.vault.flash_mint.encode(account, dai_in, b"")
                calls.append(BatchCall(cdp.vault.address, data, inner=len(inner), leg=leg.n))
                for contract, fn, *args in inner:
                    if fn == "swap_tokens_for_exact_tokens":
                        args = [*args, [amm.dai.address, amm.usdc.address], account, deadline]
                    calls.append(
                        BatchCall(contract.address, getattr(contract, fn).encode(*args), leg=leg.n)
                    )
            fees.append(AMM_FEE * (dai_in / WAD))
            fees.append(fee / WAD)
            flash_fees.append(fee / WAD)
            vault_debt += dai_in + fee
            ink += collateral
            collateral = debt = 0
        elif leg.action == "withdraw" and not in_refinance:
            lending = binding.lending[leg.venue or ""]
            amount, _ = amount_of(leg, collateral, "WETH")
            add(leg, lending.market, "withdraw_collateral", amount, account)
            collateral -= amount
            wallet["WETH"] = wallet.get("WETH", 0) + amount
            got["WETH"] = amount
        elif leg.action == "repay" and not in_refinance:
            lending = binding.lending[leg.venue or ""]
            held = wallet.get("USDC", 0)
            amount, _ = amount_of(leg, debt, "USDC")
            amount = min(amount, held)
            whole = amount == debt
            add(leg, lending.market, "repay", MAX_UINT256 if whole else amount, account)
            debt -= amount
            wallet["USDC"] = held - amount
        elif leg.action == "lock" and not in_refinance:
            cdp = binding.cdp[leg.venue or ""]
            amount, patched = amount_of(leg, wallet.get("WETH", 0), "WETH")
            add(
                leg, cdp.vault, "lock", amount, account, patch=cdp.weth.address if patched else None
            )
            wallet["WETH"] = wallet.get("WETH", 0) - amount
            ink += amount
        elif leg.action == "draw" and not in_refinance:
            cdp = binding.cdp[leg.venue or ""]
            if isinstance(leg.amount, AtLtv):
                ltv = target_ltv if leg.amount.ltv is None else leg.amount.ltv
                oracle_price = int(cdp.oracle.price(cdp.weth.address, 2**64))
                value = ink * oracle_price // WAD
                amount = max(0, value * to_wad(ltv) // WAD - vault_debt)
            else:
                amount, _ = amount_of(leg, 0, "DAI")
            add(leg, cdp.vault, "draw", amount, account)
            vault_debt += amount
            wallet["DAI"] = wallet.get("DAI", 0) + amount
            got["DAI"] = amount
        elif leg.action == "cdp_repay":
            cdp = binding.cdp[leg.venue or ""]
            held = wallet.get("DAI", 0)
            amount, _ = amount_of(leg, vault_debt, "DAI")
            amount = min(amount, held)
            add(leg, cdp.vault, "repay", amount, account)
            vault_debt -= amount
            wallet["DAI"] = held - amount
        elif leg.action == "free":
            cdp = binding.cdp[leg.venue or ""]
            amount, _ = amount_of(leg, ink, "WETH")
            add(leg, cdp.vault, "free", amount, account)
            ink -= amount
            wallet["WETH"] = wallet.get("WETH", 0) + amount
            got["WETH"] = amount
        elif leg.action == "transfer":
            asset = leg.asset or ""
            token = binding.token(asset, leg.chain)
            amount, patched = amount_of(leg, wallet.get(asset, 0), asset)
            to = str(leg.param("to"))
            address = (recipients or {}).get(to, to)
            add(leg, token, "transfer", address, amount, patch=None)
            if patched and emit:  # the amount is the second argument: patch that word
                last = calls[-1]
                calls[-1] = BatchCall(
                    last.target, last.data, token.address, FIRST_ARG + 32, 0, leg.n
                )
            wallet[asset] = wallet.get(asset, 0) - amount
        elif leg.action == "front_inventory":
            asset = leg.asset or ""
            amount, _ = amount_of(leg, wallet.get(asset, 0), asset)
            wallet[asset] = wallet.get(asset, 0) + amount
            owed_in_kind[asset] = owed_in_kind.get(asset, 0) + amount
        elif leg.action == "repay_inventory":
            asset = leg.asset or ""
            wallet[asset] = wallet.get(asset, 0) - owed_in_kind.pop(asset, 0)
        elif in_refinance or leg.action in ("hop", "wait", "repay_fronter", "flash_repay"):
            if leg.action == "wait" and emit:
                raise ScenarioError(f"leg {leg.n}: a wait has no place in one transaction")
        else:
            raise ScenarioError(
                f"leg {leg.n} ({leg.action}): the walk does not price this action yet"
            )
        if got:
            bucket = received.setdefault(leg.step, {})
            for asset, value in got.items():
                bucket[asset] = bucket.get(asset, 0) + value
    terms = [
        wallet.get("USDC", 0) / USDC,
        wallet.get("DAI", 0) / WAD,
        -debt / USDC,
        -vault_debt / WAD,
    ]
    nonzero = [t for t in terms if t != 0]
    usd_total = 0.0
    if nonzero:
        usd_total = nonzero[0]
        for t in nonzero[1:]:
            usd_total = usd_total + t
    weth = (wallet.get("WETH", 0) + collateral + ink) / WAD
    return Walk(Holdings(usd=usd_total, weth=weth), quotes, calls, fees, flash_fees)

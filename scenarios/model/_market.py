"""The seeded market model, in pure Python: the reference price path and the arbitrage math.

Reference WETH price — geometric Brownian motion sampled on a tick grid::

    S(t_k) = S0 · exp(Σ_{i≤k} [(μ − σ²/2)·Δt + σ·√Δt·Z_i]),   Z_i ~ N(0, 1) i.i.d.,

with σ (``sigma``) and μ (``drift``) annualised, Δt = ``tick`` / (365 days). The normals come
from ``random.Random("price-path:<seed>")`` drawn lazily in order, so every mode of one seed
sees the same path however long it runs, and the path is the same whatever else uses
randomness. Between ticks the price is held (piecewise constant, right-continuous).

Arbitrage on a constant-product pool with fee f (γ = 1 − f), reserves x (risky) and y
(numeraire), reference price p (numeraire per risky): the trade that maximises profit at p is

* pool price y/x above p/γ: sell dx = (√(γ·x·y/p) − x)/γ of the risky token;
* pool price y/x below γ·p: buy with dy = (√(γ·p·x·y) − y)/γ of the numeraire;
* otherwise no trade (inside the no-arbitrage band).

:class:`ModelPool` runs the same arbitrageur against the integer Uniswap v2 formulas so the
closed forms of DESIGN §6 can be checked on many paths without a chain (see
``tests/scenarios/test_theory.py``).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from statistics import NormalDist

__all__ = [
    "SECONDS_PER_YEAR_F",
    "MarketConfig",
    "ModelPool",
    "PricePath",
    "arbitrage_input",
    "hit_probability",
    "lvr_rate",
]

#: Seconds in a (365-day) year: σ and μ are per year.
SECONDS_PER_YEAR_F = 365.0 * 24 * 3600


@dataclass(frozen=True)
class MarketConfig:
    """The market actors' parameters (all times in seconds of the devnet's virtual clock).

    ``tick`` is the price path's step and the actors' cadence; the keeper reports when its
    last report is ``heartbeat`` old or the reference moved more than ``deviation``
    (fraction) from it, the report reaching the chain ``keeper_delay`` later; background
    flow, when ``flow_usdc`` > 0, is one random-direction swap of Exp(mean ``flow_usdc``)
    USDC per tick on each AMM (seeded).
    """

    weth_price: float = 2000.0
    tick: float = 12.0
    heartbeat: float = 1800.0
    deviation: float = 0.005
    keeper_delay: float = 0.0
    flow_usdc: float = 0.0
    arbitrage: bool = True


class PricePath:
    """The seeded GBM reference price (see the module docstring)."""

    def __init__(
        self, s0: float, sigma: float, drift: float, *, tick: float = 12.0, seed: int = 0
    ) -> None:
        if not s0 > 0 or not tick > 0 or sigma < 0:
            raise ValueError(f"PricePath needs s0 > 0, tick > 0, sigma ≥ 0; got {s0}, {tick}")
        self.s0 = float(s0)
        self.sigma = float(sigma)
        self.drift = float(drift)
        self.tick = float(tick)
        dt = self.tick / SECONDS_PER_YEAR_F
        self._mean = (self.drift - self.sigma**2 / 2) * dt
        self._scale = self.sigma * math.sqrt(dt)
        self._rng = random.Random(f"price-path:{seed}")
        self._log = [0.0]

    def log_return(self, k: int) -> float:
        """ln(S(t_k)/S0) at tick ``k`` ≥ 0."""
        missing = k + 1 - len(self._log)
        if 0 < missing < 16:
            while len(self._log) <= k:
                z = self._rng.gauss(0.0, 1.0)
                self._log.append(self._log[-1] + self._mean + self._scale * z)
        elif missing > 0:
            # one normal per tick, in order: log_k = log_{k-1} + μ' + s·z_k (same arithmetic
            # as a step-by-step loop, so the path never depends on how it was queried)
            gauss, mean, scale = self._rng.gauss, self._mean, self._scale
            zs = [gauss(0.0, 1.0) for _ in range(missing)]
            steps = itertools.accumulate(
                zs, lambda acc, z: acc + mean + scale * z, initial=self._log[-1]
            )
            next(steps)
            self._log.extend(steps)
        return self._log[k]

    def at_tick(self, k: int) -> float:
        """S(t_k)."""
        return self.s0 * math.exp(self.log_return(k))

    def at(self, elapsed: float) -> float:
        """The price in effect ``elapsed`` seconds after the start (held between ticks)."""
        if elapsed < 0:
            raise ValueError(f"no price before the start (elapsed={elapsed})")
        return self.at_tick(int(math.floor(elapsed / self.tick + 1e-9)))

    def ticks(self, n: int) -> Iterator[float]:
        """S(t_1), ..., S(t_n)."""
        for k in range(1, n + 1):
            yield self.at_tick(k)


def arbitrage_input(
    x: int, y: int, price: float, *, fee_num: int = 997, fee_den: int = 1000
) -> tuple[str, int]:
    """The profit-maximising arbitrage against reserves (x risky, y numeraire, base units)
    at ``price`` (numeraire base units per risky base unit): ``("sell", dx)`` (risky in),
    ``("buy", dy)`` (numeraire in) or ``("none", 0)``; formulas in the module docstring."""
    if x <= 0 or y <= 0 or price <= 0:
        return "none", 0
    gamma = fee_num / fee_den
    k = x * y
    if y * gamma > x * price:  # pool price above p/γ
        dx = int((math.sqrt(gamma * k / price) - x) / gamma)
        return ("sell", dx) if dx > 0 else ("none", 0)
    if y < gamma * price * x:  # pool price below γ·p
        dy = int((math.sqrt(gamma * price * k) - y) / gamma)
        return ("buy", dy) if dy > 0 else ("none", 0)
    return "none", 0


def _amount_out(amount_in: int, reserve_in: int, reserve_out: int, num: int, den: int) -> int:
    """Uniswap v2's ``get_amount_out`` with fee ``1 − num/den`` (integers, rounded down)."""
    with_fee = amount_in * num
    return with_fee * reserve_out // (reserve_in * den + with_fee)


@dataclass
class ModelPool:
    """A constant-product pool with an arbitrageur, in integers, for the theory checks.

    ``lvr`` accumulates the arbitrageur's profit at the reference price of each trade — the
    liquidity providers' loss versus rebalancing, net of the fees they earn (the same
    definition as the ``lvr_usdc`` metric of chain runs).
    """

    x: int
    y: int
    fee_num: int = 997
    fee_den: int = 1000
    lvr: float = 0.0
    trades: int = field(default=0)

    def value(self, price: float) -> float:
        """Pool value at ``price`` (numeraire base units)."""
        return self.x * price + self.y

    def arbitrage(self, price: float) -> float:
        """Trade to the band at ``price``; return the arbitrageur's profit (≥ 0)."""
        side, amount = arbitrage_input(
            self.x, self.y, price, fee_num=self.fee_num, fee_den=self.fee_den
        )
        if side == "sell":
            out = _amount_out(amount, self.x, self.y, self.fee_num, self.fee_den)
            profit = out - amount * price
            if profit <= 0:
                return 0.0
            self.x += amount
            self.y -= out
        elif side == "buy":
            out = _amount_out(amount, self.y, self.x, self.fee_num, self.fee_den)
            profit = out * price - amount
            if profit <= 0:
                return 0.0
            self.y += amount
            self.x -= out
        else:
            return 0.0
        self.trades += 1
        self.lvr += profit
        return profit


def lvr_rate(sigma: float, value: float) -> float:
    """Instantaneous LVR of a constant-product pool, σ²/8 · V per year (Milionis et al. 2022)."""
    return sigma**2 / 8 * value


def hit_probability(hf0: float, sigma: float, tau_s: float) -> float:
    """P(min HF < 1 within τ) for HF ∝ price and a driftless log price: 2Φ(−ln HF₀/(σ√τ))
    (reflection principle); τ in seconds."""
    if hf0 <= 1:
        return 1.0
    if sigma == 0 or tau_s == 0:
        return 0.0
    return 2 * NormalDist().cdf(-math.log(hf0) / (sigma * math.sqrt(tau_s / SECONDS_PER_YEAR_F)))

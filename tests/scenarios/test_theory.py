"""Closed forms of DESIGN §6 against the pure-Python market model, within Monte Carlo error.

Tolerances come from the standard error of the estimate (k = 4 standard errors: a false
failure has probability < 1e-4, and the seeds are fixed, so the outcome is deterministic).
Larger samples: ``pytest -m slow tests/scenarios/test_theory.py``.
"""

from __future__ import annotations

import math
import statistics

import pytest

from scenarios.model import (
    SECONDS_PER_YEAR_F,
    ModelPool,
    PricePath,
    hit_probability,
    lvr_rate,
)

K = 4.0  # standard errors
DAY = 86_400.0


def _log_returns(n_paths: int, sigma: float, tau: float, steps: int) -> list[float]:
    return [
        PricePath(2000.0, sigma, 0.0, tick=tau / steps, seed=seed).log_return(steps)
        for seed in range(n_paths)
    ]


@pytest.mark.parametrize("n_paths", [3000, pytest.param(30_000, marks=pytest.mark.slow)])
def test_gbm_log_return_std_is_sigma_sqrt_tau(n_paths: int) -> None:
    sigma, tau = 0.8, 7 * DAY
    r = _log_returns(n_paths, sigma, tau, steps=8)
    expected_sd = sigma * math.sqrt(tau / SECONDS_PER_YEAR_F)
    sd = statistics.stdev(r)
    # SE of a normal sample's standard deviation ≈ sd / √(2(n−1))
    assert abs(sd - expected_sd) < K * expected_sd / math.sqrt(2 * (n_paths - 1))
    # and the mean is the Itô drift −σ²τ/2
    assert abs(statistics.fmean(r) + expected_sd**2 / 2) < K * expected_sd / math.sqrt(n_paths)


def test_gbm_is_reproducible_per_seed_and_distinct_across_seeds() -> None:
    a, b, c = (PricePath(2000, 0.8, 0.1, seed=s) for s in (1, 1, 2))
    assert [a.at_tick(k) for k in range(20)] == [b.at_tick(k) for k in range(20)]
    assert a.at_tick(5) != c.at_tick(5)
    assert a.at(0.0) == 2000 and a.at(11.9) == 2000 and a.at(12.0) == a.at_tick(1)
    flat = PricePath(2000, 0.0, 0.0, seed=3)
    assert flat.at(1e6) == 2000


def _lvr_sample(seed: int, sigma: float, tau: float, steps: int, fee_num: int) -> float:
    """One path's LVR, normalised by σ²/8 · V0 · τ (so its expectation is ≈ 1 at fee 0)."""
    price = 2000.0 * 10**6 / 10**18  # USDC base units per WETH base unit
    pool = ModelPool(x=1000 * 10**18, y=2_000_000 * 10**6, fee_num=fee_num, fee_den=1000)
    v0 = pool.value(price)
    path = PricePath(price, sigma, 0.0, tick=tau / steps, seed=seed)
    for k in range(1, steps + 1):
        pool.arbitrage(path.at_tick(k))
    return pool.lvr / (lvr_rate(sigma, v0) * tau / SECONDS_PER_YEAR_F)


@pytest.mark.parametrize("n_paths", [150, pytest.param(1500, marks=pytest.mark.slow)])
def test_lvr_matches_sigma_squared_over_eight(n_paths: int) -> None:
    """Constant-product pool, arbitraged to the reference every tick, no fee: E[LVR] =
    σ²/8 · V · τ (to O(σ²Δt) per tick)."""
    sigma, tau, steps = 0.8, 1 * DAY, 200
    ratios = [_lvr_sample(seed, sigma, tau, steps, fee_num=1000) for seed in range(n_paths)]
    mean = statistics.fmean(ratios)
    se = statistics.stdev(ratios) / math.sqrt(n_paths)
    assert abs(mean - 1.0) < K * se, (mean, se)


def test_fees_shrink_lvr() -> None:
    """With the pool's 0.3 % fee the arbitrageur leaves moves inside the band alone."""
    sigma, tau, steps = 0.8, 1 * DAY, 200
    free = statistics.fmean(_lvr_sample(s, sigma, tau, steps, fee_num=1000) for s in range(40))
    fee = statistics.fmean(_lvr_sample(s, sigma, tau, steps, fee_num=997) for s in range(40))
    assert 0 < fee < free


@pytest.mark.parametrize("n_paths", [2000, pytest.param(20_000, marks=pytest.mark.slow)])
def test_probability_health_factor_falls_below_one(n_paths: int) -> None:
    """HF ∝ collateral price; P(min HF < 1 within τ) = 2Φ(−ln HF₀/(σ√τ)) for a driftless log
    price (drift μ = σ²/2). Monitoring every tick misses crossings between ticks: the
    Broadie–Glasserman correction shifts the barrier by 0.5826·σ·√Δt."""
    sigma, tau, steps, hf0 = 0.8, 30 * DAY, 400, 1.3
    dt = tau / steps
    hits = 0
    for seed in range(n_paths):
        path = PricePath(1.0, sigma, sigma**2 / 2, tick=dt, seed=seed)
        barrier = -math.log(hf0)
        if any(path.log_return(k) < barrier for k in range(1, steps + 1)):
            hits += 1
    shift = 0.5826 * sigma * math.sqrt(dt / SECONDS_PER_YEAR_F)
    expected = hit_probability(hf0 * math.exp(shift), sigma, tau)
    p = hits / n_paths
    se = math.sqrt(expected * (1 - expected) / n_paths)
    assert abs(p - expected) < K * se, (p, expected, hit_probability(hf0, sigma, tau))


def test_hit_probability_edges() -> None:
    assert hit_probability(0.9, 0.8, DAY) == 1.0
    assert hit_probability(1.5, 0.0, DAY) == 0.0
    assert hit_probability(1.5, 0.8, DAY) < hit_probability(1.2, 0.8, DAY)

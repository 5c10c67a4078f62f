"""Closed forms of a two-pool arbitrage: buy the risky asset on a cheap constant-product pool,
sell it on a dear one.

Pools: cheap (x₁ risky, y₁ numeraire), dear (x₂, y₂), both with fee 1 − γ (γ = 0.997). Buying
with Δ numeraire on the cheap pool gives a = γΔx₁ / (y₁ + γΔ); selling a on the dear pool
gives b = γa·y₂ / (x₂ + γa). Composed, the round trip is itself a constant-product curve:

    b(Δ) = A·Δ / (B + C·Δ),   A = γ²·x₁·y₂,  B = x₂·y₁,  C = γ·x₂ + γ²·x₁

so the profit at size Δ is π(Δ) = b(Δ) − Δ, and setting π'(Δ) = A·B / (B + CΔ)² − 1 = 0:

    Δ* = (√(A·B) − B) / C,   π* = π(Δ*) = (√A − √B)² / C      (when A > B; else 0 at Δ* = 0)

A > B ⟺ (y₂/x₂)/(y₁/x₁) > 1/γ²: the dear pool's price must exceed the cheap one's by the
break-even gap 1/γ² − 1 = 60.3 bps for two 0.3 % pools. With pools of equal depth at prices P
and P·(1 + g), Δ* ≈ y·ε/2 and π* ≈ y·ε²/2 with ε = γ·√(1 + g) − 1 (y: the USDC reserve).

These are the continuous forms; the pools round each output down to an integer, which moves a
run's profit by at most a few base units (the tests compare at 10⁻⁶ relative).
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["ArbOptimum", "arb_optimum", "arb_profit", "break_even_gap"]

#: The testbed AMM's fee factor (0.3 % fee).
GAMMA = 0.997


class ArbOptimum(NamedTuple):
    """The profit-maximising size Δ* (numeraire in) and the profit π* there."""

    size: float
    profit: float


def _abc(x1: float, y1: float, x2: float, y2: float, gamma: float) -> tuple[float, float, float]:
    return gamma * gamma * x1 * y2, x2 * y1, gamma * x2 + gamma * gamma * x1


def arb_profit(
    size: float, x1: float, y1: float, x2: float, y2: float, gamma: float = GAMMA
) -> float:
    """π(Δ) = A·Δ / (B + C·Δ) − Δ: the profit of buying with ``size`` numeraire on the cheap
    pool (x1, y1) and selling all of it on the dear pool (x2, y2) (module docstring)."""
    a, b, c = _abc(x1, y1, x2, y2, gamma)
    return a * size / (b + c * size) - size


def arb_optimum(x1: float, y1: float, x2: float, y2: float, gamma: float = GAMMA) -> ArbOptimum:
    """Δ* = (√(A·B) − B)/C and π* = (√A − √B)²/C (module docstring); (0, 0) when the gap does
    not cover the two fees."""
    a, b, c = _abc(x1, y1, x2, y2, gamma)
    if a <= b:
        return ArbOptimum(0.0, 0.0)
    return ArbOptimum((math.sqrt(a * b) - b) / c, (math.sqrt(a) - math.sqrt(b)) ** 2 / c)


def break_even_gap(gamma: float = GAMMA) -> float:
    """The smallest relative price gap at which the round trip pays: 1/γ² − 1."""
    return 1 / (gamma * gamma) - 1

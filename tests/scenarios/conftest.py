"""Fixtures for the scenario tests: one world (devnet + suites) per session."""

from __future__ import annotations

import pytest

from scenarios import World


@pytest.fixture(scope="session")
def world() -> World:
    """A 3-chain world built once; every run reverts it to its post-deployment anchor."""
    return World.build(3)

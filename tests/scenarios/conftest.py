"""Fixtures for the scenario tests: one world (devnet + suites) per session, and the sweep
executors built on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sweep_runners

from scenarios import ProcessExecutor, SerialExecutor, World
from scenarios.sweep import WorldCache

#: Modules that sweep workers import: the test-only ``probe`` and ``fail`` runners.
SWEEP_PLUGINS = ("sweep_plugin",)


@pytest.fixture(scope="session")
def scenario_world() -> World:
    """A 3-chain world built once; every run reverts it to its post-deployment anchor."""
    return World.build(3)


@pytest.fixture(scope="session")
def worlds(scenario_world: World) -> WorldCache:
    """Worlds by hosting, built on first use (the session's 3-chain world among them)."""
    cache = WorldCache()
    cache.put(scenario_world)
    return cache


@pytest.fixture(scope="session")
def serial_executor(scenario_world: World) -> Iterator[SerialExecutor]:
    """An in-process sweep executor reusing the session's 3-chain world."""

    def build(chains: int) -> World:
        return scenario_world if chains == 3 else World.build(chains)

    with SerialExecutor(imports=SWEEP_PLUGINS, world_factory=build) as executor:
        yield executor


@pytest.fixture(scope="session")
def process_executor() -> Iterator[ProcessExecutor]:
    """A two-worker spawn pool (each worker keeps its worlds) shared by the session."""
    with ProcessExecutor(2, imports=SWEEP_PLUGINS) as executor:
        yield executor


@pytest.fixture(scope="module")
def probe_modes() -> Iterator[None]:
    """The test-only ``probe`` and ``fail`` modes, registered for one test module only."""
    sweep_runners.register()
    yield
    sweep_runners.unregister()

"""Shared test configuration: hypothesis profiles.

Select with ``--hypothesis-profile``: ``dev`` (quick, default locally), ``ci`` (the CI
budget, default when ``CI`` is set) and ``slow`` (deep runs, by hand).
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from hypothesis import HealthCheck, settings

# The scenarios plugin (world, suite, bridge, scenario_run) arrives through its pytest11
# entry point once the package is installed; an install older than the plugin gets it here.
if not any(ep.value == "scenarios.pytest_plugin" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["scenarios.pytest_plugin"]

_COMMON = {
    "deadline": None,  # EVM execution time varies with machine load; speed is benchmarked
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "print_blob": True,
}

settings.register_profile("dev", max_examples=20, **_COMMON)
settings.register_profile("ci", max_examples=50, derandomize=True, **_COMMON)
settings.register_profile("slow", max_examples=2_000, **_COMMON)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

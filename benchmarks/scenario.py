"""Scenario benchmark script: ``python benchmarks/scenario.py [--json] [--sweep-runs 1000]``.

The same as ``testbed bench scenario``; see ``scenarios/bench/_scenario.py`` for what is
measured (runs/s per mode on one reused world; optionally the wall time of a bridged sweep).
"""

from __future__ import annotations

import sys

from scenarios.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "scenario", *sys.argv[1:]]))

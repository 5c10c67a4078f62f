"""Engine benchmark script: ``python benchmarks/engine.py [--json]``.

The same as ``testbed bench engine``; see ``scenarios/bench/_engine.py`` for what is measured.
"""

from __future__ import annotations

import sys

from scenarios.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "engine", *sys.argv[1:]]))

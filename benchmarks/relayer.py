"""Relayer benchmark script: ``python benchmarks/relayer.py [--json] [--messages N]``.

The same as ``testbed bench relayer``; see ``bridge/_bench.py`` for what is measured.
"""

from __future__ import annotations

import sys

from scenarios.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "relayer", *sys.argv[1:]]))

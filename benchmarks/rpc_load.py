"""RPC load benchmark script: ``python benchmarks/rpc_load.py [--json] [--clients N]``.

The same as ``testbed bench rpc``; see ``scenarios/bench/_rpc.py`` for what is measured.
"""

from __future__ import annotations

import sys

from scenarios.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "rpc", *sys.argv[1:]]))

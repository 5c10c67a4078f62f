"""``python -m scenarios.cli``: the ``testbed`` command line."""

from __future__ import annotations

import sys

from scenarios.cli._main import main

sys.exit(main())

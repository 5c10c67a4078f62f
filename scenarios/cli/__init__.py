"""scenarios.cli: the ``testbed`` command line — argument parsing and presentation only.

``main`` is the console script's entry point (``testbed = "scenarios.cli:main"``);
``python -m scenarios.cli`` runs the same.
"""

from __future__ import annotations

from scenarios.cli._main import build_parser, main

__all__ = ["build_parser", "main"]

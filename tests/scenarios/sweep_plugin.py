"""Plugin module for sweep workers and ``--plugin``: importing it registers the test-only
``probe`` and ``fail`` modes of :mod:`sweep_runners` in this process."""

from __future__ import annotations

import sweep_runners

sweep_runners.register()

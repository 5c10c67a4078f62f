"""scenarios.report: reports over sweep results (HTML, CSV, figures) and the plain-text table
the CLI prints.
"""

from __future__ import annotations

from scenarios.report._cells import read_results, rows_of
from scenarios.report._report import (
    REPORT_DIR,
    Report,
    report,
    write_report,
)
from scenarios.report._solver import SolverEconomics, get_solver_economics
from scenarios.report._table import format_table

__all__ = [
    "format_table",
    "REPORT_DIR",
    "Report",
    "SolverEconomics",
    "get_solver_economics",
    "read_results",
    "report",
    "rows_of",
    "write_report",
]

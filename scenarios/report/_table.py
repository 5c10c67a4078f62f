"""The plain-text table every CLI command prints: one header row, a dashed rule,
left-aligned columns two spaces apart, no trailing spaces — drawn by ``rich`` (the CLI's
progress bars use it too) and rendered to plain text, so it reads the same in a terminal,
a log or a Markdown code block, and tools can split rows on runs of two spaces."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["format_table"]

#: Only a dashed rule under the header: no edges, no column lines (rich's box format,
#: eight lines of four characters: top, head, head rule, mid, row, foot rule, foot, bottom).
_HEADER_RULE = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``headers`` over ``rows`` (each cell ``str()``-ed), columns as wide as their widest
    cell, a dashed rule under the headers."""
    table = Table(
        box=_HEADER_RULE,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        highlight=False,
    )
    for header in headers:
        table.add_column(str(header), no_wrap=True, overflow="ignore")
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"format_table: a row has {len(row)} cells for {len(headers)} headers")
        table.add_row(*(str(cell) for cell in row))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=1_000_000,  # never wrap: a table is as wide as its cells
        color_system=None,
        force_terminal=False,
        markup=False,
        emoji=False,
        highlight=False,
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())

"""Markdown tables as genlab's reports write them: ``| a | b |`` rows under a ``|---|`` rule."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The table's lines. Cells that are not strings go through :func:`markdown_cell`; a ``|``
    inside a cell is escaped, so it cannot split the cell."""
    lines = [_line(header, len(header)), "|" + "---|" * len(header)]
    lines += [_line(row, len(header)) for row in rows]
    return lines


def markdown_cell(value: Any) -> str:
    """None and NaN as an empty cell, a float with 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _line(cells: Sequence[Any], width: int) -> str:
    if len(cells) != width:
        raise ValueError(f"a Markdown row of {len(cells)} cells under a header of {width}")
    texts = (cell if isinstance(cell, str) else markdown_cell(cell) for cell in cells)
    return "| " + " | ".join(text.replace("|", "\\|") for text in texts) + " |"

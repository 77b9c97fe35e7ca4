"""The Markdown tables gan-report prints, padded so that they also read as tables in a terminal.
Light to import: gan-report's table of one sweep loads neither scipy nor matplotlib."""

from __future__ import annotations


def cell(text: str) -> str:
    # a "|" would end the cell, a newline the row
    return " ".join(text.split("\n")).replace("|", "\\|")


def table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """A Markdown table; the columns whose index is in ``numeric`` are right-aligned."""
    headers = [cell(h) for h in headers]
    rows = [[cell(c) for c in row] for row in rows]
    widths = [max(3, len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i in numeric else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "| " + " | ".join("-" * (w - 1) + ":" if i in numeric else "-" * w for i, w in enumerate(widths)) + " |"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])

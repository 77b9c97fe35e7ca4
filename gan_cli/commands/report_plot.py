"""The bar chart of ``gan-report --plot``: one metric across the jobs of a sweep.

Imported only when a plot is asked for, as matplotlib takes a noticeable part of a second
to import. Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def bar_chart(path: Path, labels: list[str], heights: list[float | None], notes: list[str],
              ylabel: str, title: str) -> None:
    """One bar per job, in order. A job with no value (``None``) keeps an empty, outlined slot
    with its note ("failed", "nan") written in it, so a failed job is seen, not silently lost."""
    positions = list(range(len(labels)))
    drawn = [h for h in heights if h is not None]
    # the empty slots span the drawn bars' range, or a unit one when no job has a value
    low, high = min([0.0, *drawn]), max([0.0, *drawn])
    if high == low:
        high = low + 1.0

    fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(labels) + 1.5), 4.5), dpi=100)
    for x, height, note in zip(positions, heights, notes):
        if height is None:
            ax.bar(x, high - low, bottom=low, color="none", edgecolor="grey", linestyle="--", hatch="//", alpha=0.6)
            ax.text(x, (low + high) / 2, note, ha="center", va="center", rotation=90, color="dimgrey",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 2})
        else:
            bars = ax.bar(x, height, color="tab:blue")
            ax.bar_label(bars, fmt="%.4g", fontsize=8)
    ax.set_xticks(positions, labels, fontsize=8, rotation=0 if len(labels) <= 6 else 45,
                  ha="center" if len(labels) <= 6 else "right")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    try:
        fig.savefig(path)
    finally:
        plt.close(fig)

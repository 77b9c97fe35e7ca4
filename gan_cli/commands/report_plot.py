"""The figures of ``gan-report --plot``: one metric across the jobs of a sweep (a bar chart), or
the group means and confidence intervals of a study (``--by``).

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
    save(fig, path)


def group_means(path: Path, metrics: dict[str, dict], title: str, names: dict[str, str] | None = None) -> None:
    """One panel per metric: each group's replicates as dots, its mean and confidence interval as
    a bar with whiskers, and n under its name (``names``: a group's label as drawn, its values
    without the keys the title names). A group with no value keeps its slot, marked n = 0."""
    count = len(metrics)
    groups = len(next(iter(metrics.values()))["groups"]) if metrics else 0
    columns = min(3 if groups <= 6 else 2 if groups <= 10 else 1, count)
    rows = -(-count // columns)
    width = max(4.6, 0.55 * groups + 1.5)  # each group's name stays legible
    # constrained layout leaves room for the suptitle (tight_layout draws the panels under it)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 3.9 * rows), dpi=100, squeeze=False,
                             layout="constrained")
    names = names or {}
    for ax, (metric, block) in zip(axes.flat, metrics.items()):
        labels = list(block["groups"])
        for x, label in enumerate(labels):
            d = block["groups"][label]
            values = list(d["values"].values())
            ax.scatter([x + 0.18] * len(values), values, s=12, color="grey", alpha=0.7, zorder=2)
            if d["mean"] is not None:
                low = d["mean"] - (d["ci_low"] if d["ci_low"] is not None else d["mean"])
                high = (d["ci_high"] if d["ci_high"] is not None else d["mean"]) - d["mean"]
                ax.errorbar([x], [d["mean"]], yerr=[[low], [high]], fmt="o", color="tab:blue", capsize=5, zorder=3)
        ax.set_xticks(range(len(labels)), [f"{names.get(label, label)}\nn = {block['groups'][label]['n']}"
                                           for label in labels], fontsize=8)
        direction = {True: " (higher is better)", False: " (lower is better)"}.get(block["higher_is_better"], "")
        ax.set_title(metric + direction, fontsize=9)
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    save(fig, path)


def save(fig, path: Path) -> None:
    """Laid out (unless the figure has its own layout engine), written, and closed even when
    writing fails (gan-report may draw again)."""
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    try:
        fig.savefig(path)
    finally:
        plt.close(fig)

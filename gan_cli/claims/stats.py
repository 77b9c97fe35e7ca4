"""Mean and standard error over seeds."""

from __future__ import annotations

import math
import statistics


def mean_se(values: list[float]) -> dict:
    """{"mean", "se", "n"}: the standard error is s / √n (None for fewer than 2 values)."""
    if not values:
        return {"mean": None, "se": None, "n": 0}
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
    return {"mean": statistics.fmean(values), "se": se, "n": len(values)}


def difference(a: dict, b: dict) -> tuple[float | None, float | None]:
    """a.mean - b.mean and its standard error √(se_a² + se_b²)."""
    if a["mean"] is None or b["mean"] is None:
        return None, None
    if a["se"] is None or b["se"] is None:
        return a["mean"] - b["mean"], None
    return a["mean"] - b["mean"], math.hypot(a["se"], b["se"])

"""Which feature space a job's FID, KID and precision/recall were computed in (summary.json's
``eval_provenance``), so that gan-report never puts numbers from different spaces in one column:
an FID on classifier features and one on Inception features (or on two different classifiers)
are different quantities. Light to import (no torch)."""

from __future__ import annotations

import json
from typing import Any

from gan_cli.errors import GanRunError

FEATURE_TAGS = ("eval/fid", "eval/kid_mean", "eval/kid_std", "eval/precision", "eval/recall", "eval/density",
                "eval/coverage")


def feature_space(provenance: Any) -> str | None:
    """A short name of the feature space: the extractor and its weights (hash or cache key)."""
    if not isinstance(provenance, dict) or "extractor" not in provenance:
        return None
    weights = provenance.get("classifier_key") or provenance.get("weights_sha256", "")[:16]
    shape = provenance.get("image_shape")
    return " ".join(str(p) for p in (provenance["extractor"], weights, "x".join(map(str, shape or ()))) if p)


def check_feature_spaces(jobs: list, metrics: list[str]) -> None:
    """GanRunError if the chosen columns hold feature metrics from jobs in different spaces."""
    chosen = [m for m in metrics if m.removeprefix("best ") in FEATURE_TAGS]
    spaces: dict[str, list[str]] = {}
    for job in jobs:
        if not any(m in job.metrics for m in chosen):
            continue
        try:
            provenance = json.loads((job.folder / "summary.json").read_text()).get("eval_provenance")
        except (OSError, ValueError, AttributeError):
            provenance = None
        spaces.setdefault(feature_space(provenance) or "unrecorded", []).append(job.name)
    if len(spaces) > 1:
        where = "; ".join(f"{space}: jobs {', '.join(names)}" for space, names in spaces.items())
        raise GanRunError(f"{', '.join(chosen)} were computed in different feature spaces ({where}); FID and "
                          "precision/recall from different extractors are different quantities and do not share "
                          "a column; report those jobs separately, or leave these metrics out with --metrics")

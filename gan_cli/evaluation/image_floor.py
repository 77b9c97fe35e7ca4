"""The real-versus-real floor of the image metrics, and Stacked MNIST's misread floor.

A perfect generator does not score FID 0: two disjoint sets of real images, featurised the same
way, are already some distance apart (finite samples, and features that see real variation).
``image_floor`` measures each image metric between two disjoint sets of the evaluation's size
drawn from the reference pool (the images the features were never trained on), ``REPEATS``
times with fixed seeds, and keeps the mean and standard deviation. It is computed once per
feature space, pool and evaluation size, and cached as JSON beside the feature network.
A value within the floor's spread (``within_floor``) is indistinguishable from real data.

Stacked MNIST's ``misread_floor``: real images stacked from pool digits of only k true triples
(k in ``MISREAD_MODES``), read by the same classifier. A perfect classifier would count k modes;
the excess is what the classifier's errors add to ``eval/modes``.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from gan_cli.evaluation.directions import higher_is_better

REPEATS = 5  # disjoint pairs of real sets per floor
SPREAD = 2.0  # a value within mean ± SPREAD·std of the floor is indistinguishable from real data
MISREAD_MODES = (10, 100, 1000)
FLOOR_VERSION = "v1"  # in the cache key


def floor_key(evaluator: Any) -> str:
    provenance = evaluator.extractor.provenance
    space = provenance.get("classifier_key") or provenance.get("weights_sha256", "")
    digest = hashlib.sha256(np.ascontiguousarray(evaluator.reference.numpy()).tobytes())
    digest.update(f"{FLOOR_VERSION} {space} n={evaluator.num_samples} prdc={evaluator.prdc_samples} "
                  f"repeats={REPEATS} stacked={evaluator.stacked}".encode())
    return digest.hexdigest()[:16]


def image_floor(evaluator: Any, cache_dir: str | Path | None) -> dict:
    """The floor of ``evaluator``'s metrics (gan_cli.evaluation.image_evaluation.ImageEvaluator), from its
    cache file when one exists: ``{"metrics": {tag: {"mean", "std"}}, "samples", "repeats", ...}``."""
    file = Path(cache_dir).expanduser() / f"floor-{floor_key(evaluator)}.json" if cache_dir else None
    if file is not None and file.is_file():
        return {**json.loads(file.read_text()), "cached": True}
    floor = measure_floor(evaluator)
    if evaluator.stacked:
        floor["misread"] = misread_floor(evaluator)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(floor, indent=2, sort_keys=True) + "\n")
        tmp.replace(file)
    return {**floor, "cached": False}


def measure_floor(evaluator: Any) -> dict:
    import torch

    pool = evaluator.reference
    m = min(evaluator.num_samples, len(pool) // 2)
    features = evaluator.features(pool.float().div(127.5).sub(1.0))
    values: dict[str, list[float]] = {}
    for r in range(REPEATS):
        order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(1000 + r)).numpy()
        a, b = features[order[:m]], features[order[m:2 * m]]
        for tag, value in evaluator.score(a, b).items():
            values.setdefault(tag, []).append(value)
    return {"metrics": {tag: {"mean": statistics.fmean(v), "std": statistics.stdev(v)} for tag, v in values.items()},
            "samples": m, "repeats": REPEATS, "pool": len(pool),
            "protocol": f"{REPEATS} draws of two disjoint sets of {m} reference-pool images (seeds 1000-"
                        f"{999 + REPEATS}), the evaluation's metrics between them"}


def misread_floor(evaluator: Any) -> dict[str, dict[str, float]]:
    """Modes read in ``evaluator.num_samples`` real Stacked MNIST images whose triples come
    from only k of the 1,000, for each k in MISREAD_MODES; stacked from reference-pool digits."""
    import torch

    from gan_cli.data.digits import triple_modes

    digits, labels = evaluator.pool_digits
    by_label = [np.flatnonzero(labels == d) for d in range(10)]
    if any(len(b) == 0 for b in by_label):  # a pool without some digit cannot stack every triple
        return {}
    out = {}
    for k in MISREAD_MODES:
        rng = np.random.default_rng(k)
        triples = rng.choice(1000, k, replace=False)[rng.integers(0, k, evaluator.num_samples)]
        parts = np.stack([triples // 100, triples // 10 % 10, triples % 10], 1)
        picks = np.empty_like(parts)
        for d in range(10):  # each channel: a random pool digit of its true label
            where = parts == d
            picks[where] = by_label[d][rng.integers(0, len(by_label[d]), int(where.sum()))]
        images = torch.from_numpy(digits[picks, 0]).float().div(127.5).sub(1.0)
        read = evaluator.extractor.labels(images) @ np.array([100, 10, 1])
        out[str(k)] = {"true_modes": k, **{key: float(v) for key, v in triple_modes(read).items()}}
    return out


def floor_tags(floor: dict) -> dict[str, float]:
    """The floor's means as TensorBoard tags: eval/fid → reference/fid_floor (tensorboard_layout.py
    draws each beside its metric)."""
    return {f"reference/{tag.removeprefix('eval/')}_floor": s["mean"] for tag, s in floor["metrics"].items()}


def within_floor(tag: str, value: float, floor: dict | None) -> bool | None:
    """True when ``value`` is within the floor's spread (mean ± SPREAD·std, on the metric's
    worse side), False beyond it, None without a floor or a direction (eval/kid_std)."""
    stats = (floor or {}).get("metrics", {}).get(tag)
    direction = higher_is_better(tag)
    if stats is None or direction is None:
        return None
    bound = stats["mean"] - SPREAD * stats["std"] if direction else stats["mean"] + SPREAD * stats["std"]
    return value >= bound if direction else value <= bound


def floor_text(tag: str, value: float, floor: dict | None) -> str:
    """``floor 10.2 ± 0.7 (indistinguishable from real data)``, or '' without a floor."""
    stats = (floor or {}).get("metrics", {}).get(tag)
    if stats is None:
        return ""
    verdict = within_floor(tag, value, floor)
    label = "" if verdict is None else " (indistinguishable from real data)" if verdict else " (beyond the floor)"
    return f"floor {stats['mean']:.4g} ± {stats['std']:.2g}{label}"

"""The finite-sample floor of eval/wasserstein_exact: W1 between two independent real samples.

eval/wasserstein_exact compares n generated points with n real ones. Even a perfect generator
(Pg = Pr) scores above zero, since two samples of n points from the same distribution are
E W1(μ̂_n, μ̂'_n) apart (about n^(-1/2) in 1-D and 2-D). A final figure within that floor's
spread is indistinguishable from zero; figures and reports draw it as a line.
"""

from __future__ import annotations

import statistics
from typing import Any


def wasserstein_floor(dataset: Any, num_samples: int, repeats: int = 5, seed: int = 0) -> dict[str, float]:
    """Mean and standard deviation over ``repeats`` draws of W1(x, x'), x and x' two independent
    ``num_samples``-point samples of ``dataset`` (a gan_cli.data.toy distribution)."""
    import torch

    from gan_cli.evaluation.metrics import wasserstein_exact

    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(repeats):
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            x, y = dataset.sample(num_samples), dataset.sample(num_samples)
        values.append(wasserstein_exact(x.float(), y.float()))
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if repeats > 1 else 0.0,
            "num_samples": int(num_samples), "repeats": int(repeats)}


def floor_of_config(dataset_cfg: Any, num_samples: int, repeats: int = 5, seed: int = 0) -> dict[str, float]:
    """The floor for a composed config's ``dataset`` node (a Hydra ``_target_`` node)."""
    from gan_cli.training.build import build

    return wasserstein_floor(build(dataset_cfg, "dataset"), num_samples, repeats, seed)

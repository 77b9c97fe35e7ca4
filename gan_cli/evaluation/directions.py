"""Which way is better for each metric, declared once: the run's ``best/*`` values, gan-report's
verdicts and gan-claims read it from here. Light to import (no torch)."""

from __future__ import annotations

HIGHER_IS_BETTER = {"eval/modes", "eval/high_quality_pct", "eval/precision", "eval/recall", "eval/density",
                    "eval/coverage"}
# lower is better for the other sample metrics: eval/fid, eval/kid_mean, eval/mode_kl, eval/wasserstein_exact
LOWER_IS_BETTER = {"eval/fid", "eval/kid_mean", "eval/mode_kl", "eval/wasserstein_exact", "eval/stacked_modes_kl"}
# properties of the critic or of an estimate's spread, not of the samples: neither better nor worse
NOT_RANKED = {"eval/critic_lipschitz", "eval/wasserstein_estimate", "eval/discriminator_loss", "eval/kid_std"}
BEST_PREFIX = "best "


def higher_is_better(metric: str) -> bool | None:
    """True or False for a ranked metric (``best <tag>`` as its tag), None where no direction is
    declared: a loss, a gradient norm, a critic property. Correlations (correlation/*: the critic's
    estimate against the exact W1) are better higher."""
    tag = metric.removeprefix(BEST_PREFIX)
    if tag in HIGHER_IS_BETTER or tag.startswith("correlation/"):
        return True
    if tag in LOWER_IS_BETTER:
        return False
    return None

"""The statistics of a study: what gan-report, gan-claims and bench/ say about replicates.

Every number comes from ``scipy.stats``; this module only chooses the test and names it.

- ``describe``: n, mean, standard error s/√n, the t confidence interval of the mean, min, max.
- ``compare``: the difference of two groups' means, with the confidence interval and p-value of
  a named test. Groups whose replicates carry the same ids (seeds) are paired: a paired t-test
  on the per-seed differences. Otherwise Welch's t-test (no equal-variance assumption). Where
  the t statistic is undefined (every difference the same: zero variance), the exact
  permutation test of the mean difference takes its place; its smallest possible p-value is
  2 / 2^n (paired) or 2 / C(n_a + n_b, n_a), so few seeds cannot separate anything, as they should not.
- ``holm``: Holm's step-down adjustment for a family of comparisons (scipy has none; it is
  five lines: p_(i) · (m − i + 1), made monotone, capped at 1).
- ``fisher``: counts (runs that diverged of those run) compared with Fisher's exact test.

A verdict says ``better``, ``worse`` or ``not separated`` at the stated α; "not separated" means
the data do not support a difference, not that there is none.

A claim is directional (``claim_test``): ``held`` when the one-sided test in the claimed
direction has p < α; ``not_held`` only when the data support the opposite (the one-sided test
the other way has p < α) or rule the claimed effect out (the one-sided 1 − α upper confidence
bound of the effect is below the smallest effect the claim means); ``inconclusive`` otherwise.
``power`` says which effect a seed count can detect.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
#: resamples of a permutation test too large to enumerate (scipy enumerates every smaller one exactly)
PERMUTATIONS = 9999


@dataclass(frozen=True)
class Description:
    n: int
    mean: float | None
    se: float | None  # s / √n; None for n < 2
    ci_low: float | None  # the t interval of the mean at CONFIDENCE; None for n < 2
    ci_high: float | None
    minimum: float | None
    maximum: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def describe(values: Sequence[float], confidence: float = CONFIDENCE) -> Description:
    """n, mean, standard error and t confidence interval of the mean, min and max."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return Description(0, None, None, None, None, None, None)
    mean = float(x.mean())
    if n < 2:
        return Description(1, mean, None, None, None, mean, mean)
    se = float(stats.sem(x))
    if se == 0.0:  # every replicate the same: the interval is the point (t.interval would give nan)
        low = high = mean
    else:
        low, high = (float(v) for v in stats.t.interval(confidence, n - 1, loc=mean, scale=se))
    return Description(n, mean, se, low, high, float(x.min()), float(x.max()))


@dataclass(frozen=True)
class Comparison:
    difference: float | None  # mean(a) − mean(b); paired: the mean of the per-id differences
    ci_low: float | None
    ci_high: float | None
    test: str  # the test's name and its n, as a reader should see it
    p_value: float | None  # two-sided; None where no test could run (too few replicates)
    paired: bool
    n_a: int
    n_b: int

    def as_dict(self) -> dict:
        return asdict(self)


def compare(a: Mapping[str, float], b: Mapping[str, float], confidence: float = CONFIDENCE) -> Comparison:
    """Group ``a`` against group ``b``; each maps a replicate id (the seed) to its value.

    Paired when both hold the same ids (two or more), else unpaired."""
    paired = len(a) >= 2 and set(a) == set(b)
    if paired:
        ids = sorted(a)
        x, y = np.array([a[i] for i in ids], float), np.array([b[i] for i in ids], float)
        d = x - y
        difference = float(d.mean())
        if np.ptp(d) == 0.0:  # every pair differs by the same amount: t is undefined
            return _permutation(x, y, "samples", difference, paired, f"exact sign-flip permutation test "
                                f"(n = {len(d)} pairs; t undefined: every pair differs by the same amount)")
        result = stats.ttest_rel(x, y)
        interval = result.confidence_interval(confidence_level=confidence)
        return Comparison(difference, float(interval.low), float(interval.high),
                          f"paired t-test (n = {len(d)} pairs by replicate)", float(result.pvalue), True, len(x), len(y))
    x, y = np.array(list(a.values()), float), np.array(list(b.values()), float)
    if len(x) == 0 or len(y) == 0:
        return Comparison(None, None, None, "none (a group has no values)", None, False, len(x), len(y))
    difference = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return Comparison(difference, None, None, f"none (n = {len(x)} and {len(y)}: a test needs 2 or more each)",
                          None, False, len(x), len(y))
    if np.ptp(x) == 0.0 and np.ptp(y) == 0.0:  # both constant: Welch's t is undefined
        return _permutation(x, y, "independent", difference, False, f"exact permutation test (n = {len(x)} and "
                            f"{len(y)}; t undefined: no spread in either group)")
    with warnings.catch_warnings():
        if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
            # one constant group (25 modes in every seed): scipy warns that its variance, exactly 0,
            # "may be unreliable"; for equal values it is exact, and Welch's t only needs one spread
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = stats.ttest_ind(x, y, equal_var=False)
    interval = result.confidence_interval(confidence_level=confidence)
    return Comparison(difference, float(interval.low), float(interval.high),
                      f"Welch's t-test (n = {len(x)} and {len(y)}, unpaired)", float(result.pvalue), False,
                      len(x), len(y))


def _permutation(x: np.ndarray, y: np.ndarray, kind: str, difference: float, paired: bool, name: str) -> Comparison:
    # no spread: a confidence interval cannot be estimated from it (a t interval would be the point
    # itself, claiming a certainty three equal values do not give), so none is reported
    if difference == 0.0:
        return Comparison(0.0, None, None, name, 1.0, paired, len(x), len(y))
    result = stats.permutation_test((x, y), _mean_difference, permutation_type=kind, vectorized=True,
                                    n_resamples=PERMUTATIONS, alternative="two-sided", rng=0)
    return Comparison(difference, None, None, name, float(result.pvalue), paired, len(x), len(y))


def _mean_difference(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values, in the order given (None stays None)."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def fisher(successes_a: int, total_a: int, successes_b: int, total_b: int,
           alternative: str = "two-sided") -> float:
    """Fisher's exact test on a 2×2 table of counts: its p-value."""
    table = [[successes_a, total_a - successes_a], [successes_b, total_b - successes_b]]
    return float(stats.fisher_exact(table, alternative=alternative).pvalue)


def verdict(difference: float | None, p_adjusted: float | None, alpha: float, higher_is_better: bool | None) -> str:
    """``better`` / ``worse`` (the first group against the second, by the metric's declared
    direction), ``differs`` for a metric without one, ``not separated`` when p ≥ α, and ``no test``
    where none could run (a group without values, or fewer than 2 in one)."""
    if p_adjusted is None or difference is None or not math.isfinite(p_adjusted):
        return "no test"
    if p_adjusted >= alpha:
        return "not separated"
    if higher_is_better is None:
        return "differs"
    return "better" if (difference > 0) == higher_is_better else "worse"


@dataclass(frozen=True)
class ClaimTest:
    verdict: str  # "held", "not_held" or "inconclusive"
    reason: str  # the numbers behind it, in words
    effect: float | None  # the difference in the claimed direction (positive: as claimed)
    upper_bound: float | None  # its one-sided (1 − α) upper confidence bound
    p_claimed: float | None  # one-sided p-value in the claimed direction
    p_opposite: float | None
    comparison: Comparison

    def as_dict(self) -> dict:
        return {**asdict(self), "comparison": self.comparison.as_dict()}


def claim_test(a: Mapping[str, float], b: Mapping[str, float], claimed_higher: bool, alpha: float,
               smallest_effect: float) -> ClaimTest:
    """Whether ``a`` is above ``b`` (``claimed_higher``) or below it, as a claim says.

    One-sided p-values come from the two-sided test of ``compare`` (t distributions and the
    sign-flip and label permutations are symmetric under no effect: p/2 on the side the data
    fall, 1 − p/2 on the other). The confidence interval is ``compare``'s at 1 − 2α, whose upper end
    is the one-sided 1 − α bound."""
    c = compare(a, b, confidence=1 - 2 * alpha)
    if c.p_value is None or c.difference is None:
        return ClaimTest("inconclusive", f"no test: {c.test}", None, None, None, None, c)
    sign = 1.0 if claimed_higher else -1.0
    effect = sign * c.difference
    half = c.p_value / 2
    p_claimed, p_opposite = (half, 1 - half) if effect > 0 else (1 - half, half) if effect < 0 else (0.5, 0.5)
    upper = None if c.ci_high is None else sign * c.ci_high if claimed_higher else sign * c.ci_low
    bound = "no interval: no spread" if upper is None else f"one-sided {1 - alpha:.1%} upper bound {upper:.4g}"
    text = f"effect {effect:+.4g} as claimed ({bound}), one-sided p {p_claimed:.3g}, {c.test}, α = {alpha:g}"
    if p_claimed < alpha:
        return ClaimTest("held", text, effect, upper, p_claimed, p_opposite, c)
    if p_opposite < alpha:
        return ClaimTest("not_held", text + ": the data support the opposite", effect, upper, p_claimed, p_opposite, c)
    if upper is not None and upper < smallest_effect:
        return ClaimTest("not_held", text + f": an effect of {smallest_effect:g} or more is ruled out", effect, upper,
                         p_claimed, p_opposite, c)
    return ClaimTest("inconclusive", text + f": neither shown nor ruled out (smallest effect meant: {smallest_effect:g})",
                     effect, upper, p_claimed, p_opposite, c)


def power(n: int, effect_size: float, alpha: float = ALPHA, one_sided: bool = True) -> float:
    """The t-test's power on n paired differences (or one sample) for a true mean difference of
    ``effect_size`` standard deviations: P(reject) under the noncentral t with n − 1 degrees of
    freedom and noncentrality effect_size·√n (scipy.stats.nct)."""
    df = n - 1
    nc = effect_size * math.sqrt(n)
    if one_sided:
        return float(stats.nct.sf(stats.t.ppf(1 - alpha, df), df, nc))
    critical = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc))


def detectable_effect(n: int, alpha: float = ALPHA, target_power: float = 0.8, one_sided: bool = True) -> float:
    """The smallest effect (in standard deviations of the differences) that n replicates detect
    with ``target_power``: the root of power(n, d) = target_power (scipy.optimize.brentq)."""
    from scipy.optimize import brentq

    return float(brentq(lambda d: power(n, d, alpha, one_sided) - target_power, 1e-6, 100.0))


def main(argv: list[str] | None = None) -> None:
    """``python -m gan_cli.statistics --n 3,5,10 --effect 0.5,1,2``: the power table."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gan_cli.statistics",
                                     description="The one-sided paired t-test's power for n seeds and an effect of "
                                                 "d standard deviations of the per-seed differences.")
    parser.add_argument("--n", default="3,5,10,20", help="seed counts (default: 3,5,10,20)")
    parser.add_argument("--effect", default="0.5,1,2", help="effect sizes d (default: 0.5,1,2)")
    parser.add_argument("--alpha", type=float, default=ALPHA)
    args = parser.parse_args(argv)
    counts = [int(v) for v in args.n.split(",")]
    effects = [float(v) for v in args.effect.split(",")]
    print("| seeds | " + " | ".join(f"power at d = {d:g}" for d in effects) + " | d detected with power 0.8 |")
    print("| ---: | " + " | ".join("---:" for _ in effects) + " | ---: |")
    for n in counts:
        print(f"| {n} | " + " | ".join(f"{power(n, d, args.alpha):.2f}" for d in effects)
              + f" | {detectable_effect(n, args.alpha):.2f} |")
    print(f"\none-sided paired t-test at α = {args.alpha:g} (scipy.stats.nct)")


if __name__ == "__main__":
    main()

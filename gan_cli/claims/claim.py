"""What a claim is, what its measurement produced, and how it is run at each size."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELD, NOT_HELD, INCONCLUSIVE = "held", "not_held", "inconclusive"
MODES = ("full", "quick", "smoke")


@dataclass
class Outcome:
    """A claim's measurement: the numbers, the figures (paths relative to the report folder),
    the verdict computed from the numbers and the claim's thresholds, and the reason in words."""

    verdict: str
    reason: str
    numbers: dict[str, Any]
    figures: list[str] = field(default_factory=list)


class Claim:
    """A claim of the articles and the experiment that measures it.

    Subclasses set the class attributes and implement ``outcome(runs, out_dir)``.
    ``sweep`` are the gan-run -m overrides that make the jobs, ``sizes[mode]`` what each size
    adds (the smoke size appends trainer=smoke, as CI does).
    """

    id: str
    statement: str  # quoted from the articles (the original, then in English)
    source: str  # which seed article, and where
    preset: str  # conf/experiment/<preset>.yaml
    thresholds: str  # the rule that gives the verdict, in words
    test: str = "a deterministic threshold on one run's numbers"  # the statistical test behind the verdict
    alpha: float | None = None  # its significance level, where the verdict is a test's
    sweep: tuple[str, ...] = ()
    sizes: dict[str, tuple[str, ...]] = {}

    def overrides(self, mode: str) -> list[str]:
        """The preset, its sweep, then the size's overrides; a size that sets a swept key
        (the smoke size's one seed) replaces that part of the sweep."""
        size = self.sizes.get(mode, ())
        sized = {o.split("=", 1)[0] for o in size}
        return [f"experiment={self.preset}", *(o for o in self.sweep if o.split("=", 1)[0] not in sized), *size]

    def command(self, mode: str) -> str:
        """The command that reproduces this claim's runs, as a user would type it."""
        return shlex.join(["gan-run", "-m", *self.overrides(mode)])

    def outcome(self, runs: Any, out_dir: Path) -> Outcome:
        raise NotImplementedError

    @staticmethod
    def new_figure(rows: int, columns: int, size: tuple[float, float]) -> tuple[Any, Any]:
        """A matplotlib figure and its axes (``plt.subplots``), drawn off-screen: gan-claims
        runs where there is no display."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt.subplots(rows, columns, figsize=size, dpi=100)

    def save_figure(self, fig: Any, out_dir: Path) -> str:
        """``fig`` as ``<id>.png`` in the report folder, then closed (a report draws several);
        the name, as Outcome.figures lists it."""
        import matplotlib.pyplot as plt

        fig.tight_layout()
        name = f"{self.id}.png"
        fig.savefig(out_dir / name)
        plt.close(fig)
        return name


def less_stable_or_worse(worse: str, better: str, diverged: dict[str, int], runs: dict[str, int],
                         values: dict[str, dict[str, float]], metric: str, smallest_effect: float,
                         alpha: float, failed_otherwise: int) -> tuple[str, str, dict]:
    """The rule of a claim that setting ``worse`` trains less well than ``better``: two routes to
    held, each at α/2 (Bonferroni) so that the claim's false-positive rate stays ≤ α:
    ``worse`` diverges more often (one-sided Fisher's exact test), or its final ``metric``
    (lower is better) is higher (gan_cli.statistics.claim_test on the per-seed values).
    not_held when ``better`` diverges more often at α/2, or the metric's data support the
    opposite or rule out ``smallest_effect`` while ``worse`` diverged no more often."""
    from gan_cli.statistics import claim_test, fisher

    each = alpha / 2
    p_worse = fisher(diverged[worse], runs[worse], diverged[better], runs[better], alternative="greater")
    p_better = fisher(diverged[better], runs[better], diverged[worse], runs[worse], alternative="greater")
    test = claim_test(values[worse], values[better], claimed_higher=True, alpha=each, smallest_effect=smallest_effect)
    numbers = {f"fisher_p_{worse}_diverges_more": p_worse, f"fisher_p_{better}_diverges_more": p_better,
               "metric_test": test.as_dict()}
    text = (f"diverged {worse} {diverged[worse]}/{runs[worse]} vs {better} {diverged[better]}/{runs[better]} "
            f"(one-sided Fisher p {p_worse:.3g}); final {metric} {worse} − {better}: {test.reason}")
    if failed_otherwise or min(runs.values()) == 0:
        return INCONCLUSIVE, "a run is missing or failed for a reason other than divergence; " + text, numbers
    if p_worse < each or test.verdict == HELD:
        return HELD, text, numbers
    if p_better < each or (test.verdict == NOT_HELD and diverged[worse] <= diverged[better]):
        return NOT_HELD, text, numbers
    return INCONCLUSIVE, text, numbers

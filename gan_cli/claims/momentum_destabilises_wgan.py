"""Claim: momentum optimizers (Adam) destabilise the clipped WGAN's critic; RMSProp does not."""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import Claim, Outcome, less_stable_or_worse
from gan_cli.claims.runs import RunJob, by_seed, select, status_counts
from gan_cli.statistics import describe

OPTIMIZERS = ("rmsprop", "adam")
ALPHA = 0.05
# two routes to "held" (divergence counts, or a worse final W1), each at α/2 (Bonferroni), so the
# claim's false-positive rate stays ≤ α
EACH = ALPHA / 2
SMALLEST_EFFECT = 0.02  # exact W1 on the ring: "unstable" means a final W1 at least this much worse


def decide(diverged: dict[str, int], runs: dict[str, int], w1: dict[str, dict[str, float]],
           failed_otherwise: int) -> tuple[str, str, dict]:
    """The verdict from the divergence counts and the per-seed final exact W1 of each optimizer."""
    return less_stable_or_worse("adam", "rmsprop", diverged, runs, w1, "exact W1", SMALLEST_EFFECT, ALPHA,
                                failed_otherwise)


class MomentumDestabilisesWgan(Claim):
    id = "momentum_destabilises_wgan"
    statement = ("不要用基于动量的优化算法（包括momentum和Adam），推荐RMSProp，SGD也行 (\"Do not use momentum-based"
                 " optimizers (including momentum and Adam); RMSProp is recommended, SGD works too.\") — the WGAN"
                 " paper, §3: momentum made the critic's training unstable.")
    source = "seed 002 (Wasserstein GAN), the four changes"
    preset = "momentum_destabilises_wgan"
    alpha = ALPHA
    test = ("one-sided Fisher's exact test on divergence counts and one-sided paired t-test by seed on the final "
            "exact W1, each at α/2 (Bonferroni)")
    thresholds = (f"same budget, 5 seeds each ({test}, α = {ALPHA}): held when Adam runs diverge more often (Fisher "
                  f"p < {EACH}) or Adam's final exact W1 is higher (p < {EACH}); not_held when RMSProp runs diverge "
                  f"more often (p < {EACH}), or Adam diverges no more often and the W1 data show the opposite or rule "
                  f"out a rise of {SMALLEST_EFFECT} (one-sided {1 - EACH:.1%} upper bound below it); inconclusive "
                  f"otherwise")
    sizes = {
        "full": (),
        "quick": ("steps=300", "eval_every=100", "eval_samples=1000"),
        "smoke": ("trainer=smoke", "seed=0"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        counts = {name: status_counts(select(runs, optim=name)) for name in OPTIMIZERS}
        w1 = {name: by_seed(select(runs, optim=name), "eval/wasserstein_exact") for name in OPTIMIZERS}
        verdict, reason, tests = decide({n: counts[n]["diverged"] for n in OPTIMIZERS},
                                        {n: counts[n]["runs"] for n in OPTIMIZERS}, w1,
                                        sum(counts[n]["failed_otherwise"] for n in OPTIMIZERS))
        numbers = {name: {**counts[name], "final_wasserstein_exact": describe(list(w1[name].values())).as_dict(),
                          "values": w1[name]} for name in OPTIMIZERS}
        numbers["tests"] = tests
        return Outcome(verdict, reason, numbers, [self.figure(numbers, out_dir)])

    def figure(self, numbers, out_dir: Path) -> str:
        fig, ax = self.new_figure(1, 1, (5, 3.6))
        for x, name in enumerate(OPTIMIZERS):
            values = list(numbers[name]["values"].values())
            ax.plot([x] * len(values), values, "o", alpha=0.7)
            stats = numbers[name]["final_wasserstein_exact"]
            if stats["mean"] is not None:
                ax.errorbar(x + 0.1, stats["mean"], yerr=stats["se"] or 0.0, fmt="s", color="black", capsize=4)
            ax.annotate(f"{numbers[name]['diverged']} diverged", (x, 0), xycoords=("data", "axes fraction"),
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(OPTIMIZERS)), OPTIMIZERS)
        ax.set_ylabel("final eval/wasserstein_exact")
        ax.set_title("Clipped WGAN: RMSProp vs Adam (seed 002)", fontsize=10)
        return self.save_figure(fig, out_dir)

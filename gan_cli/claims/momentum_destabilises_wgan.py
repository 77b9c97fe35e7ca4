"""Claim: momentum optimizers (Adam) destabilise the clipped WGAN's critic; RMSProp does not."""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.runs import RunJob, final_values, select, status_counts
from gan_cli.claims.stats import difference, mean_se

OPTIMIZERS = ("rmsprop", "adam")
SIGNIFICANT = 2.0


class MomentumDestabilisesWgan(Claim):
    id = "momentum_destabilises_wgan"
    statement = ("不要用基于动量的优化算法（包括momentum和Adam），推荐RMSProp，SGD也行 (\"Do not use momentum-based"
                 " optimizers (including momentum and Adam); RMSProp is recommended, SGD works too.\") — the WGAN"
                 " paper, §3: momentum made the critic's training unstable.")
    source = "seed 002 (Wasserstein GAN), the four changes"
    preset = "momentum_destabilises_wgan"
    thresholds = (f"same budget, 3 seeds each: held when Adam runs diverge more often than RMSProp runs, or "
                  f"Adam's final exact W1 exceeds RMSProp's by more than {SIGNIFICANT} standard errors of the "
                  f"difference; not_held when Adam diverges no more often and its mean final W1 is not above "
                  f"RMSProp's; inconclusive otherwise")
    sizes = {
        "full": (),
        "quick": ("steps=300", "eval_every=100", "eval_samples=1000"),
        "smoke": ("trainer=smoke", "seed=0"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        numbers: dict = {}
        for name in OPTIMIZERS:
            found = select(runs, optim=name)
            w1 = final_values([r for r in found if r.status == "completed"], "eval/wasserstein_exact")
            numbers[name] = {**status_counts(found), "final_wasserstein_exact": mean_se(w1), "values": w1}
        gap, se = difference(numbers["adam"]["final_wasserstein_exact"], numbers["rmsprop"]["final_wasserstein_exact"])
        numbers["w1_difference_adam_minus_rmsprop"], numbers["difference_se"] = gap, se
        figure = self.figure(numbers, out_dir)
        if any(numbers[n]["runs"] == 0 or numbers[n]["failed_otherwise"] for n in OPTIMIZERS):
            return Outcome(INCONCLUSIVE, "a run is missing or failed for a reason other than divergence",
                           numbers, [figure])
        more_divergence = numbers["adam"]["diverged"] > numbers["rmsprop"]["diverged"]
        text = (f"diverged: adam {numbers['adam']['diverged']}/{numbers['adam']['runs']}, rmsprop "
                f"{numbers['rmsprop']['diverged']}/{numbers['rmsprop']['runs']}")
        if gap is not None:
            text += f"; final W1 adam − rmsprop = {gap:+.4f} ± {se or 0:.4f}"
        if more_divergence or (gap is not None and se is not None and gap > SIGNIFICANT * se):
            return Outcome(HELD, text, numbers, [figure])
        if gap is not None and gap <= 0:
            return Outcome(NOT_HELD, text + ": Adam no less stable and no worse", numbers, [figure])
        return Outcome(INCONCLUSIVE, text, numbers, [figure])

    def figure(self, numbers, out_dir: Path) -> str:
        fig, ax = self.new_figure(1, 1, (5, 3.6))
        for x, name in enumerate(OPTIMIZERS):
            values = numbers[name]["values"]
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

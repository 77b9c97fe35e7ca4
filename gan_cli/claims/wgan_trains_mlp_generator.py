"""Claim: WGAN needs no carefully designed architecture; a plain MLP generator learns digits.

The runs are experiment=mlp_generator_images: the reference code's MLP G and D (3 × 512 ReLU,
no batch norm) on MNIST digits, trained as a GAN and as a WGAN with the same data, networks,
optimizer (RMSProp 5e-5) and number of generator updates. The quality measure is the final
eval/fid on the digit classifier's features (docs/evaluation.md): lower is better.
"""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import Claim, Outcome, less_stable_or_worse
from gan_cli.claims.runs import RunJob, by_seed, select, status_counts
from gan_cli.statistics import describe

LOSSES = ("gan", "wgan")
METRICS = ("eval/fid", "eval/precision", "eval/recall")
ALPHA = 0.05
EACH = ALPHA / 2  # two routes to "held" (the GAN diverges more, or its FID is higher), each at α/2
SMALLEST_EFFECT = 50.0  # FID on the digit classifier's features: the claim means a clearly better generator


def decide(diverged: dict[str, int], runs: dict[str, int], fid: dict[str, dict[str, float]],
           failed_otherwise: int) -> tuple[str, str, dict]:
    """The verdict from the divergence counts and the per-seed final FID of each loss."""
    return less_stable_or_worse("gan", "wgan", diverged, runs, fid, "FID", SMALLEST_EFFECT, ALPHA, failed_otherwise)


class WganTrainsMlpGenerator(Claim):
    id = "wgan_trains_mlp_generator"
    statement = ("以上一切好处不需要精心设计的网络架构，最简单的多层全连接网络就可以做到 (\"All of the above needs no"
                 " carefully designed network architecture: the simplest multilayer fully connected network can"
                 " do it.\") — the WGAN paper's MLP generator without batch norm learns images where the"
                 " standard GAN's does not.")
    source = "seed 002 (Wasserstein GAN), the benefits of WGAN; the paper's §4.3 and Figure 6"
    preset = "mlp_generator_images"
    sweep = ("loss=gan,wgan", "seed=0,1,2,3,4")
    alpha = ALPHA
    test = ("one-sided Fisher's exact test on divergence counts and one-sided paired t-test by seed on the final "
            "FID, each at α/2 (Bonferroni)")
    thresholds = (f"MNIST digits, an MLP G and D without batch norm, the same generator updates for both losses, "
                  f"final FID on the digit classifier's features, 5 seeds ({test}, α = {ALPHA}): held when more gan "
                  f"runs diverge (p < {EACH}) or gan's FID is higher (p < {EACH}); not_held when more wgan runs "
                  f"diverge (p < {EACH}), or the FID data show the opposite or rule out a gap of {SMALLEST_EFFECT:g} "
                  f"while gan diverged no more often; inconclusive otherwise")
    sizes = {
        "full": ("steps=2000", "eval_every=500"),
        "quick": ("steps=300", "eval_every=300", "seed=0,1,2"),
        "smoke": ("trainer=smoke", "seed=0"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        counts = {loss: status_counts(select(runs, loss=loss)) for loss in LOSSES}
        values = {loss: {metric: by_seed(select(runs, loss=loss), metric) for metric in METRICS} for loss in LOSSES}
        verdict, reason, tests = decide({n: counts[n]["diverged"] for n in LOSSES}, {n: counts[n]["runs"] for n in LOSSES},
                                        {loss: values[loss]["eval/fid"] for loss in LOSSES},
                                        sum(counts[n]["failed_otherwise"] for n in LOSSES))
        numbers: dict = {loss: {**counts[loss], **{m: describe(list(values[loss][m].values())).as_dict() for m in METRICS},
                                "fid_values": values[loss]["eval/fid"]} for loss in LOSSES}
        numbers["tests"] = tests
        numbers["steps"] = sorted({int(r.summary.get("steps", 0)) for r in runs})
        numbers["features"] = sorted({str((r.summary.get("eval_provenance") or {}).get("extractor")) for r in runs})
        return Outcome(verdict, reason, numbers, [self.figure(runs, numbers, out_dir)])

    def figure(self, runs: list[RunJob], numbers: dict, out_dir: Path) -> str:
        """Final FID per loss (each seed a dot), FID over training, and seed 0's last sample grid per loss."""
        import matplotlib.image as mpimg

        fig, axes = self.new_figure(1, 4, (15, 3.8))
        colors = {"gan": "tab:blue", "wgan": "tab:green"}
        for i, loss in enumerate(LOSSES):
            values = list(numbers[loss]["fid_values"].values())
            axes[0].scatter([i] * len(values), values, color=colors[loss])
            if values:
                axes[0].hlines(sum(values) / len(values), i - 0.25, i + 0.25, color=colors[loss])
            for run in select(runs, loss=loss):
                curve = run.scalars("eval/fid")
                if curve:
                    axes[1].plot(*zip(*curve), color=colors[loss], alpha=0.7, marker="o", markersize=3,
                                 label=loss if run.overrides.get("seed") == "0" else None)
        axes[0].set_xticks(range(len(LOSSES)), LOSSES)
        axes[0].set_title("final eval/fid per seed (bar: mean)", fontsize=9)
        axes[1].set_title("eval/fid over generator steps", fontsize=9)
        axes[1].set_yscale("log")
        if axes[1].get_legend_handles_labels()[0]:
            axes[1].legend(fontsize=8)
        for ax, loss in zip(axes[2:], LOSSES):
            ax.axis("off")
            grids = [sorted((r.folder / "figures").glob("step_*.png")) for r in select(runs, loss=loss, seed="0")]
            if grids and grids[0]:
                ax.imshow(mpimg.imread(grids[0][-1]), cmap="gray")
                ax.set_title(f"{loss}, seed 0: {grids[0][-1].stem}", fontsize=9)
            else:
                ax.set_title(f"{loss}, seed 0: no sample grid", fontsize=9)
        fig.suptitle("An MLP generator without batch norm on MNIST digits (seed 002)", fontsize=10)
        return self.save_figure(fig, out_dir)

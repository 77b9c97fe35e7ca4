"""Claim: WGAN needs no carefully designed architecture; a plain MLP generator learns digits.

The runs are experiment=mlp_generator_images: the reference code's MLP G and D (3 × 512 ReLU,
no batch norm) on MNIST digits, trained as a GAN and as a WGAN with the same data, networks,
optimizer (RMSProp 5e-5) and number of generator updates. The quality measure is the final
eval/fid on the digit classifier's features (docs/evaluation.md): lower is better.
"""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.runs import RunJob, final_values, select, status_counts
from gan_cli.claims.stats import difference, mean_se

LOSSES = ("gan", "wgan")
METRICS = ("eval/fid", "eval/precision", "eval/recall")
MIN_SEEDS = 2
SIGNIFICANT = 2.0  # standard errors of the difference


class WganTrainsMlpGenerator(Claim):
    id = "wgan_trains_mlp_generator"
    statement = ("以上一切好处不需要精心设计的网络架构，最简单的多层全连接网络就可以做到 (\"All of the above needs no"
                 " carefully designed network architecture: the simplest multilayer fully connected network can"
                 " do it.\") — the WGAN paper's MLP generator without batch norm learns images where the"
                 " standard GAN's does not.")
    source = "seed 002 (Wasserstein GAN), the benefits of WGAN; the paper's §4.3 and Figure 6"
    preset = "mlp_generator_images"
    sweep = ("loss=gan,wgan", "seed=0,1,2")
    thresholds = (f"MNIST digits, an MLP G and D without batch norm, the same generator updates for both losses, "
                  f"final FID on the digit classifier's features, ≥ {MIN_SEEDS} seeds: held when every wgan run "
                  f"finished and either more gan runs diverged or gan's mean FID exceeds wgan's by more than "
                  f"{SIGNIFICANT} standard errors of the difference; not_held when a wgan run diverged and no gan "
                  f"run did, or wgan's mean FID is not below gan's; inconclusive in between")
    sizes = {
        "full": ("steps=2000", "eval_every=500"),
        "quick": ("steps=300", "eval_every=300", "seed=0,1"),
        "smoke": ("trainer=smoke", "seed=0"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        numbers: dict = {}
        for loss in LOSSES:
            found = select(runs, loss=loss)
            done = [r for r in found if r.status == "completed"]
            numbers[loss] = {**status_counts(found),
                             **{metric: mean_se(final_values(done, metric)) for metric in METRICS},
                             "fid_values": final_values(done, "eval/fid")}
        gap, se = difference(numbers["gan"]["eval/fid"], numbers["wgan"]["eval/fid"])
        numbers["fid_difference_gan_minus_wgan"], numbers["difference_se"] = gap, se
        numbers["steps"] = sorted({int(r.summary.get("steps", 0)) for r in runs})
        numbers["features"] = sorted({str((r.summary.get("eval_provenance") or {}).get("extractor")) for r in runs})
        figure = self.figure(runs, numbers, out_dir)
        gan, wgan = numbers["gan"], numbers["wgan"]
        if any(numbers[loss]["runs"] == 0 or numbers[loss]["failed_otherwise"] for loss in LOSSES):
            return Outcome(INCONCLUSIVE, "a loss has no runs, or a run failed for a reason other than divergence",
                           numbers, [figure])
        text = f"diverged: gan {gan['diverged']}/{gan['runs']}, wgan {wgan['diverged']}/{wgan['runs']}"
        if gap is not None:
            text += (f"; final FID gan {gan['eval/fid']['mean']:.1f} vs wgan {wgan['eval/fid']['mean']:.1f}, "
                     f"difference {gap:+.1f} ± {se or 0:.1f}")
        if wgan["diverged"] and not gan["diverged"]:
            return Outcome(NOT_HELD, text + ": the WGAN diverged where the GAN did not", numbers, [figure])
        if not wgan["diverged"] and gan["diverged"] > wgan["diverged"]:
            return Outcome(HELD, text, numbers, [figure])
        if min(gan["eval/fid"]["n"], wgan["eval/fid"]["n"]) < MIN_SEEDS or gap is None:
            return Outcome(INCONCLUSIVE, text + f": fewer than {MIN_SEEDS} finished seeds per loss", numbers, [figure])
        if se is not None and gap > SIGNIFICANT * se and (se > 0 or gap > 0):
            return Outcome(HELD, text, numbers, [figure])
        if gap <= 0:
            return Outcome(NOT_HELD, text + ": the WGAN's samples are no closer to the digits", numbers, [figure])
        return Outcome(INCONCLUSIVE, text + f": within {SIGNIFICANT} standard errors", numbers, [figure])

    def figure(self, runs: list[RunJob], numbers: dict, out_dir: Path) -> str:
        """Final FID per loss (each seed a dot), FID over training, and seed 0's last sample grid per loss."""
        import matplotlib.image as mpimg

        fig, axes = self.new_figure(1, 4, (15, 3.8))
        colors = {"gan": "tab:blue", "wgan": "tab:green"}
        for i, loss in enumerate(LOSSES):
            values = numbers[loss]["fid_values"]
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

"""Claim: the WGAN critic's loss tracks sample quality; the GAN's D loss does not."""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.runs import RunJob, select

RHO = 0.8  # Spearman ρ(estimate on the evaluation set, exact W1) for a WGAN loss to hold
MIN_POINTS = 5  # fewer evaluations than this: a rank correlation says nothing
CURVE = {"wgan": "eval/wasserstein_estimate", "wgan_gp": "eval/wasserstein_estimate", "gan": "eval/discriminator_loss"}


def paired(run: RunJob, tag: str) -> list[tuple[int, float, float]]:
    """(step, value of ``tag``, eval/wasserstein_exact) at every evaluation: both come from the
    same evaluation samples (gan_cli.evaluation.during_training)."""
    exact = dict(run.scalars("eval/wasserstein_exact"))
    return [(s, v, exact[s]) for s, v in run.scalars(tag) if s in exact]


def spearman(points: list[tuple[int, float, float]]) -> float | None:
    if len(points) < 3:
        return None
    from scipy.stats import spearmanr

    rho = float(spearmanr([p[1] for p in points], [p[2] for p in points]).statistic)
    return rho if rho == rho else None


class WganLossTracksQuality(Claim):
    id = "wgan_loss_tracks_quality"
    statement = ("训练过程中终于有一个像交叉熵、准确率这样的数值来指示训练的进程，这个数值越小代表GAN训练得越好，代表生成器产生的图像质量越高"
                 " (\"At last there is a number, like cross-entropy or accuracy, that indicates training progress:"
                 " the smaller it is, the better the GAN is trained and the higher the quality of the generator's"
                 " images.\") — against the GAN, whose 判别器的loss无法指示训练进程 (\"losses cannot indicate training"
                 " progress\").")
    source = "seed 002 (Wasserstein GAN), introduction"
    preset = "wgan_paper"
    sweep = ("loss=wgan,wgan_gp,gan",)
    thresholds = (f"for each WGAN loss, Spearman ρ between eval/wasserstein_estimate (critic on the evaluation "
                  f"samples) and eval/wasserstein_exact (same samples) over the evaluations; held when ρ ≥ {RHO} "
                  f"for both wgan and wgan_gp, not_held when either is below, inconclusive with fewer than "
                  f"{MIN_POINTS} evaluations or a failed run. The GAN's ρ(eval/discriminator_loss, W1) is the "
                  f"contrast and does not enter the verdict")
    sizes = {
        "full": ("steps=5000", "eval_every=250"),
        "quick": ("steps=600", "eval_every=60", "eval_samples=1000"),
        "smoke": ("trainer=smoke", "steps=12", "eval_every=2"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        series = {}
        for loss, tag in CURVE.items():
            found = [r for r in select(runs, loss=loss) if r.status == "completed"]
            series[loss] = paired(found[0], tag) if found else []
        floor = self.floor(runs)
        numbers: dict = {"spearman": {loss: spearman(points) for loss, points in series.items()},
                         "evaluations": {loss: len(points) for loss, points in series.items()},
                         "final_wasserstein_exact": {loss: points[-1][2] for loss, points in series.items() if points},
                         "w1_floor": floor}
        figure = self.figure(series, numbers["w1_floor"], out_dir)
        wgans = {loss: numbers["spearman"][loss] for loss in ("wgan", "wgan_gp")}
        if any(len(series[loss]) < MIN_POINTS for loss in wgans) or None in wgans.values():
            return Outcome(INCONCLUSIVE, f"a WGAN run failed or has fewer than {MIN_POINTS} evaluations",
                           numbers, [figure])
        text = ", ".join(f"ρ({loss}) = {rho:.3f}" for loss, rho in wgans.items())
        gan_rho = numbers["spearman"]["gan"]
        contrast = f"; GAN D loss ρ = {gan_rho:.3f}" if gan_rho is not None else ""
        if all(rho >= RHO for rho in wgans.values()):
            return Outcome(HELD, f"{text}, all ≥ {RHO}{contrast}", numbers, [figure])
        below = [loss for loss, rho in wgans.items() if rho < RHO]
        return Outcome(NOT_HELD, f"{text}: below {RHO} for {', '.join(below)}{contrast}", numbers, [figure])

    @staticmethod
    def floor(runs: list[RunJob]) -> dict | None:
        """W1 between two independent real samples of the run's eval_samples points (gan_cli.evaluation.w1_floor)."""
        import yaml

        from gan_cli.evaluation.w1_floor import floor_of_config

        for run in runs:
            config_path = run.folder / ".hydra" / "config.yaml"
            if config_path.exists():
                config = yaml.safe_load(config_path.read_text())
                return floor_of_config(config["dataset"], int(config["eval_samples"]))
        return None

    def figure(self, series, floor, out_dir: Path) -> str:
        fig, axes = self.new_figure(1, 3, (14, 4))
        for ax, (loss, points) in zip(axes, series.items()):
            steps = [p[0] for p in points]
            ax.plot(steps, [p[2] for p in points], color="black", label="eval/wasserstein_exact")
            if floor:
                ax.axhspan(floor["mean"] - floor["std"], floor["mean"] + floor["std"], color="grey", alpha=0.3,
                           label=f"W1 floor ({floor['num_samples']} vs {floor['num_samples']} real points)")
            ax.set_xlabel("generator step")
            ax.set_ylabel("exact W1")
            twin = ax.twinx()
            twin.plot(steps, [p[1] for p in points], color="tab:red", marker=".", label=CURVE[loss])
            twin.set_ylabel(CURVE[loss], color="tab:red")
            ax.set_title(loss, fontsize=10)
            lines = ax.get_legend_handles_labels()
            more = twin.get_legend_handles_labels()
            ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7)
        fig.suptitle("Does the loss track sample quality? (seed 002)", fontsize=10)
        return self.save_figure(fig, out_dir)

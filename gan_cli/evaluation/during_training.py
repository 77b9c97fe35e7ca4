"""Evaluation during training: protocol metrics under ``eval/`` and figures, from fixed noise.

Every ``every_n_steps`` generator updates and at the end of training, the generator is run on
the same ``num_samples`` latent vectors (fixed noise, so successive figures show the same
points moving) and compared with as many fresh real samples:

- ``eval/modes``, ``eval/high_quality_pct``, ``eval/mode_kl``: mode coverage on Gaussian-mixture
  data (ring, grid), the PacGAN/VEEGAN protocol of THEORY.md §4;
- ``eval/wasserstein_exact``: the exact W1 distance between the two sample sets (1-D and 2-D data);
- ``eval/precision``, ``eval/recall``, ``eval/density``, ``eval/coverage`` (Naeem et al. 2020) on
  the raw coordinates of 1-D and 2-D data, and, with FID and KID, on image features
  (``gan_cli.evaluation.image_evaluation``, given as ``image_evaluator``);
- ``eval/critic_lipschitz``: the largest ‖∇ₓf‖ over those samples and their interpolates (lipschitz.py);
- a figure of samples over the D/critic output (1-D and 2-D data), or a grid of 64 generated
  images (image data), as the TensorBoard image ``samples`` and a PNG in ``figures/``.

The random draws happen inside ``curves.measurement_rng`` (a forked random state), so evaluating does not change the
training trajectory: a run with evaluation trains the same weights as one without.
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback

from gan_cli.training.curves import measurement_rng
from gan_cli.data.toy import GaussianMixture
from gan_cli.evaluation.directions import higher_is_better
from gan_cli.training.guards import check_finite
from gan_cli.evaluation.image_floor import floor_tags
from gan_cli.evaluation.image_metrics import PRDC_K, prdc
from gan_cli.evaluation.lipschitz import critic_lipschitz
from gan_cli.evaluation.metrics import mode_coverage, wasserstein_exact
from gan_cli.training.loop import write_to_loggers
from gan_cli.evaluation.generate import generate


CORRELATION_TAG = "correlation/spearman_wasserstein_estimate_vs_exact"


class Evaluation(Callback):
    def __init__(self, every_n_steps: int, num_samples: int = 2500, figures_dir: str | Path | None = None,
                 seed: int = 12345, figures_every_n_steps: int | None = None, image_evaluator=None) -> None:
        self.every_n_steps = int(every_n_steps)
        # figures (and image grids) alone, between evaluations: they cost less than the metrics
        self.figures_every_n_steps = int(every_n_steps if figures_every_n_steps is None else figures_every_n_steps)
        self.num_samples = int(num_samples)
        self.figures_dir = Path(figures_dir) if figures_dir else None
        self.seed = int(seed)
        self.grid_size = 64  # images per sample grid (8 × 8)
        self._pairs: list[tuple[float, float]] = []  # (critic/wasserstein_estimate, eval/wasserstein_exact)
        self._evaluated_at: int | None = None  # the step of the last metrics
        self._drawn_at: int | None = None  # the step of the last figures
        self.best: dict[str, float] = {}
        self.image_evaluator = image_evaluator  # FID, KID, PRDC on image features (None: toy data)

    @property
    def provenance(self) -> dict:
        """What the feature metrics were computed on, for summary.json."""
        if self.image_evaluator is not None:
            return self.image_evaluator.provenance
        return {"extractor": "raw coordinates", "prdc_k": PRDC_K, "samples": self.num_samples}

    @property
    def chart_tags(self) -> tuple[str, ...]:
        """Tags that start a chart of tensorboard_layout.CHARTS (the image metrics beside their floor)."""
        return ("eval/fid", "eval/kid_mean", "eval/precision", "eval/density") if self.image_evaluator else ()

    @property
    def floor(self) -> dict | None:
        """The image metrics' real-versus-real floor (gan_cli.evaluation.image_floor), for summary.json."""
        return self.image_evaluator.floor if self.image_evaluator is not None else None

    @property
    def step_periods(self) -> tuple[int, ...]:
        """Generator steps at whose multiples a Lightning batch must end (gan_cli.training.loop.StepPeriodic)."""
        return (self.every_n_steps, self.figures_every_n_steps)

    def _draw(self, pl_module: pl.LightningModule):
        with measurement_rng(pl_module.device):
            torch.manual_seed(self.seed)
            z = pl_module.sample_noise(self.num_samples)  # the same z at every evaluation
            torch.manual_seed(self.seed + 1 + pl_module.generator_step)
            real = pl_module.dataset.sample(self.num_samples, device=pl_module.device)
        fake = generate(pl_module.sampling_generator, z, pl_module.batch_size)
        return real.float(), fake

    def metrics(self, pl_module: pl.LightningModule, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        dataset = pl_module.dataset
        out: dict[str, float] = {}
        if isinstance(dataset, GaussianMixture) and len(dataset.centres) > 1:
            coverage = mode_coverage(fake.cpu(), dataset.centres, dataset.std)
            out.update({f"eval/{k}": float(v) for k, v in coverage.items()})
        if real.shape[1] <= 2:
            out["eval/wasserstein_exact"] = wasserstein_exact(real.cpu(), fake.cpu())
            out.update({f"eval/{k}": v for k, v in prdc(real.cpu(), fake.cpu()).items()})
        if self.image_evaluator is not None:
            out.update(self.image_evaluator(fake))
        out["eval/critic_lipschitz"] = critic_lipschitz(pl_module.discriminator, real, fake, pl_module.batch_size,
                                                        seed=self.seed)
        out.update(self.discriminator_on_eval_set(pl_module, real, fake))
        return out

    @torch.no_grad()
    def discriminator_on_eval_set(self, pl_module: pl.LightningModule, real: torch.Tensor,
                                  fake: torch.Tensor) -> dict[str, float]:
        """D/critic on the evaluation samples, the same ones eval/wasserstein_exact compares.

        A critic's ``eval/wasserstein_estimate`` = E f(x) - E f(G(z)) (W1 up to f's Lipschitz
        constant); a discriminator's ``eval/discriminator_loss`` = its objective L_D, the
        contrast the WGAN paper draws. Unlike the training curves, these come from thousands
        of fixed-noise samples, not the last batch.
        """
        n = len(real) - len(real) % getattr(pl_module.discriminator, "pack", 1)  # whole packs (model=pacgan)
        real_scores = pl_module.discriminator(real[:n].to(pl_module.device))
        fake_scores = pl_module.discriminator(fake[:n].to(pl_module.device))
        if pl_module.loss.role == "critic":
            return {"eval/wasserstein_estimate": float(real_scores.mean() - fake_scores.mean())}
        return {"eval/discriminator_loss": float(pl_module.loss.discriminator_objective(real_scores, fake_scores))}

    def track_correlation(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                          metrics: dict[str, float]) -> dict[str, float]:
        """The WGAN claim that the critic's loss tracks sample quality, as one number: the
        Spearman rank correlation, over the evaluations so far, between the critic's estimate
        on the evaluation set ``eval/wasserstein_estimate`` and ``eval/wasserstein_exact``.
        Rank-based, because the estimate is W1 only up to the critic's Lipschitz constant K.
        (Not the last training batch's estimate: it spreads 25-400 % of its mean.)"""
        estimate = metrics.get("eval/wasserstein_estimate")
        if estimate is None or "eval/wasserstein_exact" not in metrics:
            return {}
        self._pairs.append((float(estimate), metrics["eval/wasserstein_exact"]))
        if len(self._pairs) < 3:
            return {}
        from scipy.stats import spearmanr

        rho = spearmanr(*zip(*self._pairs)).statistic
        return {CORRELATION_TAG: float(rho)} if rho == rho else {}  # NaN when a series is constant

    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule, metrics: bool = True) -> None:
        step = pl_module.generator_step
        # each at most once per step (the last step is also evaluated at the end of training)
        metrics, figures = metrics and self._evaluated_at != step, self._drawn_at != step
        if not (metrics or figures):
            return
        if metrics:
            self._evaluated_at = step
        self._drawn_at = step
        if not trainer.is_global_zero:
            return
        # eval mode: batch-norm layers use their running statistics and, above all, do not
        # update them from the evaluation batches, so evaluating leaves the model untouched
        networks = (pl_module.generator, pl_module.sampling_generator, pl_module.discriminator)
        modes = [net.training for net in networks]
        for net in networks:
            net.eval()
        try:
            self._evaluate(trainer, pl_module, step, metrics, figures)
        finally:
            for net, mode in zip(networks, modes):
                net.train(mode)

    def _evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int, with_metrics: bool,
                  with_figures: bool) -> None:
        real, fake = self._draw(pl_module)
        check_finite(step, {"generator output": fake})  # the metrics would fail on NaN samples
        if with_metrics:
            self._log_metrics(trainer, pl_module, real, fake, step)
        if not with_figures:
            return
        if self.figures_dir is not None and real.shape[1] <= 2:
            self.figure(trainer, pl_module, real, fake, step)
        image_shape = getattr(pl_module.dataset, "image_shape", None)
        if self.figures_dir is not None and image_shape is not None:
            self.sample_grid(trainer, fake[:self.grid_size], image_shape, step)

    def _log_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule, real, fake, step: int) -> None:
        metrics = self.metrics(pl_module, real, fake)
        write_to_loggers(trainer.loggers, metrics, step)
        if self.image_evaluator is not None:  # the floor as a constant line beside each image metric
            write_to_loggers(trainer.loggers, floor_tags(self.image_evaluator.floor), step)
        for tag, value in metrics.items():
            if higher_is_better(tag) is None:  # a property of the critic: no best/ value
                continue
            better = max if higher_is_better(tag) else min
            self.best[tag] = better(self.best.get(tag, value), value)
        metrics.update(self.track_correlation(trainer, pl_module, metrics))
        # the run summary reads these, also from spawned DDP workers
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in metrics.items()})
        trainer.callback_metrics.update({f"best/{k}": torch.tensor(v) for k, v in self.best.items()})

    def sample_grid(self, trainer, fake, image_shape, step: int) -> None:
        """Generated images from the fixed noise: the same latent vectors at every evaluation."""
        from gan_cli.evaluation import figures

        grid = figures.image_grid(fake, image_shape)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        figures.save_image(grid, self.figures_dir / f"step_{step:06d}.png")
        for logger in trainer.loggers:
            if isinstance(logger, pl.loggers.TensorBoardLogger):
                logger.experiment.add_image("samples", grid, global_step=step, dataformats="HWC")

    def figure(self, trainer, pl_module, real, fake, step: int) -> None:
        import matplotlib.pyplot as plt

        from gan_cli.evaluation import figures

        loss = pl_module.loss
        title = f"{type(loss).__name__}, generator step {step}"
        draw = figures.samples_over_critic if real.shape[1] == 2 else figures.densities_1d
        fig = draw(real, fake, pl_module.discriminator, loss.discriminator_output, loss.output_label, title)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        fig.savefig(self.figures_dir / f"step_{step:06d}.png")
        for logger in trainer.loggers:
            if isinstance(logger, pl.loggers.TensorBoardLogger):
                logger.experiment.add_figure("samples", fig, global_step=step, close=False)
        plt.close(fig)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = pl_module.generator_step
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self.evaluate(trainer, pl_module)
        elif self.figures_every_n_steps > 0 and step % self.figures_every_n_steps == 0:
            self.evaluate(trainer, pl_module, metrics=False)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.evaluate(trainer, pl_module)

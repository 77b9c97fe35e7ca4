"""The TensorBoard charts that tell a run's story, as a custom-scalars layout written with it.

The seed articles argue by comparison (THEORY.md): D(x) against D(G(z)), the JS estimate
saturating at log 2 (formula 1), the critic's estimate against the exact W1, the generator's
gradient against the discriminator's. One chart per tag hides each of these; the
CUSTOM SCALARS tab of TensorBoard draws each pair in one chart, from the layout below.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

LOG_2 = math.log(2)
LOG_2_TAG = "reference/log_2"

#: chart title → the tags drawn together (regular expressions, as the plugin reads them).
#: A chart is written when the run logs the first of its tags.
CHARTS = {
    "D(x) vs D(G(z))": [r"(discriminator|critic)/real_score", r"(discriminator|critic)/fake_score"],
    "JS estimate vs log 2": ["discriminator/js_estimate", LOG_2_TAG],
    "critic estimate vs exact W1": ["critic/wasserstein_estimate", "eval/wasserstein_exact"],
    "gradient norms: G vs D": ["grad_norm/generator", "grad_norm/discriminator"],
    # image metrics beside their real-versus-real floor (gan_cli.image_floor): a value at its
    # floor is as close to the data as two real sets are
    "FID vs real-vs-real floor": ["eval/fid", "reference/fid_floor"],
    "KID vs real-vs-real floor": ["eval/kid_mean", "reference/kid_mean_floor"],
    "precision, recall vs floor": [r"eval/(precision|recall)", r"reference/(precision|recall)_floor"],
    "density, coverage vs floor": [r"eval/(density|coverage)", r"reference/(density|coverage)_floor"],
}
CATEGORY = "gan-run: comparisons"


def charts_for(tags: list[str]) -> dict[str, list[str]]:
    """The CHARTS whose first tag the run logs (``tags``: the module's metric tags)."""
    import re

    return {title: chart for title, chart in CHARTS.items() if any(re.fullmatch(chart[0], t) for t in tags)}


def layout(tags: list[str]) -> dict[str, dict[str, list]]:
    """The layout of a run logging ``tags``, in SummaryWriter.add_custom_scalars' form."""
    return {CATEGORY: {title: ["Multiline", chart] for title, chart in charts_for(tags).items()}}


class StoryLayout(Callback):
    """Writes the layout into the run's TensorBoard event files when training starts, and the
    log 2 line (a constant at the first and last generator step) where the JS estimate is logged."""

    def _writers(self, trainer: pl.Trainer):
        if not trainer.is_global_zero:
            return []
        return [lg.experiment for lg in trainer.loggers if isinstance(lg, pl.loggers.TensorBoardLogger)]

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # the per-step curves, and the evaluation's tags that charts start from (eval/fid on images)
        tags = pl_module.metric_tags() + [t for cb in trainer.callbacks for t in getattr(cb, "chart_tags", ())]
        for writer in self._writers(trainer):
            writer.add_custom_scalars(layout(tags))
        self._log_2(trainer, pl_module, tags)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._log_2(trainer, pl_module, pl_module.metric_tags())

    def _log_2(self, trainer: pl.Trainer, pl_module: pl.LightningModule, tags: list[str]) -> None:
        if "discriminator/js_estimate" in tags:
            for writer in self._writers(trainer):
                writer.add_scalar(LOG_2_TAG, LOG_2, pl_module.generator_step)

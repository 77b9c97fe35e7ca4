"""Callbacks: a progress bar counted in generator steps, and an atomic ``last.ckpt``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import _update_n


class GeneratorStepProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, but counting generator updates out of ``steps``.

    The stock bar counts batches of an epoch; our one "epoch" has no length (GeneratorSteps)
    and may be resumed part-way, so the bar reads the module's generator step instead.
    """

    @property
    def train_description(self) -> str:
        return "generator step"

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # not super(): the stock bar would first draw itself as "Epoch N" with no total
        if self._leave:
            self.train_progress_bar = self.init_train_tqdm()
        bar = self.train_progress_bar
        bar.reset(total=pl_module.steps)
        bar.initial = bar.n = pl_module.generator_step
        bar.set_description(self.train_description)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        n = pl_module.generator_step
        if self._should_update(n, self.train_progress_bar.total):
            _update_n(self.train_progress_bar, n)
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        """The D/critic loss and the G loss, read from what the module logged."""
        logged = trainer.callback_metrics
        shown = {"d_loss": logged.get(f"{pl_module.loss.role}/loss"), "g_loss": logged.get("generator/loss")}
        return {name: f"{float(value):.4g}" for name, value in shown.items() if value is not None}


class LastCheckpoint(Callback):
    """Writes ``dirpath/last.ckpt`` every ``every_n_steps`` generator updates and at the end.

    Lightning's ModelCheckpoint is not used: under manual optimization it counts every
    optimizer step (k + 1 per generator update), and its end-of-training save is skipped
    once any ``last.ckpt`` was written, so the final state could be missing.

    The file is written next to its destination and renamed over it, so ``last.ckpt`` is
    always either the previous or the new complete checkpoint, never a truncated one.
    """

    def __init__(self, dirpath: str | os.PathLike, every_n_steps: int = 0) -> None:
        self.dirpath = Path(dirpath)
        self.every_n_steps = int(every_n_steps)
        self._saved_at: int | None = None

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.ckpt"

    def save(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._saved_at == pl_module.generator_step:
            return
        tmp = self.dirpath / f".last.ckpt.tmp-{os.getpid()}"
        # weights_only=False: optimizer states are needed to resume. Collective under DDP; rank 0 writes.
        trainer.save_checkpoint(tmp, weights_only=False)
        if trainer.is_global_zero:
            os.replace(tmp, self.last_path)
        self._saved_at = pl_module.generator_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.every_n_steps > 0 and pl_module.generator_step % self.every_n_steps == 0:
            self.save(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save(trainer, pl_module)

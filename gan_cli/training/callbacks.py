"""Callbacks: a progress bar counted in generator steps, an atomic ``last.ckpt``, a
Ctrl-C that stops at a generator-step boundary, and the thread count kept at the job's share."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_cli.training.guards import check_parameters_finite
from gan_cli.resources import WriteFailed, is_disk_error


class GeneratorStepProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, but counting generator updates out of ``steps``.

    The stock bar counts batches of an epoch; our one "epoch" has no length (gan_cli.training.loop.GeneratorSteps)
    and may be resumed part-way, so the bar reads the module's generator step instead.
    """

    drawn = False  # whether on_train_start drew the bar

    @property
    def train_description(self) -> str:
        return "generator step"

    @property
    def step_periods(self) -> tuple[int, ...]:
        """Generator steps at whose multiples a Lightning batch must end (gan_cli.training.loop.StepPeriodic)."""
        return (self.refresh_rate,)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # not super(): the stock bar draws itself once with no total ("0/?"); this one starts
        # at the generator step a resumed run continues from, out of ``steps``
        self.train_progress_bar = Tqdm(
            desc=self.train_description, total=pl_module.steps, initial=pl_module.generator_step,
            position=2 * self.process_position, disable=self.is_disabled, leave=True, dynamic_ncols=True,
            file=sys.stdout, smoothing=0, bar_format=self.BAR_FORMAT)
        self.drawn = True

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        pass  # not super(): the stock bar would reset itself to "Epoch N" with no total

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        # end the bar's line, so the error message that follows starts on a line of its own
        if self.drawn:
            self.train_progress_bar.close()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        n = pl_module.generator_step
        if self._should_update(n, self.train_progress_bar.total):
            bar = self.train_progress_bar
            if not bar.disable:
                bar.n = n
                bar.refresh()
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        """The D/critic loss and the G loss, read from what the module logged."""
        logged = trainer.callback_metrics
        shown = {"d_loss": logged.get(f"{pl_module.loss.role}/loss"), "g_loss": logged.get("generator/loss")}
        return {name: f"{float(value):.4g}" for name, value in shown.items() if value is not None}


class LastCheckpoint(Callback):
    """Writes ``dirpath/last.ckpt`` every ``every_n_steps`` generator updates, at the end, and
    when the run is stopped by SIGTERM (Lightning raises it between two generator steps).

    Lightning's ModelCheckpoint is not used: under manual optimization it counts every
    optimizer step (k + 1 per generator update), and its end-of-training save is skipped
    once any ``last.ckpt`` was written, so the final state could be missing.

    The file is written next to its destination, flushed to disk and renamed over it, so
    ``last.ckpt`` is always either the previous or the new complete checkpoint, never a
    truncated one, even if the process is killed during the save. Weights with a NaN or Inf
    are never written: the last good checkpoint is kept and the run stops as diverged.
    """

    def __init__(self, dirpath: str | os.PathLike, every_n_steps: int = 0) -> None:
        self.dirpath = Path(dirpath)
        self.every_n_steps = int(every_n_steps)
        self.saved_at: int | None = None  # generator step of the checkpoint on disk

    @property
    def step_periods(self) -> tuple[int, ...]:
        """Generator steps at whose multiples a Lightning batch must end (gan_cli.training.loop.StepPeriodic)."""
        return (self.every_n_steps,)

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.ckpt"

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if trainer.is_global_zero:  # temporary files of an earlier run that was killed mid-save
            for stale in self.dirpath.glob(".last.ckpt.tmp-*"):
                stale.unlink(missing_ok=True)

    def save(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = pl_module.generator_step
        if self.saved_at == step:
            return
        check_parameters_finite(step, pl_module, "model")
        tmp = self.dirpath / f".last.ckpt.tmp-{os.getpid()}"
        try:
            # weights_only=False: optimizer states are needed to resume. Collective under DDP; rank 0 writes.
            trainer.save_checkpoint(tmp, weights_only=False)
            if trainer.is_global_zero:
                with open(tmp, "rb") as f:  # on disk before the rename, so a crash cannot leave an empty file
                    os.fsync(f.fileno())
                os.replace(tmp, self.last_path)
        except BaseException as e:  # a full disk: the previous last.ckpt stays whole, the partial copy goes
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if is_disk_error(e):
                raise WriteFailed(self.last_path, e, self.dirpath) from e
            raise
        self.saved_at = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.every_n_steps > 0 and pl_module.generator_step % self.every_n_steps == 0:
            self.save(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save(trainer, pl_module)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        # SIGTERM (a cluster pre-empting the job) is raised between generator steps: the state is whole
        if isinstance(exception, SIGTERMException):
            self.save(trainer, pl_module)


def sigterm_stops_setup():
    """Until ``trainer.fit``, SIGTERM raises Lightning's SIGTERMException, so a job stopped while
    it builds its data, networks and loggers ends "interrupted" in summary.json (train reports it
    as such) instead of dying with "running" written there for good. Returns the function that
    puts the previous handler back; call it before fit: Lightning chains any handler it finds,
    and inside fit its own stops the run between two generator steps."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signal handlers can only be set from the main thread

    def stop(signum, frame) -> None:
        raise SIGTERMException()

    previous = signal.signal(signal.SIGTERM, stop)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is stop:
            signal.signal(signal.SIGTERM, previous)

    return restore


class GracefulInterrupt(Callback):
    """The first Ctrl-C finishes the current generator step (under DDP, the current Lightning
    batch of generator steps: RunsOfIterations._stop_requested), then training stops as if it had
    reached ``steps`` (so ``last.ckpt`` is written); a second Ctrl-C aborts at once.

    Lightning's own handling raises KeyboardInterrupt wherever the signal lands, possibly
    between a critic update and its generator update, and saves nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous_handler = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread

        def handler(signum, frame) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            trainer.should_stop = True
            what = "this generator step" if trainer.world_size == 1 else "this batch of generator steps"
            print(f"\nCtrl-C: finishing {what} and saving checkpoints/last.ckpt "
                  "(press Ctrl-C again to abort without saving)", file=sys.stderr)

        self._previous_handler = signal.signal(signal.SIGINT, handler)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None


class ThreadShare(Callback):
    """At every Lightning batch (a run of generator updates up to the next logged point), give
    torch this job's share of the cores among the gan-run jobs training on them now
    (gan_cli.training.threads.rebalance): a job started or ended elsewhere changes the count here."""

    step_periods: tuple[int, ...] = ()  # any batch boundary will do: it needs no step of its own

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        from gan_cli.training import threads

        threads.rebalance()

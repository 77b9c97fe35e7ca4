"""Progress in a log file: a plain line every so often when stdout is not a terminal.

A SLURM ``.out`` file, CI or ``| tee`` would otherwise receive every carriage-return redraw
of the tqdm bar. ``progress=auto`` (the default) keeps the bar in a terminal and prints lines
elsewhere; ``progress=bar`` and ``progress=lines`` choose one, ``progress=none`` neither.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar

#: about this many lines per run, and one at least this often (seconds) in a long one
LINES_PER_RUN = 20
MAX_SILENCE_S = 60.0


class ProgressLines(ProgressBar):
    """``generator step 250/5000 (5%)  d_loss=0.69 g_loss=0.70  41.2 steps/s  eta 1m55s``,
    about LINES_PER_RUN times a run (at multiples of ``every``) and after any minute of silence.

    A ProgressBar subclass, so Lightning adds no tqdm bar of its own beside it."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = max(1, int(every))
        self._enabled = True
        self._start_step = 0
        self._start_time = self._last_line = 0.0

    @property
    def step_periods(self) -> tuple[int, ...]:
        """Generator steps at whose multiples a Lightning batch must end (GANModule.batch_end_step)."""
        return (self.every,)

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    def disable(self) -> None:  # Lightning calls this on every rank but 0
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start_step = pl_module.generator_step
        self._start_time = self._last_line = time.monotonic()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = pl_module.generator_step
        if step % self.every == 0 or time.monotonic() - self._last_line >= MAX_SILENCE_S:
            self.print_line(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if pl_module.generator_step % self.every:  # the last step was not on a multiple: say it too
            self.print_line(trainer, pl_module)

    def print_line(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._enabled:
            return
        step, total = pl_module.generator_step, pl_module.steps
        now = time.monotonic()
        self._last_line = now
        parts = [f"generator step {step}/{total} ({100 * step // max(total, 1)}%)"]
        metrics = self.get_metrics(trainer, pl_module)
        if metrics:
            parts.append(" ".join(f"{k}={v}" for k, v in metrics.items()))
        done, elapsed = step - self._start_step, now - self._start_time
        if done > 0 and elapsed > 0:
            rate = done / elapsed
            parts.append(f"{rate:.3g} steps/s  eta {duration((total - step) / rate)}")
        print("  ".join(parts), file=sys.stdout, flush=True)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        """The D/critic loss and the G loss, read from what the module logged."""
        logged = trainer.callback_metrics
        shown = {"d_loss": logged.get(f"{pl_module.loss.role}/loss"), "g_loss": logged.get("generator/loss")}
        return {name: f"{float(value):.4g}" for name, value in shown.items() if value is not None}


def duration(seconds: float) -> str:
    """1m55s, 2h03m, 7s."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def progress_callback(mode: str, steps: int, log_every: int, is_terminal: bool | None = None) -> ProgressBar:
    """The progress display of a run: the tqdm bar, or lines (silent for ``progress=none``)."""
    from gan_cli.training.callbacks import GeneratorStepProgressBar

    if is_terminal is None:
        is_terminal = sys.stdout.isatty()
    if mode == "bar" or (mode == "auto" and is_terminal):
        return GeneratorStepProgressBar(refresh_rate=log_every)  # redrawn when the module logs
    # a multiple of log_every, so the numbers shown are fresh
    lines = ProgressLines(log_every * max(1, round(steps / LINES_PER_RUN / log_every)))
    if mode == "none":  # still a ProgressBar, or Lightning would add its own tqdm bar
        lines.disable()
    return lines

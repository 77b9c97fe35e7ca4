"""How Lightning drives gan-run's iterations: the loop machinery, apart from the algorithm.

A subclass (GANModule) implements one training iteration, ``training_iteration(optimizers,
log)``, and keeps three counters: ``generator_step`` (iterations done), ``steps`` (iterations
to do) and ``log_every``. Two base classes run it:

- ``OneIterationPerBatch``: stock Lightning, public API only. One Lightning batch is one
  iteration; updates go through ``manual_backward`` and ``LightningOptimizer.step``.
- ``RunsOfIterations`` (what GANModule uses): one Lightning batch is a *run* of iterations
  that ends exactly where anything outside the module has work (a logged point, a callback's
  ``step_periods``, the end of training, a stop request), and updates skip Lightning's
  optimizer wrappers when those have nothing to do. Lightning's per-batch and per-update
  machinery costs about as much as a whole iteration of a small MLP on a CPU; running it once
  per run keeps gan-run within a few percent of a hand-written loop. ``bench/overhead.py``
  measures that; docs/performance.md explains where the time goes.

Both train the same weights (tests/test_loop.py); going back to stock Lightning is a change
of GANModule's base class. Both log through ``log_scalars``: ``logger.log_metrics`` at the
generator step, not ``self.log`` (whose x-axis is Lightning's ``global_step``, which counts
every optimizer step under manual optimization).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.core.optimizer import LightningOptimizer
from pytorch_lightning.plugins.precision import MixedPrecision, Precision
from pytorch_lightning.strategies import SingleDeviceStrategy
from pytorch_lightning.utilities.model_helpers import is_overridden
from torch import Tensor

from gan_cli.training import framework_internals
from gan_cli.training.quiet import silence_third_party_noise


class GeneratorSteps:
    """The iterable that drives Lightning's fit loop: one item per Lightning batch.

    Lightning needs a "dataloader" to run ``training_step``; the real batches are drawn
    inside the step (toy data: sampled on the device; images: from their own DataLoader),
    so this yields only the batch's index and has no length (training stops when the module
    has made ``steps`` generator updates).
    """

    def __iter__(self) -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1


@runtime_checkable
class StepPeriodic(Protocol):
    """A callback that works at generator steps: ``step_periods`` are the periods (in generator
    steps; 0 means none) at whose multiples a Lightning batch must end so that its
    ``on_train_batch_end`` sees that step. A callback that implements a per-batch hook must
    declare them (``()`` if any batch end will do): RunsOfIterations refuses one that does not,
    as it would otherwise run only where some other period happens to end a batch."""

    @property
    def step_periods(self) -> Sequence[int]: ...


PER_BATCH_HOOKS = ("on_train_batch_start", "on_train_batch_end")


def step_periods_of(callbacks: Sequence[Callback]) -> set[int]:
    """The periods every callback needs; TypeError for a per-batch callback that declares none."""
    periods: set[int] = set()
    for callback in callbacks:
        if isinstance(callback, StepPeriodic):
            periods.update(int(p) for p in callback.step_periods)
        elif any(is_overridden(hook, callback, Callback) for hook in PER_BATCH_HOOKS) \
                and type(callback).__module__.split(".")[0] not in ("pytorch_lightning", "lightning"):
            raise TypeError(
                f"callback {type(callback).__name__} implements a per-batch hook but no step_periods: a Lightning "
                "batch is a run of generator steps here, so declare the steps it needs "
                "(gan_cli.training.loop.StepPeriodic)")
    return periods


def write_to_loggers(loggers: list, metrics: dict[str, float], step: int) -> None:
    """``metrics`` at ``step`` in every logger, saved at once, as Lightning's logger connector
    does (a CSV logger writes its file only on save). Lightning's loggers write on rank 0 only."""
    for logger in loggers:
        logger.log_metrics(metrics, step=step)
        logger.save()


class OneIterationPerBatch(pl.LightningModule):
    """Stock Lightning: one iteration per Lightning batch, public API only."""

    generator_step: int
    steps: int
    log_every: int

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False

    def training_iteration(self, optimizers: Any, log: bool) -> None:
        raise NotImplementedError

    def setup(self, stage: str) -> None:
        # where a spawned DDP worker (trainer=ddp_cpu) starts gan-run's work: it never ran the CLI,
        # which silences the same messages in the processes it starts
        silence_third_party_noise()

    def train_dataloader(self):
        return GeneratorSteps()

    def due_for_logging(self, step: int) -> bool:
        """Whether iteration number ``step`` (counted from 1) writes a logged point."""
        return step % self.log_every == 0 or step >= self.steps

    def training_step(self, batch: Any, batch_idx: int) -> None:
        self.training_iteration(self.optimizers(), log=self.due_for_logging(self.generator_step + 1))
        if self.generator_step >= self.steps:
            self.trainer.should_stop = True

    def optimizer_update(self, loss: Tensor, optimizer: LightningOptimizer) -> None:
        """zero_grad, backward, step."""
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()

    def log_scalars(self, values: dict[str, float]) -> None:
        """The curves at this generator step, in every logger, and in ``trainer.callback_metrics``
        (which the progress bar and summary.json read, and which Lightning carries back from
        spawned DDP workers) as ``self.log`` would put them."""
        write_to_loggers(self.loggers, values, self.generator_step)
        values = {**values, "step": float(self.generator_step)}  # the summary's last logged step
        self.trainer.callback_metrics.update({name: torch.tensor(value) for name, value in values.items()})

    def on_train_start(self) -> None:
        if self.generator_step >= self.steps:
            self.trainer.should_stop = True


class RunsOfIterations(OneIterationPerBatch):
    """One Lightning batch is a run of iterations; updates skip Lightning's idle wrappers.
    Why, and what it saves: this module's docstring, bench/overhead.py, docs/performance.md."""

    def __init__(self) -> None:
        super().__init__()
        # set at on_train_start, once the trainer's callbacks, strategy and precision are known
        self._batch_periods: list[int] = []
        self._hooks_idle = False

    def transfer_batch_to_device(self, batch: Any, device: torch.device, dataloader_idx: int) -> Any:
        # the "batch" is only its index (GeneratorSteps): skip Lightning's recursive move-to-device walk
        if isinstance(batch, int):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        """Iterations up to the next step at which anything outside this module has work;
        every callback still runs at every step where it has work: a batch ends exactly there."""
        optimizers = self.optimizers()
        end = self.batch_end_step()
        while True:
            step = self.generator_step + 1  # the iteration about to be made, counted from 1
            self.training_iteration(optimizers, log=self.due_for_logging(step))
            if step >= end or self._stop_requested():
                break
        if self.generator_step >= self.steps:
            self.trainer.should_stop = True

    def optimizer_update(self, loss: Tensor, optimizer: LightningOptimizer) -> None:
        """zero_grad, backward, step: through ``manual_backward`` and ``LightningOptimizer.step``
        when those have work to do (DDP, fp16's scaler, an overridden hook), else directly, with
        Lightning's step count and profiler still seeing every step. (Gradient clipping is not a
        case: Lightning refuses ``gradient_clip_val`` under manual optimization.)"""
        if not self._hooks_idle:
            super().optimizer_update(loss, optimizer)
            return
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        framework_internals.step_counted(optimizer)

    def lightning_hooks_idle(self) -> bool:
        """Whether ``manual_backward`` and ``LightningOptimizer.step`` would do nothing beyond
        ``loss.backward()`` and ``optimizer.step()`` in this trainer: a single device, fp32 or
        bf16 without a gradient scaler, and none of their hooks overridden by the module or by
        any callback."""
        trainer = self.trainer
        precision = trainer.precision_plugin
        hooks = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")
        return (type(trainer.strategy) is SingleDeviceStrategy
                and (type(precision) is Precision or (type(precision) is MixedPrecision and precision.scaler is None))
                and not any(is_overridden(hook, self, pl.LightningModule) for hook in ("backward", *hooks))
                and not any(is_overridden(hook, callback, Callback)
                            for callback in trainer.callbacks for hook in hooks))

    def batch_end_step(self) -> int:
        """The generator step at which the current Lightning batch ends: the next multiple of
        ``log_every`` or of any callback's ``step_periods`` (evaluation, figures, checkpoints,
        the progress bar), or ``steps``, whichever comes first."""
        s = self.generator_step
        return min([self.steps, *((s // p + 1) * p for p in self._batch_periods)])

    def _stop_requested(self) -> bool:
        """Whether to end the batch before ``batch_end_step``: Ctrl-C (GracefulInterrupt) or
        SIGTERM arrived, so Lightning can stop and save at this generator step. Under DDP the
        batch runs to its end instead, as ranks must make the same number of updates (each
        rank's collectives wait for the others'); Lightning then stops at the batch's end on
        the ranks the signal reached, so it must reach all of them, as SLURM's does."""
        if self.trainer.world_size > 1:
            return False
        return self.trainer.should_stop or self.trainer.received_sigterm

    def on_train_start(self) -> None:
        periods = {self.log_every} | step_periods_of(self.trainer.callbacks)
        self._batch_periods = sorted(p for p in periods if p > 0)
        self._hooks_idle = self.lightning_hooks_idle()
        super().on_train_start()

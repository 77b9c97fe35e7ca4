"""The Lightning module: Algorithm 1 of the GAN and WGAN papers, with manual optimization.

For each generator update:
    repeat k = n_critic times:
        draw a fresh real batch x and noise z
        update D/critic on loss.discriminator_loss(D, x, G(z))  (penalty included)
        loss.after_discriminator_step(D)                         (WGAN: clip weights)
    draw noise z, update G on loss.generator_loss(D(G(z)))
    (optional) step both learning-rate schedules; update G's weight average

Lightning handles devices, precision, checkpoints and loggers; how it runs the iterations
(several per Lightning batch) is the base class's job (gan_cli/training/loop.py), so this module is the
algorithm only. ``self.generator_step`` counts generator updates; it is what ``steps`` means
and the x-axis of every curve. (Lightning's ``global_step`` counts every optimizer step under
manual optimization, k + 1 per generator update.)
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from gan_cli.training.curves import PRETRAINING_SAMPLES, measurement_rng, metric_tags, pretraining_values, step_values
from gan_cli.data.toy import RealData
from gan_cli.training.loop import RunsOfIterations, write_to_loggers
from gan_cli.objectives.losses import AdversarialLoss, DiscriminatorOutput
from gan_cli.training.parameters import Frozen, exponential_average, gradient_norm


class GANModule(RunsOfIterations):
    """Algorithm 1 (above): networks, optimizers, the k critic updates and the generator update,
    and the state an exact resume needs. ``RunsOfIterations`` runs ``training_iteration``."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: AdversarialLoss,
        dataset: RealData,
        generator_optimizer: functools.partial,
        discriminator_optimizer: functools.partial,
        batch_size: int,
        steps: int,
        log_every: int = 50,
        run_config: dict[str, Any] | None = None,
        pretrain_discriminator_steps: int = 0,
        freeze_discriminator: bool = False,
        lr_schedule: functools.partial | None = None,
        ema_decay: float = 0.0,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.dataset = dataset
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.batch_size = int(batch_size)
        self.steps = int(steps)
        self.log_every = int(log_every)
        # D/critic updates against the initial generator before its first update, and whether D
        # is updated after that (the vanishing-gradient experiment: an optimal D, then frozen)
        self.pretrain_discriminator_steps = int(pretrain_discriminator_steps)
        self.freeze_discriminator = bool(freeze_discriminator)
        # the composed config, stored in every checkpoint so gan-sample can rebuild the networks
        self.run_config = run_config or {}
        # a torch.optim.lr_scheduler factory, applied to both optimizers, stepped per generator step
        self.lr_schedule = lr_schedule
        # G's weight average, updated after every generator update; evaluation and gan-sample use it
        self.generator_ema = exponential_average(generator, ema_decay)
        self.generator_step = 0
        self.real_batches_drawn = 0  # where a resumed run's image stream goes on from
        self._rng_to_restore: dict[str, Any] | None = None
        self.frozen_discriminator = Frozen(discriminator)
        self._real_batches: Iterator[Tensor] | None = None

    # ---- networks, optimizers, data ---------------------------------------------------
    def configure_optimizers(self):
        optimizers = [self.generator_optimizer(self.generator.parameters()),
                      self.discriminator_optimizer(self.discriminator.parameters())]
        if self.lr_schedule is None:
            return optimizers
        return optimizers, [self.lr_schedule(opt) for opt in optimizers]

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator that evaluation and gan-sample draw from: the weight average if kept."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    def next_real_batch(self) -> Tensor:
        """A fresh real batch of ``batch_size`` on the device (toy data: sampled there; images:
        the next batch of a DataLoader). The stream starts at the first call, after a resumed
        run's random state is restored, and a resumed run's at the batch its checkpoint had
        reached (``real_batches_drawn``)."""
        if self._real_batches is None:
            self._real_batches = self.dataset.batches(self.batch_size, self.device, start=self.real_batches_drawn)
        self.real_batches_drawn += 1
        return next(self._real_batches)

    def sample_noise(self, n: int) -> Tensor:
        return torch.randn(n, self.generator.in_features, device=self.device)

    # ---- Algorithm 1 --------------------------------------------------------------------
    def training_iteration(self, optimizers, log: bool) -> None:
        """Algorithm 1's outer iteration: k D/critic updates, then one generator update."""
        opt_g, opt_d = optimizers
        # k D/critic updates, each on a fresh real batch; no toggling is needed, as G is not in
        # D's graph (discriminator_on_fresh_batch)
        d_out = None
        pretraining = self.generator_step == 0 and self.pretrain_discriminator_steps > 0
        for d_step in range(self.discriminator_updates(self.generator_step)):
            if pretraining and d_step % max(1, self.pretrain_discriminator_steps // 100) == 0:  # 100 points
                self._log_pretraining(d_step)
            d_out = self.discriminator_on_fresh_batch()
            self.optimizer_update(d_out.loss, opt_d)
            self.loss.after_discriminator_step(self.discriminator)  # WGAN: clip to [-c, c]
        if pretraining:
            self._log_pretraining(self.pretrain_discriminator_steps)
        if log:
            d_grad_norm = gradient_norm(self.discriminator) if d_out is not None else torch.zeros((), device=self.device)
            if d_out is None:  # D is frozen: measure it on a fresh batch, without updating it
                d_out = self.measure_frozen_discriminator()

        # one generator update, through D with its weights frozen
        with self.frozen_discriminator:
            g_loss = self.loss.generator_loss(self.discriminator(self.generator(self.sample_noise(self.batch_size))))
            self.optimizer_update(g_loss, opt_g)
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        if self.lr_schedule is not None:
            for scheduler in self.lr_schedulers():
                scheduler.step()
        self.generator_step += 1

        if log:
            self._log_step(d_out, g_loss, d_grad_norm, gradient_norm(self.generator))

    def discriminator_on_fresh_batch(self) -> DiscriminatorOutput:
        """The D/critic objective on a fresh real batch and fresh fakes. G is not in this graph
        (the fakes are drawn under no_grad), so D's backward touches only D."""
        real = self.next_real_batch()
        with torch.no_grad():
            fake = self.generator(self.sample_noise(self.batch_size))
        return self.loss.discriminator_loss(self.discriminator, real, fake)

    def measure_frozen_discriminator(self) -> DiscriminatorOutput:
        """The D/critic objective on samples drawn aside (curves.measurement_rng, the real data
        stream not advanced): measuring a frozen D must not change training."""
        with measurement_rng(self.device):
            real = self.dataset.sample(self.batch_size, self.device)
            with torch.no_grad():
                fake = self.generator(self.sample_noise(self.batch_size))
            return self.loss.discriminator_loss(self.discriminator, real, fake)

    def discriminator_updates(self, generator_step: int) -> int:
        """How many D/critic updates precede generator update number ``generator_step``."""
        if generator_step == 0 and self.pretrain_discriminator_steps > 0:
            return self.pretrain_discriminator_steps
        if self.freeze_discriminator:
            return 0
        return self.loss.critic_steps(generator_step)

    def _log_pretraining(self, d_step: int) -> None:
        """The pretraining curves against D/critic updates (curves.pretraining_values)."""
        with measurement_rng(self.device):
            real = self.dataset.sample(PRETRAINING_SAMPLES, device=self.device)
            values = pretraining_values(self.generator, self.discriminator, self.loss, real,
                                        self.sample_noise(PRETRAINING_SAMPLES), self.sample_noise(self.batch_size))
        write_to_loggers(self.loggers, values, d_step)

    def metric_tags(self) -> list[str]:
        """The TensorBoard tags this module logs each ``log_every`` steps (curves.py)."""
        return metric_tags(self.loss, self.discriminator)

    def _log_step(self, d_out: DiscriminatorOutput, g_loss: Tensor, d_grad_norm: Tensor, g_grad_norm: Tensor) -> None:
        """The curves at this generator step; the x-axis is the generator step."""
        values = step_values(self.loss, self.discriminator, d_out, g_loss, d_grad_norm, g_grad_norm,
                             self.generator_step)
        if self.lr_schedule is not None:
            values["lr/generator"] = float(self.optimizers()[0].param_groups[0]["lr"])
        self.log_scalars(values)

    # ---- exact resume: step counter and RNG state travel in the checkpoint ---------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["gan_run"] = {
            "generator_step": self.generator_step,
            "real_batches_drawn": self.real_batches_drawn,
            "config": self.run_config,
            # what gan-sample needs to rebuild G without reading the dataset
            "data": {"dim": self.dataset.dim, "generator_offset": self.dataset.generator_offset,
                     "image_shape": list(getattr(self.dataset, "image_shape", None) or []) or None},
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("gan_run", {})
        self.generator_step = int(state.get("generator_step", 0))
        self.real_batches_drawn = int(state.get("real_batches_drawn", 0))
        # Restored at on_train_start, not here: setup between loading and the first step
        # must not consume the random stream that the uninterrupted run would have used.
        self._rng_to_restore = state.get("rng")

    def on_train_end(self) -> None:
        if self._real_batches is not None:
            self._real_batches.close()  # stops an image DataLoader's persistent workers now
            self._real_batches = None

    def on_train_start(self) -> None:
        if self._rng_to_restore is not None:
            torch.set_rng_state(self._rng_to_restore["torch"])
            if self._rng_to_restore["cuda"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(self._rng_to_restore["cuda"])
            self._rng_to_restore = None
        super().on_train_start()

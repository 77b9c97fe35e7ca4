"""The training loop's bookkeeping: a Lightning batch is a run of generator updates
(gan_cli.training.loop.RunsOfIterations), and Lightning's optimizer hooks are skipped only when idle."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities.exceptions import SIGTERMException

from conftest import compose_config, scalars
from gan_cli.training.loop import OneIterationPerBatch
from gan_cli.training.module import GANModule
from gan_cli.commands.train import build_module

SMOKE = ("trainer=smoke",)


def load_ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_batches_end_exactly_where_logging_and_evaluation_are_due(gan_run, tmp_path):
    result = gan_run(*SMOKE, "log_every=3", "eval_every=4", "steps=10", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    series = scalars(tmp_path / "run")
    assert [s for s, _ in series["generator/loss"]] == [3, 6, 9, 10]  # every log_every, and the last step
    assert [s for s, _ in series["eval/modes"]] == [4, 8, 10]  # every eval_every, and the end
    assert sorted(p.name for p in (tmp_path / "run/figures").iterdir()) == [
        "step_000004.png", "step_000008.png", "step_000010.png"]


def test_one_update_per_batch_and_ten_per_batch_train_the_same_weights(gan_run, tmp_path):
    # log_every=1: a Lightning batch per generator update; log_every=100: the whole run in one batch
    common = [*SMOKE, "loss=wgan", "optim=rmsprop", "eval_every=0", "steps=10"]
    for name, log_every in (("each", 1), ("all", 100)):
        result = gan_run(*common, f"log_every={log_every}", f"hydra.run.dir={name}")
        assert result.returncode == 0, result.stderr
    each = load_ckpt(tmp_path / "each/checkpoints/last.ckpt")
    together = load_ckpt(tmp_path / "all/checkpoints/last.ckpt")
    for key, value in each["state_dict"].items():
        assert torch.equal(together["state_dict"][key], value), key
    # Lightning's optimizer-step count is kept on either path: n_critic + 1 = 6 per generator update
    assert each["global_step"] == together["global_step"] == 60


class HookCounter(Callback):
    def __init__(self) -> None:
        self.calls = {"on_before_backward": 0, "on_after_backward": 0, "on_before_optimizer_step": 0}

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.calls["on_before_backward"] += 1

    def on_after_backward(self, trainer, pl_module) -> None:
        self.calls["on_after_backward"] += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.calls["on_before_optimizer_step"] += 1


def module_and_trainer(tmp_path: Path, overrides: list[str], callbacks: list[Callback] = (), logger=False):
    """gan-run's module for ``overrides`` and a bare CPU Trainer with only ``callbacks``."""
    cfg = compose_config(tmp_path / "run", [*SMOKE, *overrides])
    pl.seed_everything(int(cfg.seed), verbose=False)
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_epochs=-1, logger=logger, callbacks=list(callbacks),
                         enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False)
    return build_module(cfg), trainer


def fit(tmp_path: Path, overrides: list[str], callbacks: list[Callback]):
    module, trainer = module_and_trainer(tmp_path, overrides, callbacks)
    trainer.fit(module)
    return module, trainer


def test_a_callback_with_optimizer_hooks_gets_every_call(tmp_path):
    counter = HookCounter()
    module, trainer = fit(tmp_path, ["loss=wgan", "optim=rmsprop", "steps=4"], [counter])
    assert not module.lightning_hooks_idle()
    assert counter.calls == dict.fromkeys(counter.calls, 4 * 6)  # (n_critic + 1) per generator update
    assert trainer.global_step == 24


def test_without_such_hooks_the_updates_skip_lightnings_wrappers(tmp_path):
    module, trainer = fit(tmp_path, ["steps=4"], [])
    assert module.lightning_hooks_idle()
    assert trainer.global_step == 8  # still counted: 2 optimizer steps per generator update


@pytest.mark.parametrize("request_stop", [
    lambda trainer: setattr(trainer, "should_stop", True),  # what GracefulInterrupt's Ctrl-C handler does
    lambda trainer: setattr(trainer._signal_connector, "received_sigterm", True),  # Lightning's SIGTERM handler
], ids=["ctrl-c", "sigterm"])
def test_a_stop_request_ends_the_batch_after_the_current_generator_update(tmp_path, monkeypatch, request_stop):
    """Ctrl-C and SIGTERM set a flag that the module checks after every generator update,
    so a long batch (here one of 50 updates) stops at an update boundary, not at its end."""
    module, trainer = module_and_trainer(tmp_path, ["log_every=50", "eval_every=0", "steps=50"])
    step = module.loss.after_discriminator_step

    def request_stop_during_update_8(discriminator):
        if module.generator_step == 7:
            request_stop(trainer)
        return step(discriminator)

    monkeypatch.setattr(module.loss, "after_discriminator_step", request_stop_during_update_8)
    try:
        trainer.fit(module)
    except SIGTERMException:  # how Lightning ends a run on SIGTERM (gan-run saves and exits 143)
        assert trainer.received_sigterm
    assert module.generator_step == 8


def test_csv_curves_are_on_disk_while_the_run_goes_on(tmp_path):
    """Each logged point is saved at once (a CSV logger keeps rows in memory until saved):
    a run killed mid-way keeps its curves up to the last logged point."""
    seen: list[int] = []

    class ReadCsv(Callback):
        step_periods = ()  # the module's log_every ends a batch at step 10

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if pl_module.generator_step == 10:
                with open(Path(trainer.logger.log_dir) / "metrics.csv", newline="") as f:
                    seen.extend(int(row["step"]) for row in csv.DictReader(f))

    module, trainer = module_and_trainer(tmp_path, ["log_every=5", "eval_every=0", "steps=20"], [ReadCsv()],
                                         logger=pl.loggers.CSVLogger(tmp_path / "run", name="", version=""))
    trainer.fit(module)
    assert sorted(set(seen)) == [5, 10]


@pytest.mark.parametrize("frozen", [True, False])
def test_log_every_never_changes_the_trained_weights_frozen_discriminator_or_not(gan_run, tmp_path, frozen):
    # a logged step measures D; with D frozen that measurement draws its own batch and noise,
    # which must come from a forked RNG, not the training stream
    common = [*SMOKE, "experiment=vanishing_gradient", "loss=gan", "eval_every=0", "steps=10",
              "pretrain_discriminator_steps=20", f"freeze_discriminator={str(frozen).lower()}"]
    for log_every in (1, 5):
        result = gan_run(*common, f"log_every={log_every}", f"hydra.run.dir=log{log_every}")
        assert result.returncode == 0, result.stderr
    one = load_ckpt(tmp_path / "log1/checkpoints/last.ckpt")
    five = load_ckpt(tmp_path / "log5/checkpoints/last.ckpt")
    for key, value in one["state_dict"].items():
        assert torch.equal(five["state_dict"][key], value), key


class StockLightningGAN(GANModule):
    """GANModule on the stock-Lightning base: one iteration per batch, public API only."""
    training_step = OneIterationPerBatch.training_step
    optimizer_update = OneIterationPerBatch.optimizer_update


def test_the_stock_lightning_base_trains_the_same_weights_as_runs_of_iterations(tmp_path):
    overrides = ["loss=wgan", "optim=rmsprop", "log_every=4", "eval_every=0", "steps=8"]
    fast, trainer = module_and_trainer(tmp_path / "fast", overrides)
    trainer.fit(fast)
    stock, trainer = module_and_trainer(tmp_path / "stock", overrides)
    stock.__class__ = StockLightningGAN
    trainer.fit(stock)
    assert fast.generator_step == stock.generator_step == 8
    for (key, a), b in zip(fast.state_dict().items(), stock.state_dict().values()):
        assert torch.equal(a, b), key


def test_a_per_batch_callback_without_step_periods_is_refused(tmp_path):
    class EveryStep(Callback):  # would run only where some other period ends a batch
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            pass

    with pytest.raises(TypeError, match="EveryStep.*step_periods"):
        fit(tmp_path, ["steps=2"], [EveryStep()])

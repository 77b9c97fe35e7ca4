"""The recipe behind ``gan-run``: seed, build every object from its config group, fit.

Imported only inside the Hydra task function, after the config is composed, so that
``gan-run --help`` and ``--cfg job`` never pay for importing torch and Lightning.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only
from pytorch_lightning.utilities.exceptions import SIGTERMException
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from gan_cli.training.build import build, build_data_and_networks, build_loss
from gan_cli.training.callbacks import GracefulInterrupt, LastCheckpoint, ThreadShare, sigterm_stops_setup
from gan_cli.training.checkpoints import check_resumable
from gan_cli.config import flatten
from gan_cli.errors import Diverged, GanRunError, Interrupted
from gan_cli.evaluation.during_training import Evaluation
from gan_cli.training.module import GANModule
from gan_cli.tracking.progress import progress_callback
from gan_cli.sweeps.resume import config_digest
from gan_cli.resources import ThreadWriteFailures, WriteFailed, resource_failure
from gan_cli.training.summary import RunSummary
from gan_cli.tracking.tensorboard_layout import StoryLayout
from gan_cli.tracking.trackers import build_loggers, view_commands
from gan_cli.tracking.trackers import close as close_trackers
from gan_cli.tracking.trackers import locations as tracker_locations
from gan_cli.tracking.trackers import publish as publish_to_trackers

log = logging.getLogger(__name__)

WGAN_MOMENTUM_ADVICE = (
    "loss={loss} with a momentum optimizer ({optim}): the WGAN paper reports that "
    '"WGAN training becomes unstable at times when one uses a momentum based optimizer such as Adam" '
    "and uses RMSProp instead; try optim=rmsprop, or optim=sgd with optim.momentum=0."
)


def has_momentum(optimizer_factory) -> bool:
    """True if the optimizer keeps a momentum term (Adam's β1 > 0, or momentum > 0)."""
    probe = optimizer_factory([torch.zeros(1, requires_grad=True)])
    defaults = probe.defaults
    return float(defaults.get("momentum", 0.0) or 0.0) > 0 or float(defaults.get("betas", (0.0,))[0]) > 0


def flat_hparams(cfg: DictConfig) -> dict[str, Any]:
    """The config as flat ``group/key`` → scalar pairs for TensorBoard's HPARAMS tab."""
    flat = flatten(OmegaConf.to_container(cfg, resolve=True), sep="/")
    return {key: value if isinstance(value, (int, float, str, bool)) else str(value)
            for key, value in flat.items() if key.rsplit("/", 1)[-1] != "_partial_"}


def log_hyperparameters(loggers: list, params: dict[str, Any], metric_tags: list[str]) -> None:
    if rank_zero_only.rank != 0:  # under DDP only rank 0 has writers
        return
    for logger in loggers:
        logger.log_hyperparams(params)
        if isinstance(logger, pl.loggers.TensorBoardLogger):
            # Declare the metric tags for the HPARAMS tab without writing a fake point at step 0
            # (what TensorBoardLogger.log_hyperparams(params, metrics) would do).
            from torch.utils.tensorboard.summary import hparams

            writer = logger.experiment.file_writer  # public; set when the SummaryWriter opens
            for summary in hparams(params, {tag: 0.0 for tag in metric_tags}):
                writer.add_summary(summary)


def final_scalars(trainer: pl.Trainer) -> tuple[dict[str, dict[str, Any]], int | None]:
    """The summary's sections: ``final`` (last value of every curve), ``best`` (best eval/*
    so far) and ``correlation`` (correlation/*); and the generator step of the last logged point.

    Read from callback_metrics, which Lightning also carries back from spawned DDP workers
    (the parent's module never trained there)."""
    final: dict[str, Any] = {}
    for key, value in trainer.callback_metrics.items():
        v = float(value)
        final[key] = v if math.isfinite(v) else str(v)
    step = final.pop("step", None)
    sections = {"final": final}
    for section in ("best", "correlation"):
        prefix = f"{section}/"
        sections[section] = {k[len(prefix):]: final.pop(k) for k in list(final) if k.startswith(prefix)}
    return sections, None if step is None else int(step)


def uses_gpu(cfg: DictConfig) -> bool:
    """Whether the trainer config asks for a GPU."""
    return str(cfg.trainer.get("accelerator", "cpu")) in ("gpu", "cuda")


def check_environment(cfg: DictConfig) -> None:
    """The checks that need torch and the machine, after config.check has checked the values:
    the checkpoint to resume, the device."""
    if cfg.ckpt_path is not None:
        check_resumable(str(cfg.ckpt_path), OmegaConf.to_container(cfg, resolve=True))
    if uses_gpu(cfg) and not torch.cuda.is_available():
        raise GanRunError(
            f"trainer.accelerator={cfg.trainer.accelerator}: no CUDA device was found on this machine; use trainer=cpu"
        )


def prepare_networks(cfg: DictConfig, *networks: torch.nn.Module) -> None:
    """Memory format and compilation, in place (parameter names, and so checkpoints, unchanged).

    channels_last stores 4-D conv weights as N×H×W×C, the layout tensor cores read fastest
    under bf16; it changes nothing for the MLPs (no 4-D parameters). ``Module.compile`` rather
    than ``torch.compile(module)``: the latter wraps the module and renames every state-dict key.
    """
    channels_last = uses_gpu(cfg) if cfg.channels_last is None else cfg.channels_last
    for net in networks:
        if channels_last:
            net.to(memory_format=torch.channels_last)
        if cfg.compile:
            net.compile()


def build_module(cfg: DictConfig) -> GANModule:
    """The Lightning module of a run: data, networks, loss and optimizers from their groups."""
    dataset, generator, discriminator = build_data_and_networks(cfg)
    loss = build_loss(cfg, image_data=getattr(dataset, "image_shape", None) is not None)
    discriminator = loss.constraint.constrain(discriminator)  # spectral normalization; others: as is
    prepare_networks(cfg, generator, discriminator)
    return GANModule(
        generator=generator,
        discriminator=discriminator,
        loss=loss,
        dataset=dataset,
        generator_optimizer=build(cfg.optim.generator, "optim.generator"),
        discriminator_optimizer=build(cfg.optim.discriminator, "optim.discriminator"),
        batch_size=cfg.batch_size,
        steps=cfg.steps,
        log_every=cfg.log_every,
        run_config=OmegaConf.to_container(cfg, resolve=True),
        pretrain_discriminator_steps=cfg.pretrain_discriminator_steps,
        freeze_discriminator=cfg.freeze_discriminator,
        lr_schedule=build(cfg.lr_schedule, "lr_schedule") if cfg.get("lr_schedule") else None,
        ema_decay=cfg.ema_decay,
    )


def peak_memory_mib() -> dict[str, float]:
    """The most memory this process has held so far: resident host memory (Linux reports
    ru_maxrss in KiB) and, on a GPU, what torch's allocator handed out."""
    import resource

    peak = {"host_rss": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        peak["cuda_allocated"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return peak


def resume_command(overrides: list[str], checkpoint: Path) -> str:
    """The gan-run command line that continues this run from ``checkpoint`` (for display only)."""
    kept = [o for o in overrides if not o.startswith("ckpt_path=")]
    return shlex.join(["gan-run", *kept, f"ckpt_path={checkpoint}"])


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run one job of gan-run; returns its summary.

    Raises GanRunError (or a subclass: Diverged, Interrupted) after writing summary.json
    with the matching status, so the caller only has to report it.
    """
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    # DDP's subprocess launcher re-runs gan-run on every rank: only rank 0 owns the summary
    summary = RunSummary(run_dir, overrides, enabled=rank_zero_only.rank == 0)
    # how a re-run sweep knows this job's config, and what the thread policy (gan_cli/training/threads.py)
    # gave this job, for reading its timings
    summary.write(config_digest=config_digest(cfg),
                  threads={"intra_op": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                           "gomp_spincount": os.environ.get("GOMP_SPINCOUNT")})
    trainer = module = None
    checkpoint = LastCheckpoint(run_dir / "checkpoints", every_n_steps=cfg.checkpoint_every)
    ctrl_c = GracefulInterrupt()
    writer_threads = ThreadWriteFailures(run_dir)
    restore_sigterm = sigterm_stops_setup()
    try:
        check_environment(cfg)
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)

        module = build_module(cfg)
        if module.loss.avoid_momentum and has_momentum(module.discriminator_optimizer):
            choices = hydra_cfg.runtime.choices
            print("warning: " + WGAN_MOMENTUM_ADVICE.format(loss=choices.get("loss"), optim=choices.get("optim")),
                  file=sys.stderr)
        writer_threads.start()  # from here on, TensorBoard writes its event files from a thread
        logger = build_loggers(cfg.get("logger"), run_dir)  # TensorBoard, MLflow, W&B: one or several
        progress = progress_callback(str(cfg.get("progress", "auto")), cfg.steps, cfg.log_every)
        from gan_cli.evaluation.image_evaluation import build_image_evaluator

        evaluation = Evaluation(every_n_steps=cfg.eval_every, num_samples=cfg.eval_samples,
                                figures_dir=run_dir / "figures", figures_every_n_steps=cfg.sample_every,
                                image_evaluator=build_image_evaluator(cfg, module.dataset))
        callbacks = [
            progress,  # the tqdm bar in a terminal, plain lines in a log file
            checkpoint,
            StoryLayout(),  # TensorBoard's CUSTOM SCALARS tab: the comparisons the seed articles make
            evaluation,
            ctrl_c,
            ThreadShare(),
        ]
        trainer = build(cfg.trainer, "trainer", logger=logger, callbacks=callbacks)
        log_hyperparameters(trainer.loggers, flat_hparams(cfg), module.metric_tags())

        restore_sigterm()  # from here Lightning's handler: it stops between two generator steps
        # checkpoints hold only tensors and plain containers: load them without unpickling code
        trainer.fit(module, ckpt_path=cfg.ckpt_path, weights_only=True)
        writer_threads.check()  # TensorBoard's writer thread hit a full disk: the curves are incomplete
        scalars, last_logged_step = final_scalars(trainer)
        steps = max(last_logged_step or 0, module.generator_step)
        if ctrl_c.requested:
            raise Interrupted("SIGINT", steps, resume_command(overrides, checkpoint.last_path))
        trackers = tracker_locations(trainer.loggers, cfg.get("logger")) if trainer.is_global_zero else {}
        summary.data["threads"]["intra_op_at_end"] = torch.get_num_threads()  # threads=auto follows other jobs
        summary.write(status="completed", steps=steps, trackers=trackers, peak_memory_mib=peak_memory_mib(),
                      eval_provenance=evaluation.provenance,
                      **({"eval_floor": evaluation.floor} if evaluation.image_evaluator else {}), **scalars)
        if trainer.is_global_zero:
            publish_to_trackers(trainer.loggers, run_dir)  # figures and summary.json as artifacts
    except BaseException as e:
        restore_sigterm()
        writer_threads.stop()
        if trainer is not None:
            close_trackers(trainer.loggers)
        error = (as_run_error(e, trainer, module, checkpoint, overrides) or writer_threads.failure()
                 or resource_failure(e, cfg, run_dir))
        fields: dict[str, Any] = {"status": error.status if error else "failed",
                                  "error": str(error or e).splitlines()[0] if str(error or e) else type(e).__name__}
        if module is not None:
            fields["steps"] = module.generator_step
            fields["peak_memory_mib"] = peak_memory_mib()
        if trainer is not None:
            fields.update(final_scalars(trainer)[0])
        try:
            summary.write(**fields)
        except WriteFailed:
            pass  # the disk is full: summary.json keeps saying "running", never "completed"
        if error is not None and error is not e:
            raise error from e
        raise
    if trainer.is_global_zero:
        has_tensorboard = any(isinstance(lg, pl.loggers.TensorBoardLogger) for lg in trainer.loggers)
        print(f"run folder: {run_dir}" + (f"   view it: tensorboard --logdir {run_dir}" if has_tensorboard else ""))
        for line in view_commands(summary.data.get("trackers", {})):
            print(f"view it: {line}")
    return summary.data


def as_run_error(e: BaseException, trainer: pl.Trainer | None, module: GANModule | None,
                 checkpoint: LastCheckpoint, overrides: list[str]) -> GanRunError | None:
    """The GanRunError that reports ``e`` to the user, or None for an unexpected error (a bug:
    its traceback is shown)."""
    saved = checkpoint.last_path if checkpoint.saved_at is not None else None
    if isinstance(e, Diverged):
        e.kept_checkpoint = f"{saved} (generator step {checkpoint.saved_at})" if saved else None
        return e
    if isinstance(e, GanRunError):
        return e
    step = module.generator_step if module is not None else 0
    if isinstance(e, SIGTERMException):  # Lightning stopped between steps; LastCheckpoint saved
        return Interrupted("SIGTERM", step, resume_command(overrides, saved) if saved else None)
    # a second Ctrl-C: Lightning turns it into SystemExit(1) after a graceful teardown
    if isinstance(e, KeyboardInterrupt) or (isinstance(e, SystemExit) and trainer is not None and trainer.interrupted):
        return Interrupted("SIGINT", step, resume_command(overrides, saved) if saved else None)
    return None

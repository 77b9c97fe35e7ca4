"""Overhead benchmark: gan-run's Lightning training loop vs a hand-written PyTorch loop.

Per generator step (n_critic D/critic updates + one G update), on the same networks, the
same seed, the same batch, the same n_critic, loss and optimizers:

  A  gan-run's real path. The config is composed from conf/ with Hydra's compose API exactly
     as gan-run does (``loss=… optim=… model.hidden=[w,w,w]``, everything else the default:
     ring data, batch 256, trainer=cpu, logger=tensorboard with log_every 50); the
     gan_cli.training.module.GANModule is built by gan_cli.commands.train.build_module, as gan-run builds it, and
     driven by a real pytorch_lightning.Trainer built from the trainer config (so a Lightning
     batch is a run of 50 generator updates, as in a user's run, whose evaluation and
     checkpoint steps are multiples of 50 too). Differences from a user's run:
     ``callbacks=[]``, i.e. none of the callbacks gan_cli.commands.train adds (no Evaluation, no
     LastCheckpoint so no checkpoint files, no progress bar: enable_progress_bar=False), and no
     HPARAMS summary. The TensorBoard logger is on, as users get it (``--logger none`` turns it off).
     Timed: the whole ``trainer.fit`` call (setup and teardown included, nothing subtracted),
     divided by the number of generator steps.
  B  the forty-line loop a researcher would write in plain torch: fresh networks from the same
     config and seed (so identical initial weights), the loss formulas inline, the same
     optimizer classes and hyperparameters, ``zero_grad(set_to_none=True)``, real data from
     the same ``dataset.batches`` stream (samples drawn on the CPU for the ring), noise from
     ``torch.randn``, the critic frozen
     (``requires_grad_(False)``) during the G update as in the WGAN reference code, WGAN
     weights clipped after each critic step. No logging. Timed: optimizer construction and
     the loop.

Both consume the random stream in the same order, so after the same number of steps the two
generators should hold the same weights; the table shows the largest difference as a check
that A and B do the same work.

Cases: loss ∈ {gan (n_critic 1, Adam), wgan (n_critic 5, clip 0.01, RMSprop)} × MLP width
∈ {64, 256, 512} (3 hidden layers). One process; after one warm-up of each (A and B, every
case), ``--rounds`` rounds, each running every case as A then B, ``--steps`` generator steps
each. Prints the median seconds per generator step of A and B, the ratio of the medians, and
as the last line ``overhead ratio (gan-run / raw torch): X.XX`` for the worst case.

``--profile`` then profiles one short A run and the matching B run (``--profile-case``,
default wgan:64, where the framework's share is largest) with cProfile and torch.profiler,
and prints where gan-run's per-step time goes beyond the raw loop.

    .venv/bin/python bench/overhead.py [--rounds 5] [--steps 300] [--threads N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without an installed package
    sys.path.insert(0, str(REPO))

from gan_cli.training.threads import policy_environment  # noqa: E402

# what gan-run does before torch loads (gan_cli/training/threads.py): idle OpenMP threads sleep unless the
# user chose a wait policy; the thread count stays torch's default unless --threads says otherwise
os.environ.update(policy_environment(None, os.environ))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gan_cli.training.quiet import silence_third_party_noise  # noqa: E402

silence_third_party_noise()

import pytorch_lightning as pl  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig, open_dict  # noqa: E402

from gan_cli.training.build import build, build_data_and_networks  # noqa: E402
from gan_cli.commands.run import config_dir  # noqa: E402
from gan_cli.training.module import GANModule  # noqa: E402
from gan_cli.commands.train import build_module, prepare_networks  # noqa: E402
from machine import cpu_model  # noqa: E402  (bench/machine.py, next to this script)

OPTIM = {"gan": "adam", "wgan": "rmsprop"}  # what conf/ and the WGAN paper pair with each loss


@dataclass
class Case:
    loss: str
    width: int
    cfg: DictConfig
    hydra_cfg: DictConfig
    label: str = ""
    a: list[float] = field(default_factory=list)  # seconds per generator step, one per round
    b: list[float] = field(default_factory=list)
    weight_diff: float = float("nan")

    @property
    def name(self) -> str:
        return self.label or f"{self.loss}:{self.width}"


# ---- configuration, exactly as gan-run composes it ----------------------------------------
def compose_case(loss: str, width: int, batch_size: int, seed: int, out_dir: Path) -> Case:
    overrides = [
        f"loss={loss}",
        f"optim={OPTIM[loss]}",
        f"model.hidden=[{width},{width},{width}]",
        f"batch_size={batch_size}",
        f"seed={seed}",
        "trainer=cpu",
        "dataset=ring",
    ]
    return compose_overrides(loss, width, overrides, out_dir)


def compose_overrides(loss: str, width: int, overrides: list[str], out_dir: Path, label: str = "") -> Case:
    """The config gan-run composes from ``overrides`` (``loss`` must match the loss override)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(out_dir)
        cfg.hydra.job.num = 0
    hydra_cfg = cfg.copy()
    HydraConfig.instance().set_config(hydra_cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return Case(loss, width, cfg, hydra_cfg, label)


# ---- A: gan-run's path -----------------------------------------------------------------------
def build_gan_run(case: Case, steps: int, run_dir: Path, logger: str) -> tuple[GANModule, pl.Trainer]:
    """The objects gan_cli.commands.train.train builds, minus Evaluation/LastCheckpoint/progress bar."""
    HydraConfig.instance().set_config(case.hydra_cfg)  # ${hydra:runtime.output_dir} resolves
    cfg = case.cfg.copy()
    cfg.steps = steps
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    module = build_module(cfg)  # as gan_cli.commands.train.train builds it
    run_dir.mkdir(parents=True, exist_ok=True)
    lg: Any = build(cfg.logger, "logger", save_dir=str(run_dir)) if logger == "tensorboard" else False
    trainer = build(cfg.trainer, "trainer", logger=lg, callbacks=[], enable_progress_bar=False)
    return module, trainer


def fit(module: GANModule, trainer: pl.Trainer) -> None:
    trainer.fit(module, ckpt_path=None, weights_only=True)  # as gan_cli.commands.train.train calls it


def time_gan_run(case: Case, steps: int, run_dir: Path, logger: str) -> tuple[float, GANModule]:
    module, trainer = build_gan_run(case, steps, run_dir, logger)
    start = time.perf_counter()
    fit(module, trainer)
    if module.device.type == "cuda":  # queued kernels count too (bench/throughput.py --device cuda)
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    if module.generator_step != steps:
        raise RuntimeError(f"{case.name}: gan-run made {module.generator_step} generator steps, expected {steps}")
    return elapsed, module


# ---- B: the hand-written loop ----------------------------------------------------------------
def build_raw(case: Case, device: str = "cpu") -> tuple:
    """Fresh networks (same classes, same seed, so the same initial weights as A's) on
    ``device``, the stream of real batches, and the optimizer factories:
    functools.partial(torch.optim.X, lr=…, …) from the config."""
    cfg = case.cfg
    torch.manual_seed(int(cfg.seed))
    dataset, generator, discriminator = build_data_and_networks(cfg)
    generator, discriminator = generator.to(device), discriminator.to(device)
    prepare_networks(cfg, generator, discriminator)
    make_g = build(cfg.optim.generator, "optim.generator")
    make_d = build(cfg.optim.discriminator, "optim.discriminator")
    # the same stream A's module reads: on-device samples (toy data), a DataLoader (images)
    real_batches = dataset.batches(int(cfg.batch_size), torch.device(device))
    return real_batches, generator, discriminator, make_g, make_d


def raw_loop(case: Case, steps: int, real_batches, G, D, make_g, make_d, bf16: bool = False) -> None:
    cfg = case.cfg
    n, latent = int(cfg.batch_size), int(cfg.model.latent_dim)
    n_critic = int(cfg.loss.n_critic)
    wgan = case.loss == "wgan"
    clip = float(cfg.loss.clip_value) if wgan else 0.0
    opt_g, opt_d = make_g(G.parameters()), make_d(D.parameters())
    d_params = list(D.parameters())
    device = next(G.parameters()).device
    # bf16 autocast around the forward passes, as Lightning's bf16-mixed precision does
    autocast = functools.partial(torch.autocast, device.type, dtype=torch.bfloat16, enabled=bf16)

    for _ in range(steps):
        for _ in range(n_critic):
            real = next(real_batches)
            with torch.no_grad(), autocast():
                fake = G(torch.randn(n, latent, device=device))
            with autocast():
                real_scores, fake_scores = D(real).float(), D(fake).float()
            if wgan:
                d_loss = fake_scores.mean() - real_scores.mean()
            else:
                d_loss = F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            if wgan:
                with torch.no_grad():
                    torch._foreach_clamp_min_(d_params, -clip)
                    torch._foreach_clamp_max_(d_params, clip)
        for p in d_params:
            p.requires_grad_(False)
        with autocast():
            fake_scores = D(G(torch.randn(n, latent, device=device))).float()
        g_loss = -fake_scores.mean() if wgan else F.softplus(-fake_scores).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)


def time_raw(case: Case, steps: int, device: str = "cpu", bf16: bool = False) -> tuple[float, torch.nn.Module]:
    objects = build_raw(case, device)
    start = time.perf_counter()
    raw_loop(case, steps, *objects, bf16=bf16)
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - start, objects[1]


def max_weight_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    with torch.no_grad():
        return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


# ---- reporting -----------------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def print_table(cases: list[Case]) -> float:
    print("| loss | width | n_critic | optim | gan-run ms/step | (min–max) | raw torch ms/step | (min–max) "
          "| ratio A/B | paired ratio | max abs ΔG weights |")
    print("| --- | ---: | ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: |")
    worst = 0.0
    for c in cases:
        ma, mb = statistics.median(c.a), statistics.median(c.b)
        ratio = ma / mb
        paired = statistics.median(x / y for x, y in zip(c.a, c.b))
        worst = max(worst, ratio)
        print(f"| {c.loss} | {c.width} | {c.cfg.loss.n_critic} | {OPTIM[c.loss]} | {ms(ma)} | "
              f"{ms(min(c.a))}–{ms(max(c.a))} | {ms(mb)} | {ms(min(c.b))}–{ms(max(c.b))} | "
              f"{ratio:.2f} | {paired:.2f} | {c.weight_diff:.1e} |")
    return worst


# ---- profile -------------------------------------------------------------------------------
def short_name(key: tuple[str, int, str]) -> str:
    filename, line, func = key
    if filename == "~":
        return func  # a C function
    for marker in ("site-packages/", "lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    else:
        try:
            filename = str(Path(filename).resolve().relative_to(REPO))
        except ValueError:
            pass
    return f"{filename}:{line} {func}"


FRAMEWORK = ("pytorch_lightning", "lightning_fabric", "lightning_utilities", "torchmetrics", "tensorboard",
             "gan_cli/", "omegaconf", "hydra")


def lookup(stats: dict, suffix: str, func: str) -> tuple[float, int]:
    """(cumulative seconds, primitive calls) of the functions named ``func`` in files ending with ``suffix``."""
    cum, calls = 0.0, 0
    for (filename, _, name), (cc, _nc, _tt, ct, _callers) in stats.items():
        if name == func and filename.replace(os.sep, "/").endswith(suffix):
            cum += ct
            calls += cc
    return cum, calls


def profile_case(case: Case, steps: int, root: Path, logger: str, top: int) -> None:
    print(f"\n## Profile: {case.name} (n_critic {case.cfg.loss.n_critic}, {OPTIM[case.loss]}), "
          f"{steps} generator steps, cProfile\n")
    # where the fit's wall time goes outside the training_step calls: one unprofiled A run with
    # the module's training_step wrapped (instance attribute) to timestamp the first and last step
    module, trainer = build_gan_run(case, steps, root / "profile-fixed", logger)
    inner = module.training_step
    marks: list[float] = []

    def timed_step(*args, **kwargs):
        t0 = time.perf_counter()
        out = inner(*args, **kwargs)
        marks.extend((t0, time.perf_counter()))
        return out

    module.training_step = timed_step  # type: ignore[method-assign]
    start = time.perf_counter()
    fit(module, trainer)
    end = time.perf_counter()
    in_steps = sum(marks[i + 1] - marks[i] for i in range(0, len(marks), 2))
    between = (marks[-2] - marks[1]) - sum(marks[i + 1] - marks[i] for i in range(2, len(marks) - 2, 2))
    print(f"Unprofiled A run, {steps} steps, {ms((end - start) / steps)} ms/step in all:")
    print(f"- fit() before the first training_step (setup, logger, dataloader): {ms(marks[0] - start)} ms once")
    print(f"- fit() after the last training_step (teardown, logger flush/close): {ms(end - marks[-1])} ms once")
    print(f"- inside training_step: {ms(in_steps / steps)} ms/step")
    print(f"- Lightning's loop between training_steps (batch fetch, hooks, logging, progress): "
          f"{ms(between / max(steps - 1, 1))} ms/step")

    # cProfile: A then B, same steps
    module, trainer = build_gan_run(case, steps, root / "profile-a", logger)
    prof_a = cProfile.Profile()
    t0 = time.perf_counter()
    prof_a.runcall(fit, module, trainer)
    wall_a = time.perf_counter() - t0
    objects = build_raw(case)
    prof_b = cProfile.Profile()
    t0 = time.perf_counter()
    prof_b.runcall(raw_loop, case, steps, *objects)
    wall_b = time.perf_counter() - t0
    sa = pstats.Stats(prof_a, stream=io.StringIO()).stats  # type: ignore[attr-defined]
    sb = pstats.Stats(prof_b, stream=io.StringIO()).stats  # type: ignore[attr-defined]
    per = 1e6 / steps  # seconds → µs per generator step
    print(f"\nUnder cProfile (which inflates Python-heavy code, i.e. the framework): gan-run "
          f"{ms(wall_a / steps)} ms/step, raw loop {ms(wall_b / steps)} ms/step.\n")

    opt_file = {"adam": "torch/optim/adam.py", "rmsprop": "torch/optim/rmsprop.py"}[OPTIM[case.loss]]
    rows = [
        ("whole fit() / whole raw loop", lookup(sa, "pytorch_lightning/trainer/trainer.py", "fit"), (wall_b, steps)),
        ("GANModule.training_step", lookup(sa, "gan_cli/training/loop.py", "training_step"), None),
        ("LightningOptimizer.step (wraps optimizer.step)", lookup(sa, "pytorch_lightning/core/optimizer.py", "step"),
         None),
        ("  torch optimizer .step itself", lookup(sa, opt_file, "step"), lookup(sb, opt_file, "step")),
        ("LightningModule.manual_backward", lookup(sa, "pytorch_lightning/core/module.py", "manual_backward"), None),
        ("  Tensor.backward itself", lookup(sa, "torch/_tensor.py", "backward"), lookup(sb, "torch/_tensor.py", "backward")),
        ("toggle_optimizer", lookup(sa, "pytorch_lightning/core/module.py", "toggle_optimizer"), None),
        ("untoggle_optimizer", lookup(sa, "pytorch_lightning/core/module.py", "untoggle_optimizer"), None),
        ("LightningModule.optimizers()", lookup(sa, "pytorch_lightning/core/module.py", "optimizers"), None),
        ("LightningModule.device", lookup(sa, "lightning_fabric/utilities/device_dtype_mixin.py", "device"), None),
        ("loss.discriminator_loss", lookup(sa, "gan_cli/objectives/losses.py", "discriminator_loss"), None),
        ("loss.after_discriminator_step", lookup(sa, "gan_cli/objectives/losses.py", "after_discriminator_step"), None),
        ("GANModule._log_step (every log_every)", lookup(sa, "gan_cli/training/module.py", "_log_step"), None),
        ("gradient_norm (every log_every)", lookup(sa, "gan_cli/training/parameters.py", "gradient_norm"), None),
        ("dataset.sample", lookup(sa, "gan_cli/data/toy.py", "sample"), lookup(sb, "gan_cli/data/toy.py", "sample")),
    ]
    print("| where (A = gan-run, B = raw loop) | A µs/step | A calls/step | B µs/step | B calls/step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, (cum_a, calls_a), b in rows:
        cum_b, calls_b = b if b is not None else (0.0, 0)
        calls = (f"{calls_a / steps:.2f}", f"{calls_b / steps:.2f}")
        if label.startswith("whole"):
            calls = ("–", "–")
            cum_a = cum_a or wall_a
        b_cells = f"{cum_b * per:.1f} | {calls[1]}" if b is not None else "– | –"
        print(f"| {label} | {cum_a * per:.1f} | {calls[0]} | {b_cells} |")

    # own (self) time per step, grouped by where the code lives
    def by_package(stats: dict) -> dict[str, float]:
        groups: dict[str, float] = {}
        for (filename, _, _), (_cc, _nc, tt, _ct, _callers) in stats.items():
            path = filename.replace(os.sep, "/")
            if filename == "~":
                group = "C functions (torch ops, autograd engine, builtins)"
            elif "site-packages/" in path:
                group = path.split("site-packages/", 1)[1].split("/", 1)[0]
            elif "/gan_cli/" in path:
                group = "gan_cli"
            elif path.endswith("bench/overhead.py"):
                group = "bench/overhead.py (the raw loop's own lines)"
            else:
                group = "Python standard library"
            groups[group] = groups.get(group, 0.0) + tt
        return groups

    ga, gb = by_package(sa), by_package(sb)
    print("\nOwn time per generator step by package (cProfile):\n")
    print("| package | A µs/step | B µs/step | A − B |")
    print("| --- | ---: | ---: | ---: |")
    for group in sorted(set(ga) | set(gb), key=lambda g: -(ga.get(g, 0.0) - gb.get(g, 0.0))):
        a, b = ga.get(group, 0.0) * per, gb.get(group, 0.0) * per
        if max(a, b) >= 0.5:
            print(f"| {group} | {a:.1f} | {b:.1f} | {a - b:+.1f} |")
    print(f"| total | {sum(ga.values()) * per:.1f} | {sum(gb.values()) * per:.1f} | "
          f"{(sum(ga.values()) - sum(gb.values())) * per:+.1f} |")

    def table(stats: dict, title: str, key: int, only_framework: bool) -> None:
        items = []
        for k, (cc, nc, tt, ct, _callers) in stats.items():
            name = short_name(k)
            if only_framework and not any(m in k[0].replace(os.sep, "/") for m in FRAMEWORK):
                continue
            items.append((ct if key == 3 else tt, nc, tt, ct, name))
        items.sort(reverse=True)
        print(f"\n{title}\n")
        print("| cumulative µs/step | own µs/step | calls/step | function |")
        print("| ---: | ---: | ---: | --- |")
        for _, nc, tt, ct, name in items[:top]:
            print(f"| {ct * per:.1f} | {tt * per:.1f} | {nc / steps:.2f} | `{name}` |")

    table(sa, f"A: top {top} Lightning / gan_cli / logger functions by cumulative time", 3, True)
    table(sa, f"A: top {top} functions by own time (everything)", 2, False)
    table(sb, f"B: top {min(top, 12)} functions by own time (everything), for comparison", 2, False)

    # torch.profiler: which tensor ops A runs that B does not
    def op_counts(fn, *args) -> dict[str, tuple[int, float]]:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            fn(*args)
        return {e.key: (e.count, e.self_cpu_time_total) for e in prof.key_averages()}

    module, trainer = build_gan_run(case, steps, root / "profile-ops", logger)
    ops_a = op_counts(fit, module, trainer)
    ops_b = op_counts(raw_loop, case, steps, *build_raw(case))
    diffs = []
    for op in set(ops_a) | set(ops_b):
        ca, ta = ops_a.get(op, (0, 0.0))
        cb, tb = ops_b.get(op, (0, 0.0))
        if ca != cb:
            diffs.append((ta - tb, (ca - cb) / steps, ta / steps, tb / steps, op))
    diffs.sort(reverse=True)
    total_a = sum(t for _, t in ops_a.values()) / steps
    total_b = sum(t for _, t in ops_b.values()) / steps
    print(f"\ntorch.profiler: self CPU time of all torch ops, per generator step: A {total_a:.1f} µs, "
          f"B {total_b:.1f} µs. Ops whose count differs, A minus B, by extra self CPU time "
          f"(top {min(top, 12)}):\n")
    print("| extra calls/step | A self µs/step | B self µs/step | op |")
    print("| ---: | ---: | ---: | --- |")
    for _, dcount, ta, tb, op in diffs[:min(top, 12)]:
        print(f"| {dcount:+.2f} | {ta:.1f} | {tb:.1f} | `{op}` |")


# ---- main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds per case (default 5)")
    parser.add_argument("--steps", type=int, default=300, help="generator steps per timed run (default 300)")
    parser.add_argument("--warmup-steps", type=int, default=30, help="generator steps of the warm-up runs (default 30)")
    parser.add_argument("--losses", default="gan,wgan", help="comma-separated, from: gan, wgan (default both)")
    parser.add_argument("--widths", default="64,256,512", help="hidden widths of the 3-layer MLPs (default 64,256,512)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: leave torch's default)")
    parser.add_argument("--logger", choices=["tensorboard", "none"], default="tensorboard",
                        help="A's logger: the default TensorBoard logger (log_every 50) or none")
    parser.add_argument("--profile", action="store_true", help="profile one short A and B run afterwards")
    parser.add_argument("--profile-case", default="wgan:64", help="LOSS:WIDTH to profile (default wgan:64)")
    parser.add_argument("--profile-steps", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="rows in each profile table")
    args = parser.parse_args(argv)

    losses = [x.strip() for x in args.losses.split(",") if x.strip()]
    widths = [int(x) for x in args.widths.split(",") if x.strip()]
    if not losses or any(x not in OPTIM for x in losses):
        parser.error(f"--losses: choose from {', '.join(OPTIM)}")
    if args.rounds < 1 or args.steps < 1 or args.warmup_steps < 0 or not widths:
        parser.error("--rounds and --steps must be >= 1, --warmup-steps >= 0, --widths not empty")

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    print("## gan-run training-loop overhead: seconds per generator step, Lightning (A) vs plain torch (B)\n")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable); "
          f"torch {torch.__version__}, pytorch-lightning {pl.__version__}, Python {platform.python_version()}")
    print(f"- OpenMP wait policy: {os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"GOMP_SPINCOUNT: {os.environ.get('GOMP_SPINCOUNT', 'unset')}")
    print(f"- torch threads: {threads} ({'--threads' if args.threads is not None else 'torch default'}), "
          f"interop threads: {torch.get_num_interop_threads()}")
    print(f"- {args.rounds} rounds × {args.steps} generator steps per run, A then B for every case in each round, "
          f"after a {args.warmup_steps}-step warm-up of each; batch {args.batch_size}, ring data, seed {args.seed}")
    print(f"- A: Trainer from trainer=cpu, logger: "
          f"{'TensorBoard, log_every 50 (the default)' if args.logger == 'tensorboard' else 'off (logger=False)'}; "
          "callbacks=[] (no Evaluation, no checkpoints, no progress bar); fit() timed whole")
    print("- B: plain torch loop, inline loss formulas, same optimizers; no logging")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        print(f"- load average (1 min) at the start: {load:.2f}"
              + (" -- the machine is busy: expect noisy figures (and with several torch threads on a "
                 "shared core, much slower ones; try --threads 1)" if load > 0.5 else ""))
    print()

    with tempfile.TemporaryDirectory(prefix="gan-run-bench-overhead-") as tmp:
        root = Path(tmp)
        cases = [compose_case(loss, w, args.batch_size, args.seed, root / "hydra") for loss in losses for w in widths]
        profile_target = None
        if args.profile:
            ploss, _, pwidth = args.profile_case.partition(":")
            if ploss not in OPTIM or not pwidth.isdigit():
                parser.error("--profile-case: LOSS:WIDTH, e.g. wgan:64")
            profile_target = next((c for c in cases if c.loss == ploss and c.width == int(pwidth)), None) or \
                compose_case(ploss, int(pwidth), args.batch_size, args.seed, root / "hydra")

        runs = 0
        if args.warmup_steps:
            for c in cases:
                time_gan_run(c, args.warmup_steps, root / f"run{runs}", args.logger)
                time_raw(c, args.warmup_steps)
                runs += 1
        for r in range(args.rounds):
            for c in cases:
                t, module = time_gan_run(c, args.steps, root / f"run{runs}", args.logger)
                c.a.append(t / args.steps)
                t, G = time_raw(c, args.steps)
                c.b.append(t / args.steps)
                c.weight_diff = max_weight_diff(module.generator, G)
                runs += 1
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        if torch.get_num_threads() != threads:
            print(f"note: torch threads changed during the runs: {threads} → {torch.get_num_threads()}")

        worst = print_table(cases)
        print("\nratio A/B: median A / median B; paired ratio: median over rounds of A/B within a round; "
              "ΔG: largest |A − B| generator weight after the last round (0 or ~1e-7: the same computation).")
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
        print(f"load average (1 / 5 / 15 min) at the end: {load}")

        if profile_target is not None:
            profile_case(profile_target, args.profile_steps, root, args.logger, args.top)

    print(f"\noverhead ratio (gan-run / raw torch): {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

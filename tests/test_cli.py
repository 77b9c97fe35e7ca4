"""The gan-run and gan-sample console scripts, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import images, job_folder, run_cli, scalars
from gan_cli.commands.sample import load_generator
from gan_cli.commands.sample import main as sample_main

GAN_TAGS = {"discriminator/loss", "discriminator/real_score", "discriminator/fake_score", "discriminator/js_estimate"}
WGAN_TAGS = {"critic/loss", "critic/wasserstein_estimate"}
ALWAYS = {"generator/loss", "grad_norm/generator", "grad_norm/discriminator"}
EVAL_TAGS = {"eval/modes", "eval/high_quality_pct", "eval/mode_kl", "eval/wasserstein_exact",
             "eval/precision", "eval/recall", "eval/density", "eval/coverage"}  # PRDC on the coordinates


def only_run_dir(root: Path) -> Path:
    runs = [p for p in (root / "outputs" / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def load_ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_help_lists_every_group_and_option(gan_run_process, tmp_path):
    result = gan_run_process("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "gan-run" in out
    assert "loss: gan, gan_minimax, hinge, lsgan, wgan, wgan_gp" in out
    assert "optim: adam, named, rmsprop, sgd" in out
    assert ("dataset: cifar10, gaussian1d, grid, image_folder, mnist, mnist5k, ring, shapes, stacked_mnist, "
            "swissroll") in out
    assert "trainer: cpu, ddp, ddp_cpu, gpu, smoke" in out
    assert not (tmp_path / "outputs").exists()


def hydra_own_help(*args: str, cwd: Path) -> str:
    """What Hydra's own ``--help`` prints for ``gan-run <args> --help`` (gan-run answers
    --help itself, gan_cli/commands/help.py; this calls the @hydra.main function directly)."""
    code = "import sys; from gan_cli.commands.run import run_job; sys.argv = ['gan-run', *sys.argv[1:]]; run_job()"
    result = subprocess.run([sys.executable, "-c", code, *args, "--help"], cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("overrides", [(), ("loss=wgan", "optim=rmsprop", "steps=7")])
def test_help_prints_what_hydras_own_help_prints(gan_run_process, tmp_path, overrides):
    ours = gan_run_process(*overrides, "--help")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == hydra_own_help(*overrides, cwd=tmp_path)


def test_help_of_a_sweep_shows_one_job_and_a_bad_option_is_one_line(gan_run_process, tmp_path):
    sweep = gan_run_process("-m", "loss=gan,wgan", "optim=sgd", "--help")
    assert sweep.returncode == 0, sweep.stderr
    assert "loss: gan, gan_minimax, hinge, lsgan, wgan, wgan_gp" in sweep.stdout
    assert "_target_: torch.optim.SGD" in sweep.stdout  # the non-sweep override is applied
    bad = gan_run_process("loss=nope", "--help")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: loss=nope: config group 'loss' has no option 'nope'; available: gan, gan_minimax, hinge, lsgan, "
        "wgan, wgan_gp"]
    assert not (tmp_path / "outputs").exists()


def test_cfg_job_prints_the_composed_config_and_runs_nothing(gan_run_process, tmp_path):
    result = gan_run_process("--cfg", "job", "loss=wgan", "optim=rmsprop")
    assert result.returncode == 0, result.stderr
    assert "_target_: gan_cli.objectives.losses.WassersteinLoss" in result.stdout
    assert "clip_value: 0.01" in result.stdout
    assert "_target_: torch.optim.RMSprop" in result.stdout
    assert not (tmp_path / "outputs").exists()


def test_wgan_rmsprop_smoke_run_writes_curves_clipped_checkpoint_and_summary(gan_run_process, tmp_path):
    result = gan_run_process("loss=wgan", "optim=rmsprop", "trainer=smoke")
    assert result.returncode == 0, result.stderr
    run = only_run_dir(tmp_path)
    assert "warning" not in result.stderr.lower()
    assert f"tensorboard --logdir {run}" in result.stdout

    series = scalars(run)
    assert WGAN_TAGS | ALWAYS <= set(series)
    assert not (GAN_TAGS & set(series))
    # x-axis is the generator step: 1..steps, every step logged under trainer=smoke
    assert [step for step, _ in series["critic/wasserstein_estimate"]] == list(range(1, 11))

    ckpt = load_ckpt(run / "checkpoints" / "last.ckpt")
    critic = {k: v for k, v in ckpt["state_dict"].items() if k.startswith("discriminator.")}
    assert critic and any(k.startswith("generator.") for k in ckpt["state_dict"])
    for name, weight in critic.items():
        assert weight.abs().max().item() <= 0.01 + 1e-7, name
    assert ckpt["gan_run"]["generator_step"] == 10

    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["steps"] == 10
    assert summary["overrides"] == ["loss=wgan", "optim=rmsprop", "trainer=smoke"]
    assert set(summary["final"]) >= WGAN_TAGS | ALWAYS | EVAL_TAGS | {"eval/critic_lipschitz", "eval/wasserstein_estimate"}
    assert set(summary["best"]) == EVAL_TAGS  # the critic's own figures are not ranked
    assert (run / ".hydra" / "config.yaml").is_file()

    # evaluation every 5 steps under trainer=smoke: protocol metrics, a PNG and a TensorBoard image
    assert [s for s, _ in series["eval/modes"]] == [5, 10]
    assert all(0 <= v <= 8 for _, v in series["eval/modes"])
    assert sorted(p.name for p in (run / "figures").iterdir()) == ["step_000005.png", "step_000010.png"]
    assert (run / "figures" / "step_000010.png").read_bytes()[:4] == b"\x89PNG"
    assert "samples" in images(run)


def test_wgan_with_momentum_optimizer_warns_once_quoting_the_paper(gan_run):
    result = gan_run("loss=wgan", "optim=adam", "trainer=smoke", "steps=2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("momentum based optimizer") == 1
    quiet = gan_run("loss=wgan", "optim=sgd", "trainer=smoke", "steps=2")
    assert "momentum based optimizer" not in quiet.stderr
    loud = gan_run("loss=wgan", "optim=sgd", "optim.momentum=0.9", "trainer=smoke", "steps=2")
    assert loud.stderr.count("momentum based optimizer") == 1


def test_multirun_two_losses_by_three_optimizers_makes_six_job_folders(gan_run, tmp_path):
    result = gan_run("-m", "loss=gan,wgan", "optim=rmsprop,sgd,adam", "trainer=smoke", "steps=3")
    assert result.returncode == 0, result.stderr
    sweeps = list((tmp_path / "outputs" / "multiruns").iterdir())
    assert len(sweeps) == 1
    jobs = sorted(p for p in sweeps[0].iterdir() if p.is_dir())
    assert [p.name.partition("_")[0] for p in jobs] == ["0", "1", "2", "3", "4", "5"]
    assert jobs[5].name == "5_loss-wgan_optim-adam_steps-3_trainer-smoke"  # named by its overrides
    seen = set()
    for job in jobs:
        summary = json.loads((job / "summary.json").read_text())
        assert summary["status"] == "completed"
        seen.add(tuple(summary["overrides"][:2]))
        assert (job / "checkpoints" / "last.ckpt").is_file()
        tags = set(scalars(job))
        assert ALWAYS <= tags
        assert (WGAN_TAGS <= tags) if "loss=wgan" in summary["overrides"] else (GAN_TAGS <= tags)
    assert len(seen) == 6


@pytest.mark.slow
@pytest.mark.parametrize("setting", [
    ["loss=wgan_gp"],
    # packed D, a learning-rate schedule (its state travels in the checkpoint) and G's weight average
    ["model=pacgan", "lr_schedule=cosine", "lr_schedule.T_max=40", "ema_decay=0.9"],
    # image data: the resumed DataLoader reads on from the checkpoint's batch (epoch 3, batch 3 of 6)
    ["dataset=shapes", "dataset.num_images=100", "dataset.resolution=8", "dataset.num_workers=0", "batch_size=16"],
], ids=["wgan_gp", "pacgan_cosine_ema", "images"])
def test_resume_from_checkpoint_equals_an_uninterrupted_run(gan_run, tmp_path, setting):
    common = [*setting, "trainer=smoke", "seed=7"]
    straight = gan_run(*common, "steps=40", "hydra.run.dir=straight")
    first = gan_run(*common, "steps=20", "hydra.run.dir=first")
    assert straight.returncode == 0 and first.returncode == 0, straight.stderr + first.stderr
    resumed = gan_run(*common, "steps=40", "hydra.run.dir=resumed", "ckpt_path=first/checkpoints/last.ckpt")
    assert resumed.returncode == 0, resumed.stderr

    a = load_ckpt(tmp_path / "straight/checkpoints/last.ckpt")
    b = load_ckpt(tmp_path / "resumed/checkpoints/last.ckpt")
    assert b["gan_run"]["generator_step"] == 40
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, atol=1e-6, rtol=0, msg=key)
    # the resumed run's curves continue from step 21
    assert [s for s, _ in scalars(tmp_path / "resumed")["generator/loss"]] == list(range(21, 41))


def test_gan_sample_writes_n_by_dim_array(gan_run, tmp_path):
    assert gan_run("trainer=smoke", "dataset=grid").returncode == 0
    ckpt = only_run_dir(tmp_path) / "checkpoints" / "last.ckpt"
    result = run_cli("gan-sample", str(ckpt), "--num", "2500", "--out", "samples.npy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (2500, 2) and np.isfinite(samples).all()
    # generated 7 at a time (bounded memory), the same samples
    sample_main([str(ckpt), "--num", "2500", "--batch-size", "7", "--out", str(tmp_path / "small_batches.npy")])
    np.testing.assert_allclose(np.load(tmp_path / "small_batches.npy"), samples, rtol=0, atol=1e-6)


def test_gan_sample_draws_from_the_weight_average_that_evaluation_used(gan_run, tmp_path):
    result = gan_run("trainer=smoke", "ema_decay=0.5", "lr_schedule=linear_decay", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    state = load_ckpt(tmp_path / "run/checkpoints/last.ckpt")["state_dict"]
    average = {k: v for k, v in state.items() if k.startswith("generator_ema.module.")}
    last = {k: v for k, v in state.items() if k.startswith("generator.")}
    assert average.keys() and len(average) == len(last)
    assert any(not torch.equal(v, last[k.replace("generator_ema.module.", "generator.")]) for k, v in average.items())
    # the generator gan-sample rebuilds holds the average's weights, not the last iterate's
    generator, _ = load_generator(tmp_path / "run/checkpoints/last.ckpt")
    for k, v in generator.state_dict().items():
        torch.testing.assert_close(v, average[f"generator_ema.module.{k}"], rtol=0, atol=0)
    # the linear decay reached 0 at the last generator step, and the curve shows it
    lr = scalars(tmp_path / "run")["lr/generator"]
    assert lr[0][1] > lr[-1][1] == 0.0


def test_image_data_logs_sample_grids_and_gan_sample_writes_a_png_grid(gan_run, tmp_path):
    result = gan_run("dataset=shapes", "dataset.num_images=256", "dataset.resolution=16", "trainer=smoke",
                     "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    assert "samples" in images(run)
    grid = run / "figures" / "step_000010.png"
    from PIL import Image

    with Image.open(grid) as picture:  # 8 × 8 images of 16 px with 2 px borders
        assert picture.size == (8 * 18 + 2, 8 * 18 + 2) and picture.mode == "RGB"
    out = run_cli("gan-sample", str(run / "checkpoints" / "last.ckpt"), "--num", "16", "--out", "grid.png",
                  cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    with Image.open(tmp_path / "grid.png") as picture:  # 8 per row, 2 rows
        assert picture.size == (8 * 18 + 2, 2 * 18 + 2)
    sample_main([str(run / "checkpoints" / "last.ckpt"), "--num", "5", "--out", str(tmp_path / "images.npy")])
    array = np.load(tmp_path / "images.npy")  # N × C × H × W, in the generator's [-1, 1]
    assert array.shape == (5, 3, 16, 16) and np.abs(array).max() <= 1


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_in_a_multirun_writes_one_checkpoint_per_job(gan_run_process, tmp_path):
    # ddp_cpu spawns its workers, so it works inside a Hydra multirun (the subprocess launcher
    # would re-run the whole sweep command); a GAN job and a WGAN-GP job, 2 processes each.
    # ema_decay: G's weight average must survive the pickling that spawning does
    result = gan_run_process("-m", "trainer=ddp_cpu", "loss=gan,wgan_gp", "steps=4", "log_every=1",
                             "model.hidden=[16]", "batch_size=32", "ema_decay=0.5", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "sweep: 2 jobs, 2 completed" in result.stdout
    for job in (0, 1):
        assert sorted(p.name for p in (job_folder(tmp_path / "sweep", job) / "checkpoints").iterdir()) == ["last.ckpt"]
        ckpt = load_ckpt(job_folder(tmp_path / "sweep", job) / "checkpoints" / "last.ckpt")
        assert ckpt["gan_run"]["generator_step"] == 4
        assert any(k.startswith("generator_ema.module.") for k in ckpt["state_dict"])
        summary = json.loads((job_folder(tmp_path / "sweep", job) / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["steps"] == 4


@pytest.mark.slow
def test_ddp_subprocess_launcher_runs_rank_zero_bookkeeping_once(gan_run_process, tmp_path):
    # trainer=ddp's strategy, on 2 CPU processes: Lightning re-runs gan-run for rank 1
    result = gan_run_process("trainer=smoke", "steps=4", "trainer.devices=2",
                     "+trainer.strategy=ddp_find_unused_parameters_true", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 4
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["last.ckpt"]


def test_sample_every_draws_figures_between_evaluations(gan_run, tmp_path):
    result = gan_run("trainer=smoke", "eval_every=0", "sample_every=3", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    # figures every 3 steps and at the end; the metrics only at the end (eval_every=0)
    assert sorted(p.name for p in (tmp_path / "run/figures").iterdir()) == [
        "step_000003.png", "step_000006.png", "step_000009.png", "step_000010.png"]
    assert [s for s, _ in scalars(tmp_path / "run")["eval/modes"]] == [10]

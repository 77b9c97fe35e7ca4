"""``gan-run --resume DIR``: a run, or one job of a sweep, continues from its folder with one
short command and no quoting: the folder's stored overrides, its checkpoint, its folder."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from conftest import job_folder


def trained_steps(folder: Path) -> int:
    checkpoint = torch.load(folder / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return checkpoint["gan_run"]["generator_step"]


def test_a_single_run_resumes_from_its_folder_with_its_own_overrides(gan_run, tmp_path):
    first = gan_run("trainer=smoke", "loss=wgan", "model.hidden=[8]", "steps=3", "hydra.run.dir=outputs/run")
    assert first.returncode == 0, first.stderr
    run = tmp_path / "outputs" / "run"
    result = gan_run("--resume", "outputs/run", "steps=5")  # loss and model.hidden come from the folder
    assert result.returncode == 0, result.stderr
    assert trained_steps(run) == 5
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and "loss=wgan" in summary["overrides"]
    assert [p.name for p in (tmp_path / "outputs").iterdir()] == ["run"]  # in its own folder, no new one
    # an override beside it is checked as on any command line, and a refused resume (other
    # settings, or no steps left) leaves the finished run's folder as it was
    kept = {name: (run / name).read_bytes() for name in ("summary.json", ".hydra/overrides.yaml", ".hydra/config.yaml")}
    refused = gan_run("--resume", "outputs/run", "steps=7", "loss=gan")
    assert refused.returncode == 2 and "loss (WassersteinLoss → NonSaturatingGANLoss)" in refused.stderr
    nothing_left = gan_run("--resume", "outputs/run")
    assert nothing_left.returncode == 2 and "has already trained 5 generator steps" in nothing_left.stderr
    assert {name: (run / name).read_bytes() for name in kept} == kept
    missing = gan_run("--resume", "outputs/nothing")
    assert missing.returncode == 2 and missing.stderr.startswith("error: --resume outputs/nothing: not a gan-run run folder")


def test_a_sweep_job_resumes_from_its_folder_whose_name_needs_no_quoting(gan_run, tmp_path):
    result = gan_run("-m", "trainer=smoke", "steps=3", "loss=gan,wgan", "optim.lr=0.00012345678", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    job = job_folder(tmp_path / "sweep", 1)
    assert job.name == "1_loss-wgan_optim.lr-0.000123_steps-3_trainer-smoke"  # rounded; exact in its config
    assert not set("=,'\"[]") & set(job.name)
    summary = json.loads((job / "summary.json").read_text())
    summary["status"] = "running"  # as a job killed mid-run leaves it
    (job / "summary.json").write_text(json.dumps(summary))
    resumed = gan_run("--resume", f"sweep/{job.name}", "steps=5")
    assert resumed.returncode == 0, resumed.stderr
    assert trained_steps(job) == 5
    assert json.loads((job / "summary.json").read_text())["status"] == "completed"
    # the swept values were the job's own (a resume with loss=gan would have been refused)
    assert "optim.lr=0.00012345678" in (job / ".hydra" / "overrides.yaml").read_text()

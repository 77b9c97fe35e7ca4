"""A sweep killed with SIGKILL continues where it stopped when the same command runs again with
the same hydra.sweep.dir: completed jobs are not retrained, the interrupted one resumes from its
checkpoint, and an Optuna study keeps its finished trials (SQLite storage in the sweep folder)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import compose_and_train, console_script, job_folder

SWEEP_STEPS = ("10", "12", "150", "14")  # job 2 is long enough to be killed after its first checkpoint
SWEEP = ("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=1", "trainer=smoke", "eval_every=0",
         "checkpoint_every=5", f"steps={','.join(SWEEP_STEPS)}", "hydra.sweep.dir=sweep")


def start_in_own_group(args: tuple[str, ...], cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen([console_script("gan-run"), *args], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_group_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    """SIGKILL the whole process group (the launcher and any workers) once ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.poll() is None, "the sweep ended before the moment to kill it"
            assert time.monotonic() < deadline, "the sweep never reached the moment to kill it"
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def status(job: Path) -> str | None:
    try:
        return json.loads((job / "summary.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


def fingerprint(job: Path) -> dict[str, tuple[int, int]]:
    files = [job / "summary.json", job / "checkpoints" / "last.ckpt", *job.glob("events.out.tfevents.*")]
    return {f.name: (f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file()}


@pytest.mark.slow
def test_a_killed_joblib_sweep_continues_without_retraining_and_resumes_exactly(gan_run, tmp_path):
    sweep = tmp_path / "sweep"

    def two_done_and_third_checkpointed() -> bool:
        jobs = [p for p in sweep.glob("*") if p.is_dir()] if sweep.is_dir() else []
        third = [p for p in jobs if p.name.split("_", 1)[0] == "2"]
        return (sum(status(p) == "completed" for p in jobs) >= 2 and bool(third)
                and (third[0] / "checkpoints" / "last.ckpt").is_file())

    kill_group_when(start_in_own_group(SWEEP, tmp_path), two_done_and_third_checkpointed)
    assert [status(job_folder(sweep, n)) for n in (0, 1, 2)] == ["completed", "completed", "running"]
    assert not any(p.name.split("_", 1)[0] == "3" for p in sweep.iterdir())
    before = {n: fingerprint(job_folder(sweep, n)) for n in (0, 1)}

    result = gan_run(*SWEEP)  # the same command again
    assert result.returncode == 0, result.stderr
    assert "sweep: 4 jobs, 4 completed" in result.stdout
    assert result.stdout.count("completed in an earlier attempt with the same config; not run again") == 2
    assert "job 2: running in an earlier attempt; resuming from" in result.stdout
    for n in (0, 1):  # not retrained: their files are the same files
        assert fingerprint(job_folder(sweep, n)) == before[n]

    # the resumed job equals an uninterrupted run of the same job
    resumed = job_folder(sweep, 2)
    reference = compose_and_train(tmp_path / "reference", ["trainer=smoke", "eval_every=0", "checkpoint_every=5",
                                                           f"steps={SWEEP_STEPS[2]}"])
    weights = torch.load(resumed / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    expected = torch.load(tmp_path / "reference" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert weights.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(weights[name], expected[name], atol=1e-6, rtol=0)
    summary = json.loads((resumed / "summary.json").read_text())
    assert summary["steps"] == reference["steps"] == 150
    for tag, value in reference["final"].items():
        assert summary["final"][tag] == pytest.approx(value, abs=1e-6), tag

    from gan_cli.commands.report import main as gan_report

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gan_report([str(sweep)])
    rows = [line for line in out.getvalue().splitlines() if line.startswith("| ") and "completed" in line]
    assert len(rows) == 4, out.getvalue()


def test_a_diverged_job_is_kept_unless_rerun_asks_and_a_changed_config_is_refused(gan_run, tmp_path):
    # LSGAN with SGD at lr 10 diverges within a few steps; at lr 1e-3 it completes
    args = ("-m", "trainer=smoke", "eval_every=0", "loss=lsgan", "optim=sgd", "optim.lr=1e-3,10",
            "hydra.sweep.dir=sweep")
    assert gan_run(*args).returncode == 1
    sweep = tmp_path / "sweep"
    diverged = job_folder(sweep, 1)
    before = fingerprint(diverged)
    again = gan_run(*args)
    assert again.returncode == 1 and "job 1: diverged in an earlier attempt" in again.stderr
    assert "pass rerun=failed to run it again" in again.stderr and fingerprint(diverged) == before
    rerun = gan_run(*args, "rerun=failed")
    assert "job 0: completed in an earlier attempt" in rerun.stdout
    assert "diverged at generator step" in rerun.stderr and fingerprint(diverged) != before

    # a config file edited between the two commands: the completed job's digest no longer matches
    summary_path = job_folder(sweep, 0) / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary_path.write_text(json.dumps({**summary, "config_digest": "0" * 16}))
    changed = gan_run(*args)
    assert "holds a completed run of another config" in changed.stderr and "rerun=all" in changed.stderr
    assert json.loads(summary_path.read_text())["config_digest"] == "0" * 16  # left as it was


@pytest.mark.slow
def test_a_killed_optuna_study_continues_from_its_sqlite_file_with_its_finished_trials(gan_run, tmp_path):
    optuna = pytest.importorskip("optuna")
    args = ("-m", "hparams_search=optuna", "hydra.sweeper.n_trials=3", "trainer=smoke", "eval_every=0",
            "hydra.sweep.dir=search")
    search = tmp_path / "search"

    def two_trials_told() -> bool:  # the sweeper has recorded two finished trials in the study
        if not (search / "optuna.db").is_file():
            return False
        try:
            with contextlib.closing(sqlite3.connect(search / "optuna.db", timeout=1)) as db:
                return db.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0] >= 2
        except sqlite3.Error:  # the tables are not there yet
            return False

    kill_group_when(start_in_own_group(args, tmp_path), two_trials_told)
    storage = f"sqlite:///{search / 'optuna.db'}"
    earlier = {t.number: (t.params, t.value) for t in optuna.load_study(study_name="gan-run", storage=storage).trials
               if t.state == optuna.trial.TrialState.COMPLETE}
    assert len(earlier) >= 2
    assert not (search / "optimization_results.yaml").exists()

    result = gan_run(*args)  # the same command again
    assert result.returncode == 0, result.stderr
    assert f"{len(earlier)} of n_trials=3 trials finished earlier" in result.stdout
    trials = optuna.load_study(study_name="gan-run", storage=storage).trials
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    for number, (params, value) in earlier.items():  # kept as they were
        assert (trials[number].params, trials[number].value) == (params, value)
    assert (search / "optimization_results.yaml").is_file()


@pytest.mark.slow
def test_an_optuna_search_over_seeds_ranks_the_mean_and_a_killed_one_continues(gan_run, tmp_path):
    """hydra.sweeper.seeds=3: each trial runs seeds 0-2 and Optuna is told their mean; a trial
    left RUNNING by a kill is failed and replaced, its jobs numbered after the earlier ones."""
    optuna = pytest.importorskip("optuna")
    args = ("-m", "hparams_search=optuna", "hydra.sweeper.seeds=3", "trainer=smoke", "eval_every=0",
            "hydra.sweep.dir=search")
    assert gan_run(*args, "hydra.sweeper.n_trials=1").returncode == 0
    storage = f"sqlite:///{tmp_path / 'search' / 'optuna.db'}"
    study = optuna.load_study(study_name="gan-run", storage=storage)
    study.ask()  # what a search killed during its second trial leaves: a RUNNING trial

    result = gan_run(*args, "hydra.sweeper.n_trials=2")
    assert result.returncode == 0, result.stderr
    assert "1 of n_trials=2 trials finished earlier, 1 to run" in result.stdout
    trials = optuna.load_study(study_name="gan-run", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    folders = sorted((tmp_path / "search").glob("[0-9]*"), key=lambda p: int(p.name.split("_")[0]))
    assert [int(p.name.split("_")[0]) for p in folders] == [0, 1, 2, 6, 7, 8]
    for trial, jobs in ((trials[0], folders[:3]), (trials[2], folders[3:])):
        values = [json.loads((job / "summary.json").read_text())["final"]["eval/wasserstein_exact"] for job in jobs]
        seeds = [json.loads((job / "summary.json").read_text())["overrides"][-1] for job in jobs]
        assert seeds == ["seed=0", "seed=1", "seed=2"]
        assert trial.user_attrs["seed_values"] == {str(s): pytest.approx(v) for s, v in enumerate(values)}
        assert trial.value == pytest.approx(np.mean(values))
        assert trial.user_attrs["seed_se"] == pytest.approx(np.std(values, ddof=1) / np.sqrt(3))

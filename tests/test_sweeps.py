"""Sweeps beyond the basic launcher: Optuna's TPE search and joblib's parallel jobs, through
Hydra's plugins, and the objective value a job returns to a sweeper."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from conftest import job_folder
from gan_cli.training import threads
from gan_cli.sweeps.multirun import objective_value


def test_optuna_log_lines_carry_no_colour_codes_in_a_pipe(monkeypatch):
    import io
    import logging

    import optuna

    from hydra_plugins.gan_run_optuna.resumable_sweeper import colour_only_in_a_terminal

    pipe = io.StringIO()  # not a terminal, as stderr is when piped to a file
    monkeypatch.setattr("sys.stderr", pipe)
    optuna.logging._reset_library_root_logger()  # Optuna's handler binds sys.stderr when it is made
    try:
        colour_only_in_a_terminal()
        optuna.logging.get_logger("optuna.study").info("A new study created")
        assert "A new study created" in pipe.getvalue() and "\x1b[" not in pipe.getvalue()
    finally:
        optuna.logging._reset_library_root_logger()
        logging.getLogger("optuna").propagate = True


def test_objective_value_reads_final_or_best_and_never_returns_nan():
    summary = {"final": {"eval/wasserstein_exact": 0.5, "critic/loss": "nan"}, "best": {"eval/modes": 8.0}}
    assert objective_value(summary, "final.eval/wasserstein_exact") == 0.5
    assert objective_value(summary, "best.eval/modes") == 8.0
    assert objective_value(summary, "final.critic/loss") == math.inf  # diverged: the worst value
    assert objective_value({"status": "failed"}, "final.eval/wasserstein_exact", if_missing=-1.0) == -1.0


def test_optuna_search_runs_three_trials_and_writes_its_results(gan_run, tmp_path):
    result = gan_run("-m", "hparams_search=optuna", "hydra.sweeper.n_trials=3", "trainer=smoke",
                     "hydra.sweep.dir=search")
    assert result.returncode == 0, result.stderr
    results = yaml.safe_load((tmp_path / "search" / "optimization_results.yaml").read_text())
    assert set(results["best_params"]) == {"optim.generator.lr", "optim.discriminator.lr", "loss.n_critic",
                                           "loss.gp_weight"}
    assert 0 < results["best_value"] < math.inf
    assert sorted(p.name.partition("_")[0] for p in (tmp_path / "search").iterdir() if p.is_dir()) == ["0", "1", "2"]
    assert (tmp_path / "search" / "optuna.db").is_file()  # the study, kept in the sweep folder


@pytest.mark.slow
def test_the_grid_search_ranks_settings_by_their_mean_over_seeds(gan_run, tmp_path):
    """hparams_search=grid on the grid preset: each trial its seeds' mean high-quality share, maximised."""
    result = gan_run("-m", "experiment=grid_benchmark", "hparams_search=grid", "hydra.sweeper.n_trials=1",
                     "hydra.sweeper.seeds=2", "trainer=smoke", 'hydra.sweeper.params.steps="choice(10,12)"',
                     "hydra.sweep.dir=search")
    assert result.returncode == 0, result.stderr
    results = yaml.safe_load((tmp_path / "search" / "optimization_results.yaml").read_text())
    assert set(results["best_params"]) == {"constraint.weight", "optim.lr", "model.latent_dim", "ema_decay", "steps"}
    jobs = sorted(p for p in (tmp_path / "search").iterdir() if p.is_dir())
    shares = [json.loads((job / "summary.json").read_text())["final"]["eval/high_quality_pct"] for job in jobs]
    assert len(jobs) == 2 and results["best_value"] == pytest.approx(sum(shares) / 2)


@pytest.mark.slow
def test_image_jobs_under_the_joblib_launcher_start_their_loader_workers(gan_run, tmp_path):
    """A loky worker's default multiprocessing context cannot start torch's DataLoader workers
    ('Process' object has no attribute 'env'): the loader asks for the platform's own."""
    result = gan_run("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=0,1", "trainer=smoke",
                     "dataset=shapes", "dataset.num_images=128", "dataset.num_workers=1", "model=dcgan",
                     "model.width=8", "eval.features=none", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    assert "sweep: 2 jobs, 2 completed" in result.stdout


@pytest.mark.slow
def test_joblib_launcher_runs_jobs_in_parallel_processes(gan_run, tmp_path):
    result = gan_run("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "loss=gan,wgan", "trainer=smoke",
                     "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    assert "sweep: 2 jobs, 2 completed" in result.stdout
    cores = threads.usable_cores()
    for job in (0, 1):
        folder = job_folder(tmp_path / "sweep", job)
        assert (folder / "checkpoints" / "last.ckpt").is_file()
        # two jobs at once: each takes at most half the cores (less if other gan-run jobs train
        # beside the sweep, as under pytest -n), and its idle threads sleep
        summary = json.loads((folder / "summary.json").read_text())
        assert 1 <= summary["threads"]["intra_op"] <= max(1, cores // 2)
        assert summary["threads"]["omp_wait_policy"] == "PASSIVE"


@pytest.mark.slow
def test_submitit_local_launcher_runs_each_job_as_a_submitit_job(gan_run, tmp_path):
    # the same launcher code path as hydra/launcher=slurm, without a cluster
    result = gan_run("-m", "hydra/launcher=submitit_local", "loss=gan,wgan", "trainer=smoke", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    assert "sweep: 2 jobs, 2 completed" in result.stdout
    for job in (0, 1):
        assert (job_folder(tmp_path / "sweep", job) / "checkpoints" / "last.ckpt").is_file()
    assert len(list((tmp_path / "sweep" / ".submitit").glob("*/*_result.pkl"))) == 2


def test_slurm_launcher_config_sets_partition_gpus_and_time_limit(gan_run):
    result = gan_run("hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=4",
                     "--cfg", "hydra", "--resolve")
    assert result.returncode == 0, result.stderr
    launcher = yaml.safe_load(result.stdout)["hydra"]["launcher"]
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert launcher["partition"] == "gpu" and launcher["gpus_per_node"] == 4
    assert launcher["tasks_per_node"] == 4  # one task per GPU, as Lightning's SLURM DDP expects
    assert launcher["timeout_min"] == 240

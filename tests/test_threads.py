"""The thread policy (gan_cli/training/threads.py): each job's share of the cores, sleeping idle threads,
and never overriding what the user exported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from gan_cli.training import threads

REPO = Path(__file__).resolve().parents[1]


def hydra_config(launcher: str, n_jobs: int | None = None, multirun: bool = True):
    from hydra.types import RunMode

    return OmegaConf.create({"mode": RunMode.MULTIRUN if multirun else RunMode.RUN,
                             "launcher": {"_target_": launcher, **({"n_jobs": n_jobs} if n_jobs is not None else {})}})


JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
BASIC = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


def test_parallel_jobs_counts_joblib_jobs_cpu_ddp_processes_and_declared_siblings(monkeypatch):
    monkeypatch.delenv(threads.PARALLEL_JOBS_ENV, raising=False)
    cpu = OmegaConf.create({"trainer": {"accelerator": "cpu", "devices": 1}})
    assert threads.parallel_jobs(cpu, 8, None) == 1
    assert threads.parallel_jobs(cpu, 8, hydra_config(BASIC)) == 1  # a sequential sweep
    assert threads.parallel_jobs(cpu, 8, hydra_config(JOBLIB, 4)) == 4
    assert threads.parallel_jobs(cpu, 8, hydra_config(JOBLIB, -1)) == 8  # joblib: -1 is every core
    assert threads.parallel_jobs(cpu, 8, hydra_config(JOBLIB, -2)) == 7
    assert threads.parallel_jobs(cpu, 8, hydra_config(JOBLIB, 4, multirun=False)) == 1
    ddp_cpu = OmegaConf.create({"trainer": {"accelerator": "cpu", "devices": 2}})
    assert threads.parallel_jobs(ddp_cpu, 8, hydra_config(JOBLIB, 2)) == 4
    gpu = OmegaConf.create({"trainer": {"accelerator": "gpu", "devices": 4}})
    assert threads.parallel_jobs(gpu, 8, None) == 1  # GPU ranks do not compute on the cores
    monkeypatch.setenv(threads.PARALLEL_JOBS_ENV, "3")
    assert threads.parallel_jobs(cpu, 8, None) == 3


def test_thread_count_takes_the_share_an_explicit_value_or_the_users_own_variable():
    assert threads.thread_count("auto", cores=8, jobs=3, environ={}) == 2
    assert threads.thread_count("auto", cores=2, jobs=4, environ={}) == 1  # never 0
    assert threads.thread_count(5, cores=2, jobs=4, environ={}) == 5
    assert threads.thread_count("auto", cores=8, jobs=1, environ={"OMP_NUM_THREADS": "3"}) == 3
    # a value gan-run set in this process earlier is not the user's
    ours = {"OMP_NUM_THREADS": "3", threads.SET_BY_GAN_RUN_ENV: "OMP_NUM_THREADS"}
    assert threads.thread_count("auto", cores=8, jobs=1, environ=ours) == 8


def test_policy_environment_sleeps_idle_threads_unless_the_user_chose_a_wait_policy():
    assert threads.policy_environment(2, {}) == {
        "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "30000", "OMP_NUM_THREADS": "2",
        threads.SET_BY_GAN_RUN_ENV: "GOMP_SPINCOUNT,OMP_NUM_THREADS,OMP_WAIT_POLICY"}
    for user in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "300000"}, {"KMP_BLOCKTIME": "0"}):
        assert not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(threads.policy_environment(2, user))
    assert "OMP_NUM_THREADS" not in threads.policy_environment(2, {"OMP_NUM_THREADS": "1"})
    # what gan-run set for an earlier job in the same process is set again for this one
    earlier = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "30000",
               threads.SET_BY_GAN_RUN_ENV: "GOMP_SPINCOUNT,OMP_NUM_THREADS,OMP_WAIT_POLICY"}
    assert threads.policy_environment(2, earlier)["OMP_NUM_THREADS"] == "2"


def test_job_environment_declares_the_siblings():
    assert threads.job_environment(3, {"PATH": "/bin"}) == {"PATH": "/bin", threads.PARALLEL_JOBS_ENV: "3"}


def test_policy_is_set_before_torch_loads_and_torch_gets_the_count(tmp_path):
    # a fresh interpreter: OpenMP reads its variables once, when torch loads
    code = ("import os, sys; from omegaconf import OmegaConf; from gan_cli.training import threads; "
            "assert 'torch' not in sys.modules; n = threads.start(OmegaConf.create({'threads': 'auto'})); "
            "import torch; print(n, torch.get_num_threads(), os.environ['OMP_WAIT_POLICY'])")
    # its own temporary folder: no gan-run job running elsewhere counts against its cores
    env = {"PATH": "/usr/bin:/bin", threads.PARALLEL_JOBS_ENV: "2", "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    expected = max(1, threads.usable_cores() // 2)
    assert out.stdout.split() == [str(expected), str(expected), "PASSIVE"]


def test_threads_key_sets_the_runs_thread_count_and_summary_records_it(gan_run, tmp_path):
    import torch

    before = torch.get_num_threads()
    try:  # in this process: the later tests get their thread count back
        result = gan_run("trainer=smoke", "threads=1", "hydra.run.dir=run")
    finally:
        torch.set_num_threads(before)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["threads"]["intra_op"] == 1
    bad = gan_run("trainer=smoke", "threads=0")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: threads=0 is not accepted; accepted: auto, or an integer >= 1"


def test_running_jobs_counts_live_jobs_on_overlapping_cores_only(tmp_path):
    board = threads.RunningJobs(tmp_path)
    board.register(processes=1)
    assert board.sharing_cores() == 1
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    try:
        started = threads.process_start(sibling.pid)
        (tmp_path / str(sibling.pid)).write_text(json.dumps({"cores": board.cores, "processes": 2,  # CPU DDP
                                                             "started": started}))
        (tmp_path / gone.stdout.strip()).write_text(json.dumps({"cores": board.cores, "processes": 1}))  # exited
        (tmp_path / str(os.getppid())).write_text(json.dumps({"cores": board.cores, "processes": 1,  # pid reused
                                                               "started": -1}))
        assert board.sharing_cores() == 3
        assert not (tmp_path / gone.stdout.strip()).exists() and not (tmp_path / str(os.getppid())).exists()
        (tmp_path / str(sibling.pid)).write_text(json.dumps({"cores": [max(board.cores) + 1], "processes": 2,
                                                             "started": started}))
        assert board.sharing_cores() == 1  # pinned to other cores: not a competitor
    finally:
        sibling.kill()
        sibling.wait()
    board.unregister()
    assert not (tmp_path / str(board.entry.name)).exists()


def test_rebalance_follows_the_jobs_that_start_and_end(tmp_path, monkeypatch):
    import torch

    before = torch.get_num_threads()
    board = threads.RunningJobs(tmp_path)
    monkeypatch.setattr(threads, "_running", board)  # start() uses it: this test's own folder
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", threads.SET_BY_GAN_RUN_ENV,
                 threads.PARALLEL_JOBS_ENV):
        monkeypatch.delenv(name, raising=False)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert threads.start(OmegaConf.create({"threads": "auto"})) == 4  # alone
        (tmp_path / str(other.pid)).write_text(json.dumps({"cores": board.cores, "processes": 1,
                                                           "started": threads.process_start(other.pid)}))
        assert threads.rebalance() == 2 and torch.get_num_threads() == 2  # a second job started
        assert threads.rebalance() is None  # nothing changed since
        other.kill()
        other.wait()
        assert threads.rebalance() == 4  # it ended
        threads.stop()
        assert not board.entry.exists() and threads.rebalance() is None
        # a count the user chose is never changed
        assert threads.start(OmegaConf.create({"threads": 3})) == 3
        assert threads.rebalance() is None
        threads.stop()
    finally:
        other.kill()
        torch.set_num_threads(before)

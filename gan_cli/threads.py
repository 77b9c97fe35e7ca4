"""How many threads a job's torch uses, and how idle threads wait: the thread policy.

torch's CPU build runs its intra-op thread pool on GNU OpenMP, whose idle threads spin for a
while before they sleep. A job alone on a machine loses nothing by it; two jobs sharing the
cores spin on the cores the other one needs, and each runs several times slower while burning
the CPU it waits on (docs/performance.md has the measurements). So every gan-run job:

- lets idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``), unless the user exported
  ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` themselves;
- uses ``threads`` intra-op threads; ``threads=auto`` gives each job that runs at once its share
  of the cores this process may use: ``cores // jobs``, where jobs counts the launcher's parallel
  jobs (``hydra/launcher=joblib``'s ``n_jobs``), the processes of a CPU DDP run, and the
  siblings a parent script declared with ``job_environment``. An ``OMP_NUM_THREADS`` the user
  exported is kept under ``auto``.

The environment is set before torch is imported (OpenMP reads it once, when the library
loads), which is why ``apply`` is the one place that imports torch on the way to training.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

#: set by a parent that runs several gan-run processes at once (``job_environment``): how many
#: run side by side, so that ``threads=auto`` gives each its share of the cores
PARALLEL_JOBS_ENV = "GAN_RUN_PARALLEL_JOBS"
#: the OpenMP variables gan-run set itself, so that a later job in the same process (a
#: sequential sweep, a reused joblib worker) does not take them for the user's own
SET_BY_GAN_RUN_ENV = "GAN_RUN_SET_OMP"
USER_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (what taskset, cpusets and SLURM
    restrict), further capped by a cgroup v2 CPU quota (what ``docker --cpus`` sets)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def parallel_jobs(cfg: Any, cores: int, hydra_cfg: Any = None) -> int:
    """How many gan-run training processes share the cores with this one, itself included.
    ``hydra_cfg`` is Hydra's own config (``HydraConfig.get()``) in a job, None elsewhere."""
    from hydra.types import RunMode

    jobs = 1
    launcher = str(_select(hydra_cfg, "launcher._target_") or "")
    if _select(hydra_cfg, "mode") == RunMode.MULTIRUN and launcher.endswith("JoblibLauncher"):
        n_jobs = _select(hydra_cfg, "launcher.n_jobs")
        if isinstance(n_jobs, int) and n_jobs != 0:
            jobs = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)  # joblib: -1 is all cores
    devices = _select(cfg, "trainer.devices")
    if str(_select(cfg, "trainer.accelerator") or "cpu") == "cpu" and isinstance(devices, int) and devices > 1:
        jobs *= devices  # CPU DDP: one process per device
    try:
        jobs *= max(1, int(os.environ.get(PARALLEL_JOBS_ENV, "1")))
    except ValueError:
        pass
    return max(1, jobs)


def thread_count(setting: Any, cores: int, jobs: int, environ: Mapping[str, str]) -> int:
    """The intra-op thread count: ``threads`` if it is a number, else (``auto``) the user's own
    ``OMP_NUM_THREADS`` if they exported one, else this job's share of the cores."""
    if setting != "auto":
        return int(setting)
    user_set = environ.get("OMP_NUM_THREADS") and "OMP_NUM_THREADS" not in _set_by_us(environ)
    if user_set:
        try:
            return max(1, int(str(environ["OMP_NUM_THREADS"]).split(",")[0]))
        except ValueError:
            pass
    return max(1, cores // jobs)


def policy_environment(threads: int | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables to set before torch loads: the thread count (None: leave it) and the
    sleeping wait policy, leaving alone what the user exported."""
    ours = _set_by_us(environ)
    updates: dict[str, str] = {}
    if not any(name in environ and name not in ours for name in USER_WAIT_VARIABLES):
        updates["OMP_WAIT_POLICY"] = "PASSIVE"
    if threads is not None and ("OMP_NUM_THREADS" not in environ or "OMP_NUM_THREADS" in ours):
        updates["OMP_NUM_THREADS"] = str(threads)
    if updates:
        updates[SET_BY_GAN_RUN_ENV] = ",".join(sorted(ours | (set(updates) - {SET_BY_GAN_RUN_ENV})))
    return updates


def apply(cfg: Any) -> int:
    """Set the thread policy for this job, then import torch and give it ``threads`` threads.
    Returns the thread count."""
    cores = usable_cores()
    jobs = parallel_jobs(cfg, cores, _hydra_config())
    threads = thread_count(_select(cfg, "threads") or "auto", cores, jobs, os.environ)
    os.environ.update(policy_environment(threads, os.environ))
    already_loaded = "torch" in sys.modules  # a second job of a sequential sweep: OpenMP is set up
    import torch

    if already_loaded or torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def job_environment(parallel: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a gan-run subprocess that a script runs ``parallel`` at a time
    (bench/toy_quality.py, bench/contention.py, gan-claims): with ``threads=auto`` each then
    takes its share of the cores, with no thread arithmetic in the script."""
    env = dict(os.environ if environ is None else environ)
    env[PARALLEL_JOBS_ENV] = str(max(1, int(parallel)))
    return env


def _set_by_us(environ: Mapping[str, str]) -> set[str]:
    return {name for name in environ.get(SET_BY_GAN_RUN_ENV, "").split(",") if name}


def _select(cfg: Any, key: str) -> Any:
    from omegaconf import OmegaConf

    if cfg is None:
        return None
    try:
        return OmegaConf.select(cfg, key, default=None)
    except Exception:  # no HydraConfig (a test's bare config), or an unresolvable value
        return None


def _hydra_config() -> Any:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None

"""How many threads a job's torch uses, and how idle threads wait: the thread policy.

torch's CPU build runs its intra-op thread pool on GNU OpenMP, whose idle threads spin for
about 3 ms before they sleep. A job alone on a machine gains by it; two jobs sharing the cores
spin on the cores the other one needs, and each runs several times slower while burning the
CPU it waits on (docs/performance.md has the measurements). So every gan-run job:

- lets idle OpenMP threads sleep after a short spin (``SLEEPING_WAIT``), unless the user
  exported ``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT`` or ``KMP_BLOCKTIME`` themselves;
- uses ``threads`` intra-op threads; ``threads=auto`` gives each job its share of the cores
  this process may use, ``cores // jobs``, where jobs counts the gan-run jobs training on those
  cores now (``RunningJobs``, asked again every Lightning batch), and at the start also the
  launcher's parallel jobs (``hydra/launcher=joblib``'s ``n_jobs``), the processes of a CPU
  DDP run and the siblings a parent script declared with ``job_environment``. An
  ``OMP_NUM_THREADS`` the user exported is kept under ``auto``.

The environment is set before torch is imported (OpenMP reads it once, when the library
loads), which is why ``start`` is the one place that imports torch on the way to training.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: set by a parent that runs several gan-run processes at once (``job_environment``): how many
#: run side by side, so that ``threads=auto`` gives each its share of the cores
PARALLEL_JOBS_ENV = "GAN_RUN_PARALLEL_JOBS"
#: the OpenMP variables gan-run set itself, so that a later job in the same process (a
#: sequential sweep, a reused joblib worker) does not take them for the user's own
SET_BY_GAN_RUN_ENV = "GAN_RUN_SET_OMP"
USER_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
#: idle threads sleep after a short spin: GNU OpenMP (torch's Linux wheels) spins GOMP_SPINCOUNT
#: rounds, a tenth of its default (docs/performance.md: passive waiting at once made a lone
#: 2-thread job 2.3 times slower); LLVM's OpenMP (macOS) reads only the passive policy
SLEEPING_WAIT = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "30000"}


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


def training_processes(cfg: Any) -> int:
    """The processes this job trains with on the CPU: CPU DDP's devices, else one."""
    devices = _select(cfg, "trainer.devices")
    if str(_select(cfg, "trainer.accelerator") or "cpu") == "cpu" and isinstance(devices, int) and devices > 1:
        return devices
    return 1


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
    jobs *= training_processes(cfg)
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
        updates.update(SLEEPING_WAIT)
    if threads is not None and ("OMP_NUM_THREADS" not in environ or "OMP_NUM_THREADS" in ours):
        updates["OMP_NUM_THREADS"] = str(threads)
    if updates:
        updates[SET_BY_GAN_RUN_ENV] = ",".join(sorted(ours | (set(updates) - {SET_BY_GAN_RUN_ENV})))
    return updates


class RunningJobs:
    """The gan-run jobs training on this machine now: one file per process in a folder of the
    user's, holding the cores the job may use and how many processes it trains with.

    Jobs that know nothing of each other (two terminals, two sweeps, a test run beside a
    benchmark) find each other here. A job under ``threads=auto`` takes its share of its cores
    among the jobs whose cores overlap its own, and asks again every Lightning batch
    (``gan_cli.training.callbacks.ThreadShare``), so a job that starts or ends later changes the others'
    thread counts within a logging period. A file whose process is gone is ignored.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / f"gan-run-{os.getuid()}" / "running"
        self.entry = self.folder / str(os.getpid())
        self.cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

    def register(self, processes: int) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.entry.with_suffix(".tmp")
            tmp.write_text(json.dumps({"cores": self.cores, "processes": int(processes),
                                       "started": process_start(os.getpid())}))
            os.replace(tmp, self.entry)
        except OSError:
            pass  # a read-only or full temporary folder: the job runs on its launch-time share

    def unregister(self) -> None:
        try:
            self.entry.unlink(missing_ok=True)
        except OSError:
            pass

    def sharing_cores(self) -> int:
        """Training processes, this one's included, whose cores overlap this process's."""
        mine, count = set(self.cores), 0
        try:
            entries = [e for e in self.folder.iterdir() if e.name.isdigit()]
        except OSError:
            return 1
        for entry in entries:
            try:
                info = json.loads(entry.read_text())
                os.kill(int(entry.name), 0)  # signal 0: does the process still exist?
            except ProcessLookupError:  # killed before it could remove its file
                entry.unlink(missing_ok=True)
                continue
            except (ValueError, OSError):  # a file being replaced, another user's process
                continue
            if info.get("started") != process_start(int(entry.name)):  # its pid now names another process
                entry.unlink(missing_ok=True)
                continue
            if not mine or not info.get("cores") or mine & set(info["cores"]):
                count += max(1, int(info.get("processes", 1)))
        return max(1, count)


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (/proc/PID/stat, field 22): with
    the pid, it names one process even after the pid is reused. None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


#: this process's entry while a job trains (``start``), and whether its count follows the others
_running: RunningJobs | None = None
_rebalancing = False


def start(cfg: Any) -> int:
    """At the start of a job: set the thread policy, announce the job to the others, import
    torch and give it its threads. Returns the thread count. ``stop`` undoes the announcement."""
    global _running, _rebalancing

    cores = usable_cores()
    setting = _select(cfg, "threads") or "auto"
    _running = _running or RunningJobs()
    _running.register(training_processes(cfg))
    jobs = max(parallel_jobs(cfg, cores, _hydra_config()), _running.sharing_cores())
    threads = thread_count(setting, cores, jobs, os.environ)
    os.environ.update(policy_environment(threads, os.environ))
    _rebalancing = setting == "auto" and "OMP_NUM_THREADS" in _set_by_us(os.environ)
    already_loaded = "torch" in sys.modules  # a second job of a sequential sweep: OpenMP is set up
    import torch

    if already_loaded or torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def stop() -> None:
    """At the end of a job: it no longer counts against the others' cores."""
    global _rebalancing

    if _running is not None:
        _running.unregister()
    _rebalancing = False


def rebalance() -> int | None:
    """Give torch this job's share of the cores among the gan-run jobs training on them now;
    returns the new count, or None where nothing changed or the count is the user's own
    (``threads=N``, an exported OMP_NUM_THREADS)."""
    if not _rebalancing or _running is None:
        return None
    import torch

    threads = max(1, usable_cores() // _running.sharing_cores())
    if threads == torch.get_num_threads():
        return None
    torch.set_num_threads(threads)
    return threads


def job_environment(parallel: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a gan-run subprocess that a script runs ``parallel`` at a time
    (a joblib sweep, bench/contention.py, gan-claims): with ``threads=auto`` each then
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

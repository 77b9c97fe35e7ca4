"""Running a claim's experiment through gan-run, and reading its jobs back.

The jobs run as ``gan-run -m ...`` (the console script, in a subprocess): the claims measure
what users run. Parallel jobs use Hydra's joblib launcher, and gan-run's thread policy
(gan_cli/training/threads.py) gives each its share of the cores, so jobs do not fight over them.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_cli.errors import GanRunError
from gan_cli.sweeps.jobs import find_jobs, read_summary, section


def gan_run_executable() -> list[str]:
    """The gan-run console script beside this interpreter, or the one on PATH."""
    beside = Path(sys.executable).with_name("gan-run")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("gan-run")
    if found is None:
        raise GanRunError("gan-run is not installed beside gan-claims (pip install -e . installs both)")
    return [found]


def launch(overrides: list[str], sweep_dir: Path, jobs: int, log_path: Path) -> int:
    """``gan-run -m <overrides>`` into ``sweep_dir``; its output goes to ``log_path``. Returns
    the exit status (a diverged job is a result, not a failure of gan-claims)."""
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}"] if jobs > 1 else []
    command = [*gan_run_executable(), "-m", *overrides, *launcher, f"hydra.sweep.dir={sweep_dir}"]
    with open(log_path, "w") as log:
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode


@dataclass
class RunJob:
    """One job of a claim's sweep: its overrides, its summary and its logged curves."""

    folder: Path
    status: str
    overrides: dict[str, str]
    summary: dict[str, Any]

    def scalars(self, tag: str) -> list[tuple[int, float]]:
        """(step, value) of a TensorBoard tag, in step order ([] when never logged)."""
        return read_scalars(self.folder).get(tag, [])

    def tags(self) -> set[str]:
        return set(read_scalars(self.folder))

    def config_value(self, key: str) -> Any:
        """A value of the config this job ran with (``.hydra/config.yaml``), by dotted key
        (``"dataset.offset"``), whether an override or the job's preset set it; None if absent."""
        from omegaconf import OmegaConf

        path = self.folder / ".hydra" / "config.yaml"
        return OmegaConf.select(OmegaConf.load(path), key) if path.is_file() else None


_SCALARS: dict[Path, dict[str, list[tuple[int, float]]]] = {}


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    if folder not in _SCALARS:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        curves: dict[str, dict[int, float]] = {}
        for path in sorted(folder.rglob("events.out.tfevents*")):
            events = EventAccumulator(str(path), size_guidance={"scalars": 0})
            events.Reload()
            for tag in events.Tags().get("scalars", []):
                curves.setdefault(tag, {}).update({e.step: e.value for e in events.Scalars(tag)})
        _SCALARS[folder] = {tag: sorted(points.items()) for tag, points in curves.items()}
    return _SCALARS[folder]


def read_runs(sweep_dir: Path) -> list[RunJob]:
    runs = []
    for job in find_jobs(sweep_dir) if sweep_dir.is_dir() else []:
        summary = read_summary(job.folder)
        runs.append(RunJob(job.folder, job.status, job.override_values() or {}, summary))
    return runs


def select(runs: list[RunJob], **values: str) -> list[RunJob]:
    """The jobs whose overrides hold these values (``select(runs, loss="gan")``)."""
    return [r for r in runs if all(r.overrides.get(k.replace("__", ".")) == v for k, v in values.items())]


def status_counts(runs: list[RunJob]) -> dict[str, int]:
    """How many jobs there are, how many diverged, and how many failed for another reason."""
    return {"runs": len(runs), "diverged": sum(r.status == "diverged" for r in runs),
            "failed_otherwise": sum(r.status not in ("completed", "diverged") for r in runs)}


def final_values(runs: list[RunJob], metric: str) -> list[float]:
    """The metric's value at the final evaluation of each job that logged it."""
    return [float(value) for r in runs for value in [section(r.summary, "final").get(metric)] if value is not None]


def by_seed(runs: list[RunJob], metric: str) -> dict[str, float]:
    """{seed: final value} over the jobs that completed with a value: a claim's replicates,
    paired by seed across settings (gan_cli.statistics.compare)."""
    values = {}
    for run in runs:
        value = section(run.summary, "final").get(metric) if run.status == "completed" else None
        if value is not None and math.isfinite(float(value)):
            values[run.overrides.get("seed", run.folder.name)] = float(value)
    return values

"""The jobs in a sweep folder: what each one's ``summary.json`` and ``.hydra/`` say about it.

A folder written by ``gan-run -m`` holds one subfolder per job (``0/``, ``1/``, ...); a folder
of single runs (``outputs/runs``) holds one subfolder per run. Either way, any direct subfolder
with a ``summary.json`` or a ``.hydra/`` folder is a job. Light to import (no torch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gan_cli.errors import GanRunError
from gan_cli.sweeps.job_names import job_label

SUMMARY_FILE = "summary.json"
HYDRA_DIR = ".hydra"
# Status of a job folder that never got a summary.json: gan-run writes one before training,
# so this is a job killed hard (SIGKILL, out of memory) before or while it started.
NO_SUMMARY = "no summary"
UNREADABLE_SUMMARY = "unreadable summary"
BEST_PREFIX = "best "


@dataclass
class Job:
    """One job of a sweep (or one run), as far as its folder tells."""

    name: str  # the job number in a sweep (job_names.job_label), the folder name (timestamp) of a single run
    folder: Path
    status: str
    overrides: list[str] | None  # None when neither summary.json nor .hydra/overrides.yaml has them
    steps: int | None = None
    wall_time_s: float | None = None
    error: str | None = None
    # metric name -> value: every final curve value under its tag, every best eval value under
    # "best <tag>". Values are floats, or strings such as "nan" for a curve that blew up.
    metrics: dict[str, float | str] = field(default_factory=dict)
    floor: dict | None = None  # summary.json's eval_floor: the image metrics' real-versus-real floor

    def override_values(self) -> dict[str, str] | None:
        """The task overrides as key -> value (``optim.lr=0.001`` -> ``{"optim.lr": "0.001"}``)."""
        if self.overrides is None:
            return None
        return dict(split_override(o) for o in self.overrides)


def split_override(override: str) -> tuple[str, str]:
    """``key=value`` -> (key, value); an override without ``=`` (``~key``) is all key."""
    key, _, value = override.partition("=")
    return key, value


def is_job_folder(path: Path) -> bool:
    return path.is_dir() and ((path / SUMMARY_FILE).is_file() or (path / HYDRA_DIR).is_dir())


def job_order(job: Job) -> tuple[int, int, str]:
    """Sweep jobs by number (2 before 10), then anything else by name (timestamps by time)."""
    return (0, int(job.name), "") if job.name.isdigit() else (1, 0, job.name)


def find_jobs(folder: Path) -> list[Job]:
    """Every job in ``folder``, sorted by job number. Raises GanRunError if there is none."""
    if not folder.exists():
        raise GanRunError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise GanRunError(f"{folder} is not a folder; pass a sweep folder such as outputs/multiruns/<timestamp>")
    try:
        subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
        jobs = sorted((read_job(p) for p in subfolders if is_job_folder(p)), key=job_order)
        if not jobs:
            raise GanRunError(no_jobs_message(folder, subfolders))
    except OSError as e:
        raise GanRunError(f"{folder}: cannot read it: {e.strerror or e}") from e
    return jobs


def no_jobs_message(folder: Path, subfolders: list[Path]) -> str:
    """Say what ``folder`` holds instead of jobs, so the fix is one step away."""
    message = f"{folder} holds no job folders (subfolders with {SUMMARY_FILE} or {HYDRA_DIR}/)"
    if is_job_folder(folder):
        return f"{message}; it is itself one job: pass its parent folder, {folder.parent}"
    sweeps = [p for p in subfolders if any(is_job_folder(c) for c in p.iterdir() if c.is_dir())]
    if sweeps:
        return f"{message}; it holds sweep folders: pass one of them, e.g. {sweeps[-1]}"
    return message


def read_job(folder: Path) -> Job:
    """One job from its folder; a missing or unreadable summary.json still gives a Job."""
    summary_path = folder / SUMMARY_FILE
    name = job_label(folder.name)  # a sweep job by its number: its folder name adds its overrides
    if not summary_path.is_file():
        return Job(name, folder, NO_SUMMARY, read_overrides_yaml(folder))
    try:
        summary = json.loads(summary_path.read_text())
        if not isinstance(summary, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return Job(name, folder, UNREADABLE_SUMMARY, read_overrides_yaml(folder),
                   error=f"{SUMMARY_FILE}: {e}")
    overrides = summary.get("overrides")
    return Job(
        name=name,
        folder=folder,
        status=str(summary.get("status", "unknown")),
        overrides=[str(o) for o in overrides] if isinstance(overrides, list) else read_overrides_yaml(folder),
        steps=summary.get("steps"),
        wall_time_s=summary.get("wall_time_s"),
        error=summary.get("error"),
        metrics=metrics_of(summary),
        floor=summary.get("eval_floor") if isinstance(summary.get("eval_floor"), dict) else None,
    )


def metrics_of(summary: dict[str, Any]) -> dict[str, float | str]:
    """Final values under their tag, best eval values under ``best <tag>``; a section that is not
    a mapping of numbers (a file gan-run did not write) gives nothing rather than a crash."""
    metrics: dict[str, float | str] = dict(section(summary, "final"))
    metrics.update({BEST_PREFIX + tag: value for tag, value in section(summary, "best").items()})
    metrics.update({"correlation/" + name: value for name, value in section(summary, "correlation").items()})
    return metrics


def section(summary: Any, name: str) -> dict[str, float | str]:
    """``summary[name]`` with only its number values (and the "nan"/"inf" strings gan-run writes
    for non-finite ones), or {} where it is absent or not a mapping."""
    found = summary.get(name) if isinstance(summary, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items()
            if (isinstance(v, (int, float)) and not isinstance(v, bool)) or v in ("nan", "inf", "-inf")}


def read_summary(folder: Path) -> dict[str, Any]:
    """A job's summary.json as a dict; {} where it is missing, unreadable or not an object."""
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def read_overrides_yaml(folder: Path) -> list[str] | None:
    """``.hydra/overrides.yaml``: the job's task overrides, written by Hydra before the job starts."""
    path = folder / HYDRA_DIR / "overrides.yaml"
    if not path.is_file():
        return None
    import yaml  # PyYAML comes with omegaconf; imported here because most jobs never need it

    try:
        overrides = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return [str(o) for o in overrides] if isinstance(overrides, list) else None

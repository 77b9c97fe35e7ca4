"""gan-run in a sweep: the value a job returns to a sweeper (Optuna), and at the end of a
multirun one line saying how the jobs ended, with the report command.

SweepSummary is a Hydra callback (registered in conf/hydra/default.yaml). It reads the jobs'
summary.json files rather than in-process state, so it counts the jobs of any launcher, and it
ends gan-run with exit status 1 when any job did not complete (the last thing a multirun does).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gan_cli.errors import GanRunError
from gan_cli.sweeps.jobs import find_jobs

OBJECTIVE_SECTIONS = ("final", "best")


def objective_value(summary: dict[str, Any], objective: str, if_missing: float = float("inf")) -> float:
    """The value named by ``objective`` ("final.<tag>" or "best.<tag>") in a run's summary,
    or ``if_missing`` when the run has no finite such value (it diverged, or the metric does not
    apply to its data). Not NaN: hydra-optuna-sweeper fails the whole study on a NaN."""
    section, _, tag = objective.partition(".")
    try:
        value = float((summary.get(section) or {}).get(tag))
    except (TypeError, ValueError):
        return if_missing
    return value if value == value else if_missing


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            jobs = find_jobs(sweep_dir)
        except GanRunError:
            return  # nothing ran (an empty sweep)
        unfinished_jobs = [f"{job.name} ({job.status})" for job in jobs if job.status != "completed"]
        line = f"sweep: {len(jobs)} jobs, {len(jobs) - len(unfinished_jobs)} completed"
        if unfinished_jobs:
            line += ", not completed: " + ", ".join(unfinished_jobs)
        print(line, file=sys.stderr if unfinished_jobs else sys.stdout)
        print(f"compare the jobs: gan-report {sweep_dir}")
        if unfinished_jobs:  # SystemExit, not an Exception: Hydra passes it on instead of warning
            sys.exit(1)

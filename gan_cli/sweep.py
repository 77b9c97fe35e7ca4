"""The end of a multirun: one line saying how the sweep's jobs ended, and the report command.

A Hydra callback (registered in conf/hydra/default.yaml). It reads the jobs' summary.json
files rather than in-process state, so it counts the jobs of any launcher.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gan_cli.errors import GanRunError
from gan_cli.jobs import find_jobs

#: jobs of the last multirun that did not complete; gan-run exits non-zero when there are any
unfinished_jobs: list[str] = []


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            jobs = find_jobs(sweep_dir)
        except GanRunError:
            return  # nothing ran (an empty sweep)
        unfinished_jobs[:] = [f"{job.name} ({job.status})" for job in jobs if job.status != "completed"]
        line = f"sweep: {len(jobs)} jobs, {len(jobs) - len(unfinished_jobs)} completed"
        if unfinished_jobs:
            line += ", not completed: " + ", ".join(unfinished_jobs)
        print(line, file=sys.stderr if unfinished_jobs else sys.stdout)
        print(f"compare the jobs: gan-report {sweep_dir}")

"""Continuing a sweep: what a job does when its folder already holds an earlier attempt.

Re-running a multirun with the same ``hydra.sweep.dir`` gives each job the folder it had
before (Hydra names it from the job's number and overrides), so the folder's summary.json says
how the earlier attempt ended. The rule, per job:

- completed, for the same composed config (``config_digest`` in summary.json): not run again;
  its summary is returned to the sweeper as if it had just run (Optuna and gan-report see it);
- completed for another config: refused (a job folder must not mix two configs), unless
  ``rerun=all``;
- running, interrupted, or no summary (killed, even by SIGKILL): resumed from
  ``checkpoints/last.ckpt`` if that checkpoint fits the config, else run from the start;
- failed or diverged: kept as it ended (its failure is returned to the sweeper) unless
  ``rerun=failed`` or ``rerun=all`` asks to run it again;
- ``rerun=all``: every job runs again from the start.

A job run again from the start first removes the earlier attempt's event files, checkpoints
and figures, so TensorBoard and gan-report never show two attempts as one run. A new sweep
folder (the default: a timestamp) holds no earlier attempts, so nothing here applies to it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from gan_cli.errors import GanRunError

RERUN_CHOICES = ("none", "failed", "all")

#: keys that do not change what a job computes: a job that differs only in them is the same job
NOT_PART_OF_THE_RESULT = ("ckpt_path", "rerun", "progress", "objective", "objective_if_failed")

#: what an earlier attempt leaves in its folder, removed before the job runs again from the start
EARLIER_ATTEMPT = ("events.out.tfevents.*", "checkpoints", "figures", "metrics.csv", "hparams.yaml",
                   "summary.json", "mlruns", "wandb")


def config_digest(cfg: DictConfig) -> str:
    """sha256 of the composed config (resolved, without NOT_PART_OF_THE_RESULT): equal
    digests mean the job would compute the same thing."""
    container = OmegaConf.to_container(cfg, resolve=True)
    for key in NOT_PART_OF_THE_RESULT:
        container.pop(key, None)
    return hashlib.sha256(json.dumps(container, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Earlier:
    """What the job folder says about an earlier attempt of this job."""

    status: str | None  # None: no summary.json
    summary: dict[str, Any]


def read_earlier(job_dir: Path) -> Earlier:
    path = job_dir / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return Earlier(None, {})
    return Earlier(str(summary.get("status")), summary) if isinstance(summary, dict) else Earlier(None, {})


def remove_earlier_attempt(job_dir: Path) -> None:
    for pattern in EARLIER_ATTEMPT:
        for path in job_dir.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def continue_job(cfg: DictConfig, job_dir: Path, job_name: str) -> dict[str, Any] | None:
    """Apply the rule above to the job in ``job_dir``. Returns the earlier summary when the job
    is not to run (completed, or failed and not asked to rerun); otherwise prepares the folder
    (and ``cfg.ckpt_path`` to resume) and returns None. Raises GanRunError for a folder that
    holds a completed run of another config."""
    rerun = str(cfg.get("rerun", "none"))
    earlier = read_earlier(job_dir)
    has_checkpoint = (job_dir / "checkpoints" / "last.ckpt").is_file()
    if earlier.status is None and not has_checkpoint:
        return None  # a new job, or one killed before it wrote anything
    if rerun == "all":
        remove_earlier_attempt(job_dir)
        return None
    digest = config_digest(cfg)
    if earlier.status == "completed":
        if earlier.summary.get("config_digest") == digest:
            print(f"job {job_name}: completed in an earlier attempt with the same config; not run again")
            return earlier.summary
        raise GanRunError(f"{job_dir} holds a completed run of another config (its summary.json config_digest "
                          f"differs); sweep into a new hydra.sweep.dir, or pass rerun=all to run every job again")
    if earlier.status in ("failed", "diverged"):
        if rerun == "failed":
            remove_earlier_attempt(job_dir)
            return None
        print(f"job {job_name}: {earlier.status} in an earlier attempt ({earlier.summary.get('error')}); "
              "kept as it ended: pass rerun=failed to run it again", file=sys.stderr)
        return earlier.summary
    # running / interrupted / no summary: the attempt was stopped; continue from its checkpoint
    if has_checkpoint and cfg.get("ckpt_path") is None:
        checkpoint = job_dir / "checkpoints" / "last.ckpt"
        from gan_cli.training.checkpoints import check_resumable

        try:
            check_resumable(checkpoint, OmegaConf.to_container(cfg, resolve=True))
        except GanRunError as e:
            print(f"job {job_name}: cannot resume from {checkpoint} ({e}); running it from the start",
                  file=sys.stderr)
        else:
            print(f"job {job_name}: {earlier.status or 'killed'} in an earlier attempt; resuming from {checkpoint}")
            with open_dict(cfg):
                cfg.ckpt_path = str(checkpoint)
            return None
    remove_earlier_attempt(job_dir)
    return None

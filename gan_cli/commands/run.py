"""Console entry point ``gan-run``: a thin wrapper around ``train.train``.

Nothing heavy is imported at module level: Hydra composes (and for ``--help`` / ``--cfg``
prints) the config before torch or Lightning is loaded.

How a job ends, and what the user sees:
- completed: exit 0;
- a problem the user can fix (GanRunError: a bad value, a missing file, divergence, an
  interrupt): one line ``error: ...``, summary.json says why, exit 2 (3 if diverged,
  128 + signal if interrupted), no traceback unless HYDRA_FULL_ERROR=1;
- in a multirun, a job that fails for any reason is reported and the sweep goes on; gan-run
  exits 1 at the end if any job did not complete. An interrupt stops the whole sweep.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import hydra
from omegaconf import DictConfig

from gan_cli.config import config_dir
from gan_cli.sweeps import job_names


def record_failure(status: str, message: str) -> None:
    """Mark the run folder Hydra already made as failed, so it never looks like a finished run."""
    from hydra.core.hydra_config import HydraConfig

    from gan_cli.training.summary import RunSummary

    hydra_cfg = HydraConfig.get()
    summary = RunSummary(Path(hydra_cfg.runtime.output_dir), list(hydra_cfg.overrides.task))
    if summary.path.is_file():  # train() got far enough to write its own
        return
    from gan_cli.errors import GanRunError

    try:
        summary.write(status=status, error=message)
    except GanRunError:  # the disk is full: the run folder has no summary, so it never looks complete
        pass


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def compose_job(overrides: list[str]) -> DictConfig | None:
    """This job's config composed from other overrides (config.check_additions reads it without
    the ``++key`` ones, to tell a ``++key`` that sets a key from one that adds it); None where it
    cannot be composed (a ``++`` another override depends on)."""
    from hydra import compose
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    try:
        # hydra.searchpath=[pkg://...] from the command line: the user's own config groups
        searchpath = [o for o in hydra_cfg.overrides.hydra if o.startswith("hydra.searchpath")]
        return compose(str(hydra_cfg.job.config_name), overrides=[*searchpath, *overrides])
    except Exception:  # noqa: BLE001 - the check is then skipped, as before it existed
        return None


job_names.register()  # hydra.sweep.subdir names job folders with it (in launcher workers too: they import this module)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def run_job(cfg: DictConfig) -> float:
    """One job; returns its ``objective`` value, which a sweeper such as Optuna minimises."""
    from gan_cli import config
    from gan_cli.errors import GanRunError, Interrupted
    from gan_cli.sweeps.multirun import objective_value

    failed = float("inf")  # what a failed job returns to a sweeper, until the config says otherwise
    try:
        from hydra.core.hydra_config import HydraConfig

        config.check(cfg)  # before the heavy imports: a bad value fails fast
        config.check_constraint(cfg, Path(config_dir()))  # names a group's own keys, before "nothing reads it"
        config.check_additions(cfg, list(HydraConfig.get().overrides.task), compose_job)
        failed = float(cfg.get("objective_if_failed", failed))
        if in_multirun():  # the same sweep folder again: skip, resume or rerun this job (sweeps/resume.py)
            from hydra.core.hydra_config import HydraConfig

            from gan_cli.sweeps.resume import continue_job

            job = HydraConfig.get()
            earlier = continue_job(cfg, Path(job.runtime.output_dir), str(job.job.num))
            if earlier is not None:
                return objective_value(earlier, str(cfg.objective), failed) \
                    if earlier.get("status") == "completed" else failed
        from gan_cli.training import threads

        threads.start(cfg)  # before torch loads: OpenMP reads its variables once
        from gan_cli.training.quiet import silence_third_party_noise

        silence_third_party_noise()
        from gan_cli.commands.train import train

        try:
            return objective_value(train(cfg), str(cfg.objective), failed)
        finally:
            threads.stop()
    except Exception as e:
        from hydra.core.hydra_config import HydraConfig

        from gan_cli.resources import resource_failure

        # a full disk or memory outside train() (its first summary.json, Hydra's own files)
        error = e if isinstance(e, GanRunError) else resource_failure(e, cfg, HydraConfig.get().runtime.output_dir)
        if error is None:  # a bug, not the user's input: show where it happened
            record_failure("failed", f"{type(e).__name__}: {e}")
            if not in_multirun() or os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            traceback.print_exc()
            return failed  # one job's crash does not stop the sweep
        record_failure(error.status, str(error))
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        if in_multirun() and not isinstance(error, Interrupted):
            print(f"error: job {HydraConfig.get().job.num}: {error}", file=sys.stderr)
            return failed  # the sweep goes on; SweepSummary reports the job at the end
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)


def main() -> None:
    """``gan-run``: check the command line, run the job or sweep, exit non-zero if a job failed."""
    from gan_cli.commands import preflight, resume_run
    from gan_cli.errors import GanRunError

    try:
        sys.argv[1:] = resume_run.expand(sys.argv[1:])  # --resume DIR: the run's own command line
        preflight.check_command_line(sys.argv[1:], Path(config_dir()))
    except GanRunError as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":  # as Hydra does: the whole traceback on request
            raise
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    from gan_cli.commands.help import print_help

    if print_help(sys.argv[1:], Path(config_dir())):  # Hydra's own --help takes over 1 s (help.py)
        return
    run_job()  # a multirun with a job that did not complete exits 1 (sweep.SweepSummary)


if __name__ == "__main__":
    main()

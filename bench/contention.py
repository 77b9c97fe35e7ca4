"""Contention benchmark: one gan-run job alone, then two at once, under the thread policy and without it.

Every job is the same command, run as a subprocess of the installed console script:

    gan-run steps=1000 eval_every=0 checkpoint_every=0 hydra.run.dir=<out>/<stage>/<job>

Stages, one after the other, in this process tree:

  alone          one job, the thread policy's defaults (threads=auto: every usable core; idle
                 OpenMP threads sleep)
  two, separate  two jobs started at once, each unaware of the other (two terminals): auto
                 gives each every core, and only the sleeping wait policy keeps them apart
  two, declared  two jobs started at once by a parent that says so (gan_cli.training.threads.job_environment,
                 what a joblib sweep and gan-claims do): auto gives each its share
  two, spinning  the behaviour before the policy: torch's default thread count and OpenMP's
                 default spin-wait (GOMP_SPINCOUNT=300000, libgomp's default when
                 OMP_WAIT_POLICY is unset; an exported value turns the policy's wait setting off)

For each job it prints the training wall time and CPU time that the job's summary.json
records (train() only: start-up excluded), steps/s, and CPU seconds per generator step. The
last line is ``contention ratio (two at once / alone): X.XX``: the mean training wall time of a
job of the separate pair over the job alone. 2.00 is the ideal for two jobs on two cores.

    .venv/bin/python bench/contention.py [--steps 1000] [--rounds 1] [--skip-spinning] [-- overrides]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # gan_cli.training.threads from a checkout, as the installed one
    sys.path.insert(0, str(REPO))

from gan_cli.training.threads import job_environment  # noqa: E402

# libgomp's spin count when OMP_WAIT_POLICY is unset: the behaviour before the policy
DEFAULT_SPINCOUNT = "300000"


@dataclass
class Result:
    stage: str
    job: int
    train_wall_s: float
    train_cpu_s: float
    steps: int
    threads: str  # at the start → at the end (threads=auto follows the jobs running beside it)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.train_wall_s

    @property
    def cpu_per_step_ms(self) -> float:
        return 1000 * self.train_cpu_s / self.steps


def clean_environment() -> dict[str, str]:
    """This process's environment without the variables that would change a job's threads."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "MKL_NUM_THREADS",
                 "GAN_RUN_PARALLEL_JOBS", "GAN_RUN_SET_OMP", "HYDRA_FULL_ERROR"):
        env.pop(name, None)
    return env


def run_at_once(stage: str, count: int, env: dict[str, str], overrides: list[str], root: Path) -> list[Result]:
    """Start ``count`` gan-run jobs at once, wait for all, read each one's summary.json."""
    script = console_script("gan-run")
    folders = [root / stage.replace(" ", "_").replace(",", "") / str(i) for i in range(count)]
    processes = [subprocess.Popen([script, *overrides, f"hydra.run.dir={folder}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for folder in folders]
    results = []
    for i, (process, folder) in enumerate(zip(processes, folders)):
        _, stderr = process.communicate()
        summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").is_file() else {}
        if process.returncode != 0 or summary.get("status") != "completed":
            raise SystemExit(f"error: {stage} job {i} exited {process.returncode}: {stderr.strip()[-1000:]}")
        results.append(Result(stage, i, summary["wall_time_s"], summary["cpu_time_s"], int(summary["steps"]),
                              f"{summary['threads']['intra_op']} → {summary['threads']['intra_op_at_end']}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="generator steps per job (default 1000)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every stage this many times; medians")
    parser.add_argument("--skip-spinning", action="store_true", help="leave out the slow pre-policy stage")
    parser.add_argument("overrides", nargs="*", help="extra gan-run overrides (after --)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be >= 1")

    overrides = [f"steps={args.steps}", "eval_every=0", "checkpoint_every=0", *args.overrides]
    base = clean_environment()
    stages = [("alone", 1, base),
              ("two, separate", 2, base),
              ("two, declared", 2, job_environment(2, base))]
    if not args.skip_spinning:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        stages.append(("two, spinning", 2, dict(base, GOMP_SPINCOUNT=DEFAULT_SPINCOUNT, OMP_NUM_THREADS=str(cores))))

    results: list[Result] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gan-run-contention-") as tmp:
        for round_index in range(args.rounds):
            for stage, count, env in stages:
                results += run_at_once(stage, count, env, overrides, Path(tmp) / f"round{round_index}")
                print(f"done: round {round_index + 1}, {stage}", file=sys.stderr, flush=True)
    total = time.monotonic() - start

    print(f"## gan-run contention: `gan-run {' '.join(overrides)}`, {args.rounds} round(s)\n")
    print("| stage | threads per job (start → end) | training wall s (median) | steps/s per job | CPU ms per generator step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    medians = {}
    for stage, _, _ in stages:
        rows = [r for r in results if r.stage == stage]
        wall = statistics.median(r.train_wall_s for r in rows)
        cpu = statistics.median(r.cpu_per_step_ms for r in rows)
        medians[stage] = (wall, cpu)
        print(f"| {stage} | {rows[0].threads} | {wall:.2f} | {statistics.median(r.steps_per_s for r in rows):.1f} | "
              f"{cpu:.2f} |")
    alone_wall, alone_cpu = medians["alone"]
    print()
    for stage in medians:
        if stage != "alone":
            wall, cpu = medians[stage]
            print(f"- {stage}: wall {wall / alone_wall:.2f}× alone, CPU per generator step {cpu / alone_cpu:.2f}× alone")
    print(f"\n{total:.0f} s in all. Machine:")
    print("\n".join(machine_lines()))
    print(f"contention ratio (two at once / alone): {medians['two, separate'][0] / alone_wall:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Toy-quality benchmark: the ring and grid benchmark presets over 10 seeds, as a user runs them.

For each dataset and seed it runs

    gan-run experiment=<dataset>_benchmark seed=<s> hydra.run.dir=<out>/<dataset>/seed_<s>

as a subprocess of the installed console script, ``--jobs`` at a time, each told so
(gan_cli.training.threads.job_environment): gan-run's thread policy then gives each run its share of the
cores, so that parallel runs do not oversubscribe them. Each run
evaluates 2,500 samples at its end with the protocol of THEORY.md §4 (gan_cli.evaluation.metrics.mode_coverage);
this script reads ``final.eval/*`` from each run's summary.json and prints a Markdown table of
modes recovered, % high-quality samples and mode KL as mean ± standard error over the seeds,
next to the published rows of THEORY.md §4, then the CPU and wall seconds per seed (CPU
seconds of the gan-run process and its threads, from os.wait4) and the machine.

    .venv/bin/python bench/toy_quality.py [--seeds 10] [--jobs 2] [--datasets ring grid] [--out DIR]
    .venv/bin/python bench/toy_quality.py -- steps=2000      # extra gan-run overrides after --

The run folders stay in --out (default: bench_runs/toy_quality/), so every figure and curve
behind the table can be opened in TensorBoard afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # gan_cli.training.threads from a checkout, as the installed one
    sys.path.insert(0, str(REPO))

from gan_cli.training.threads import job_environment  # noqa: E402

#: THEORY.md §4: (name, modes, % high quality, mode KL or None), mean over their seeds
PUBLISHED = {
    "ring": [("GAN (PacGAN Table 1)", 6.3, 98.2, None), ("PacGAN2 (PacGAN Table 1)", 7.9, 95.6, None)],
    "grid": [("GAN (PacGAN Table 1)", 17.3, 94.8, None), ("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, None),
             ("WGAN-GP (GDPP Table 1)", 24.2, 28.7, None), ("VEEGAN (VEEGAN Table 1)", 24.6, 40.0, None)],
}
MODES = {"ring": 8, "grid": 25}
METRICS = ("eval/modes", "eval/high_quality_pct", "eval/mode_kl")


@dataclass
class Job:
    dataset: str
    seed: int
    run_dir: Path
    command: list[str]
    process: subprocess.Popen | None = None
    log: object = None
    started: float = 0.0
    wall_s: float = math.nan
    cpu_s: float = math.nan
    returncode: int | None = None
    over_budget: bool = False  # stopped by run_all's CPU limit
    summary: dict = field(default_factory=lambda: {"status": "not run"})  # its summary.json, read once it ended

    @property
    def final(self) -> dict:
        return self.summary.get("final") or {}


def read_summary(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {"status": "no summary"}


def thread_counts(jobs: list[Job]) -> str:
    """The torch thread counts the runs recorded in summary.json (the policy chose them)."""
    counts = sorted({str(j.summary["threads"]["intra_op"]) for j in jobs if "threads" in j.summary})
    return "/".join(counts) or "unknown"


def mean_se(values: list[float], mean_format: str = ".2f", se_format: str = ".2f") -> str:
    """Mean ± standard error over seeds (± 0 for one seed); "n/a" when there is none."""
    if not values:
        return "n/a"
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{mean:{mean_format}} ± {se:{se_format}}"


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a running process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_all(jobs: list[Job], parallel: int, cpu_limit_s: float | None = None) -> None:
    """Run the jobs, ``parallel`` at a time; record each one's wall and CPU seconds. A job
    past ``cpu_limit_s`` CPU seconds gets SIGTERM (gan-run stops it cleanly, not as completed)."""
    env = job_environment(parallel)
    env.pop("HYDRA_FULL_ERROR", None)
    pending, running = list(jobs), {}
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            job.run_dir.mkdir(parents=True, exist_ok=True)
            job.log = open(job.run_dir.parent / f"{job.run_dir.name}.log", "w")
            job.started = time.monotonic()
            job.process = subprocess.Popen(job.command, stdout=job.log, stderr=subprocess.STDOUT, env=env)
            running[job.process.pid] = job
            print(f"started: {' '.join(job.command[1:])}", file=sys.stderr, flush=True)
        pid, status, usage = os.wait4(-1, os.WNOHANG if cpu_limit_s else 0)
        if pid == 0:  # none ended yet: stop any job over its CPU budget, look again in a second
            for job in running.values():
                if not job.over_budget and process_cpu_s(job.process.pid) > cpu_limit_s:
                    job.over_budget = True
                    job.process.send_signal(signal.SIGTERM)
                    print(f"over {cpu_limit_s:.0f} CPU s, stopped: {job.dataset} seed {job.seed}",
                          file=sys.stderr, flush=True)
            time.sleep(1.0)
            continue
        job = running.pop(pid, None)
        if job is None:
            continue
        job.wall_s = time.monotonic() - job.started
        job.cpu_s = usage.ru_utime + usage.ru_stime
        job.returncode = os.waitstatus_to_exitcode(status)
        job.process.returncode = job.returncode
        job.log.close()
        job.summary = read_summary(job.run_dir)
        print(f"done: {job.dataset} seed {job.seed}: exit {job.returncode}, {job.wall_s:.0f} s wall, "
              f"{job.cpu_s:.0f} s CPU, modes {job.final.get('eval/modes')}, "
              f"HQ {job.final.get('eval/high_quality_pct')} %", file=sys.stderr, flush=True)


def completed_with(job: Job) -> bool:
    """Whether the job's run folder holds a completed run of the same overrides (hydra.* aside)."""
    summary = read_summary(job.run_dir)
    wanted = [o for o in job.command[1:] if not o.startswith("hydra.")]
    return summary.get("status") == "completed" and summary.get("overrides") == wanted


def keep_completed(jobs: list[Job]) -> list[Job]:
    """--keep: the jobs whose run folder already completed with the same overrides, filled in
    from their summary.json (its CPU and wall seconds) instead of being run again."""
    kept = [j for j in jobs if completed_with(j)]
    for job in kept:
        job.summary, job.returncode = read_summary(job.run_dir), 0
        job.cpu_s, job.wall_s = job.summary["cpu_time_s"], job.summary["wall_time_s"]
    return kept


def table(dataset: str, jobs: list[Job], overrides: list[str]) -> list[str]:
    done = [j for j in jobs if j.summary.get("status") == "completed"]
    values = {m: [float(j.final[m]) for j in done if m in j.final] for m in METRICS}
    all_modes = sum(1 for v in values["eval/modes"] if v == MODES[dataset])
    hq95 = sum(1 for v in values["eval/high_quality_pct"] if v >= 95.0)
    preset = f"experiment={dataset}_benchmark" + (" " + " ".join(overrides) if overrides else "")
    lines = [
        f"### {dataset}: {MODES[dataset]} modes, {len(jobs)} seeds (`{preset}`)\n",
        "| | modes recovered | % high quality | mode KL | seeds with every mode | seeds ≥ 95 % HQ |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| gan-run, {len(done)} of {len(jobs)} seeds completed | {mean_se(values['eval/modes'])} | "
        f"{mean_se(values['eval/high_quality_pct'])} | {mean_se(values['eval/mode_kl'])} | "
        f"{all_modes} / {len(done)} | {hq95} / {len(done)} |",
    ]
    for name, modes, hq, kl in PUBLISHED[dataset]:
        lines.append(f"| {name}, published | {modes} | {hq} | {'n/a' if kl is None else kl} | | |")
    cpu = [j.cpu_s for j in jobs if j.returncode == 0]
    wall = [j.wall_s for j in jobs if j.returncode == 0]
    if cpu:
        lines.append(f"\nPer seed: CPU {statistics.median(cpu):.0f} s median (max {max(cpu):.0f} s), "
                     f"wall {statistics.median(wall):.0f} s median (max {max(wall):.0f} s), over {len(cpu)} runs, "
                     "each counted from start-up to the final evaluation.")
    for j in jobs:
        if j.summary.get("status") != "completed":
            lines.append(f"- seed {j.seed}: {j.summary.get('status')}: "
                         f"{j.summary.get('error', f'exit code {j.returncode}')}")
    lines.append("\nPer seed (final eval, 2,500 samples): "
                 + ", ".join(f"{j.seed}: {j.final.get('eval/modes', math.nan):g}/"
                             f"{j.final.get('eval/high_quality_pct', math.nan):.1f} %" for j in done))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per dataset (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=sorted(MODES))
    parser.add_argument("--out", type=Path, default=Path("bench_runs/toy_quality"), help="run folders go here")
    parser.add_argument("--keep", action="store_true",
                        help="do not re-run a seed whose run folder in --out already completed with the same "
                             "overrides (e.g. a search trial's seeds, copied there): its CPU and wall seconds "
                             "are those its summary.json recorded")
    parser.add_argument("overrides", nargs="*", help="extra gan-run overrides (after --)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be >= 1")

    script = console_script("gan-run")
    jobs = [Job(d, s, args.out.resolve() / d / f"seed_{s}",
                [script, f"experiment={d}_benchmark", f"seed={s}", *args.overrides,
                 f"hydra.run.dir={args.out.resolve() / d / f'seed_{s}'}"])
            for d in args.datasets for s in range(args.seeds)]
    kept = keep_completed(jobs) if args.keep else []
    start = time.monotonic()
    run_all([j for j in jobs if j not in kept], args.jobs)
    total = time.monotonic() - start

    print("## gan-run toy quality: the benchmark presets against the published results (THEORY.md §4)\n")
    for d in args.datasets:
        print("\n".join(table(d, [j for j in jobs if j.dataset == d], args.overrides)) + "\n")
    print(f"Command: `python bench/toy_quality.py --seeds {args.seeds} --jobs {args.jobs} "
          f"--datasets {' '.join(args.datasets)}{' -- ' + ' '.join(args.overrides) if args.overrides else ''}`; "
          f"{args.jobs} runs at a time with {thread_counts(jobs)} torch threads each (gan-run's thread policy), "
          f"{total / 60:.1f} min in all. Run folders: {args.out}\n")
    if kept:
        print(f"Not re-run (--keep): {', '.join(f'{j.dataset} seed {j.seed}' for j in kept)}, completed before "
              "with the same overrides; their CPU and wall seconds are the ones their summary.json recorded.\n")
    print("Machine:")
    print("\n".join(machine_lines()))
    return 0 if all(j.summary.get("status") == "completed" for j in jobs) else 1


if __name__ == "__main__":
    sys.exit(main())

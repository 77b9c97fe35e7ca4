"""Lipschitz benchmark: ``experiment=lipschitz``, WGAN with each constraint on the ring and the grid.

For each constraint, dataset and seed it runs

    gan-run experiment=lipschitz constraint=<c> dataset=<d> seed=<s> hydra.run.dir=<out>/<c>/<d>/seed_<s>

as a subprocess of the installed console script, ``--jobs`` at a time (bench/toy_quality.py's
runner), and prints a Markdown table per dataset: per constraint, the Spearman correlation of
the critic's estimate ``critic/wasserstein_estimate`` with ``eval/wasserstein_exact`` over the
run's evaluations (summary.json's ``correlation``, as the claims report computes it), the
critic's measured Lipschitz constant ``eval/critic_lipschitz`` at the end (1 is what WGAN's
theory wants), the final exact W1 and the modes found, as mean ± standard error over seeds.

    .venv/bin/python bench/lipschitz.py [--seeds 1] [--jobs 2] [--constraints clip gp ...] [--out DIR]
    .venv/bin/python bench/lipschitz.py -- steps=1000          # extra gan-run overrides after --
    .venv/bin/python bench/lipschitz.py --seeds 3 --keep       # seeds 1-2 added to a 1-seed table
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script
import toy_quality
from toy_quality import Job, keep_completed, read_summary, run_all

CONSTRAINTS = ("clip", "gp", "lp", "r1", "r2", "dragan", "sn")
DATASETS = ("ring", "grid")
SPEARMAN = "spearman_wasserstein_estimate_vs_exact"


def mean_se(values: list[float]) -> str:
    """In three significant digits: a clipped critic's constant is ~1e-3."""
    return toy_quality.mean_se(values, ".3g", ".2g")


def row(constraint: str, jobs: list[Job]) -> str:
    done = [j for j in jobs if j.summary.get("status") == "completed"]

    def values(get) -> list[float]:
        return [float(v) for v in map(get, done) if v is not None]

    spearman = values(lambda j: (j.summary.get("correlation") or {}).get(SPEARMAN))
    lipschitz = values(lambda j: j.final.get("eval/critic_lipschitz"))
    exact = values(lambda j: j.final.get("eval/wasserstein_exact"))
    modes = values(lambda j: j.final.get("eval/modes"))
    failed = "" if len(done) == len(jobs) else f" ({len(jobs) - len(done)} failed)"
    return (f"| {constraint}{failed} | {mean_se(spearman)} | {mean_se(lipschitz)} | {mean_se(exact)} | "
            f"{mean_se(modes)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per constraint and dataset (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--constraints", nargs="+", default=list(CONSTRAINTS), choices=CONSTRAINTS)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--out", type=Path, default=Path("bench_runs/lipschitz"), help="run folders go here")
    parser.add_argument("--no-run", action="store_true",
                        help="run nothing: tabulate the run folders already in --out (e.g. of a stopped benchmark)")
    parser.add_argument("--keep", action="store_true",
                        help="do not re-run a run folder in --out that already completed with the same overrides")
    parser.add_argument("overrides", nargs="*", help="extra gan-run overrides (after --)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be >= 1")

    script = console_script("gan-run")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores // args.jobs)
    out = args.out.resolve()
    jobs = {(c, d): [Job(f"{c}/{d}", s, out / c / d / f"seed_{s}",
                         [script, "experiment=lipschitz", f"constraint={c}", f"dataset={d}", f"seed={s}",
                          *args.overrides, f"hydra.run.dir={out / c / d / f'seed_{s}'}"])
                     for s in range(args.seeds)]
            for c in args.constraints for d in args.datasets}
    every = [j for group in jobs.values() for j in group]
    keep = args.keep and not args.no_run  # --no-run reads every folder anyway
    kept = keep_completed(every) if keep else []
    start = time.monotonic()
    if args.no_run:
        for job in every:
            job.summary = read_summary(job.run_dir)
            job.returncode = 0 if job.summary.get("status") == "completed" else None
            job.cpu_s = job.summary.get("cpu_time_s", float("nan"))
    else:
        run_all([j for j in every if j not in kept], args.jobs)  # threads: gan-run's policy
    total = time.monotonic() - start

    print("## gan-run Lipschitz constraints: WGAN's critic estimate against the exact W1\n")
    extra = " " + " ".join(args.overrides) if args.overrides else ""
    for d in args.datasets:
        print(f"### {d}, {args.seeds} seed{'s' if args.seeds > 1 else ''} (`experiment=lipschitz dataset={d}{extra}`)\n")
        print("| constraint | Spearman(estimate, exact W1) | measured Lipschitz constant (final) | "
              "exact W1 (final) | modes (final) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for c in args.constraints:
            print(row(c, jobs[(c, d)]))
        print()
    cpu = sorted(j.cpu_s for j in every if j.returncode == 0)
    if cpu:
        print(f"Per run: CPU {cpu[len(cpu) // 2]:.0f} s median (max {cpu[-1]:.0f} s) over {len(cpu)} runs.")
    print(f"Command: `python bench/lipschitz.py{' --no-run' if args.no_run else ''}{' --keep' if keep else ''} "
          f"--seeds {args.seeds} "
          f"--jobs {args.jobs} --constraints "
          f"{' '.join(args.constraints)} --datasets {' '.join(args.datasets)}"
          f"{' --' + extra if extra else ''}`; {args.jobs} runs at a time with {threads} torch "
          f"thread{'s' if threads > 1 else ''} each, {total / 60:.1f} min in all. Run folders: {args.out}\n")
    if kept:
        print(f"Not re-run (--keep): {len(kept)} of {len(every)} runs completed before with the same overrides; "
              "their CPU seconds are the ones their summary.json recorded.\n")
    print("Machine:")
    print("\n".join(machine_lines()))
    return 0 if all(j.summary.get("status") == "completed" for j in every) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A multi-seed Optuna search for the 25-Gaussian grid: every trial is the mean over several seeds.

hydra-optuna-sweeper (``gan-run -m hparams_search=optuna``) gives each trial one job, so one
lucky seed could win its search; it has no option to repeat a trial over seeds. This wrapper
uses Optuna's own ask-and-tell loop instead: a trial's settings are run by gan-run for seeds
0..N-1 (as subprocesses, bench/toy_quality.py's runner, ``--jobs`` at a time), and the trial's
value is the mean over its seeds of

    score = eval/high_quality_pct − 10 · (25 − eval/modes)      (final evaluation, 2,500 samples)

so a missing mode costs 10 points of high-quality samples. It is maximised. Conditional
settings (a constraint's weight only when that constraint is chosen) are what the wrapper buys
over the sweeper's fixed search space. The searched settings, on top of experiment=grid_benchmark:
the constraint and its weight, ema_decay, pack size, widths, batch size, latent size, the
learning rate and its schedule. Every trial's run folders and a trial.json (its overrides,
per-seed scores and CPU seconds) stay in --out.

    .venv/bin/python bench/grid_search.py --trials 40 --trial-seeds 3 --jobs 2
    .venv/bin/python bench/grid_search.py --trials 40 --minutes 100 --jobs 3   # what a CPU budget allows
    .venv/bin/python bench/grid_search.py --trials 2 --trial-seeds 3 -- trainer=smoke   # a check
    .venv/bin/python bench/grid_search.py --space local --trials 8 --jobs 3   # refine the preset
    .venv/bin/python bench/grid_search.py --space local --trials 12 --jobs 3 --keep   # continue it

``--space local`` searches the preset's neighbourhood instead: R1 kept, its weight, the learning
rate, the latent size, ema_decay and the schedule's length (16,000 or 18,000 steps: the R1 preset
of 16,000 steps was still rising at its last evaluations, 91 -> 93 -> 94 % at steps 12k/14k/16k
on seed 0, as its cosine decay reaches 0). Trial 0 of either space is the preset itself; a
search run on an earlier preset is continued (``--keep``) from the commit that had it, since its
trial 0 records that preset's settings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script
from toy_quality import Job, keep_completed, run_all

MODES = 25
#: per constraint, its weight's range (log scale); every trial names its constraint, so the
#: preset's own (R1 since this search's first run) never leaks into a trial that drew another
CONSTRAINT_WEIGHTS = {"none": None, "r1": (0.01, 10.0), "r2": (0.01, 10.0), "dragan": (0.01, 10.0),
                      "gp": (0.01, 10.0), "lp": (0.01, 10.0), "sn": None}
# Within the goal's 10 CPU-minutes a seed: the PacGAN2 preset this search started from (3 x 256,
# batch 256, no penalty) took 4, the 16,000-step R1 preset 8, the 18,000-step one 7-9.5; wider nets and batches cost
# about width^2 x depth x batch, a penalty's double backward about 2x. A first search
# that also offered 4 x 400 and batch 512 drew them with R1 first: ~1 CPU-hour a seed, over budget.
WIDTHS = {"3x256": [256, 256, 256], "3x320": [320, 320, 320], "4x256": [256, 256, 256, 256]}


#: experiment=grid_benchmark's own settings, in suggest()'s terms (tests/test_bench.py checks they agree)
PRESET = {"constraint": "r1", "r1_weight": 5.346750392335157, "pack": 1, "batch_size": 256, "hidden": "3x256",
          "latent_dim": 8, "ema_decay": 0.0, "lr": 0.0014194123150243878, "lr_schedule": "cosine"}


#: the local space's trial 0: the preset itself (the wide space draws no steps: it trains the preset's 18,000)
LOCAL_FIRST = {**{k: PRESET[k] for k in ("r1_weight", "lr", "latent_dim", "ema_decay")}, "steps": 18000}


def suggest_local(trial) -> list[str]:
    """Overrides near experiment=grid_benchmark: R1 kept, pack 1, 3 x 256, batch 256, cosine decay.
    Steps stop at 18,000: at the preset's 23-32 CPU-ms a step (419-571 CPU-s a seed on two instances of
    the 2-core VM, docs/constraints.md) that is 7-9.5 of the goal's 10 CPU-minutes."""
    return [
        f"constraint.weight={trial.suggest_float('r1_weight', 2.0, 12.0, log=True)}",
        f"optim.lr={trial.suggest_float('lr', 6e-4, 2e-3, log=True)}",
        f"model.latent_dim={trial.suggest_categorical('latent_dim', [8, 16, 32])}",
        f"ema_decay={trial.suggest_categorical('ema_decay', [0.0, 0.999])}",
        f"steps={trial.suggest_categorical('steps', [16000, 18000])}",
    ]


def suggest(trial) -> list[str]:
    """The gan-run overrides of one trial, drawn by Optuna (define-by-run: conditional keys)."""
    constraint = trial.suggest_categorical("constraint", list(CONSTRAINT_WEIGHTS))
    overrides = [f"constraint={constraint}"]
    if CONSTRAINT_WEIGHTS[constraint]:
        low, high = CONSTRAINT_WEIGHTS[constraint]
        overrides.append(f"constraint.weight={trial.suggest_float(f'{constraint}_weight', low, high, log=True)}")
    pack = trial.suggest_categorical("pack", [1, 2, 4])
    batch = trial.suggest_categorical("batch_size", [128, 256])
    widths = trial.suggest_categorical("hidden", list(WIDTHS))
    overrides += [
        f"model.pack={pack}", f"batch_size={batch}",
        f"model.hidden=[{','.join(map(str, WIDTHS[widths]))}]",
        f"model.latent_dim={trial.suggest_categorical('latent_dim', [2, 4, 8, 16])}",
        f"ema_decay={trial.suggest_categorical('ema_decay', [0.0, 0.99, 0.999])}",
        f"optim.lr={trial.suggest_float('lr', 1e-4, 2e-3, log=True)}",
        f"lr_schedule={trial.suggest_categorical('lr_schedule', ['linear_decay', 'cosine'])}",
    ]
    return overrides


def seed_score(summary: dict) -> float | None:
    final = summary.get("final") or {}
    if summary.get("status") != "completed" or "eval/high_quality_pct" not in final:
        return None
    return float(final["eval/high_quality_pct"]) - 10.0 * (MODES - float(final["eval/modes"]))


def report(out: Path) -> None:
    """The search so far, from the trial folders in ``out``: the ten best completed trials,
    then how many failed or went over the CPU budget (a stopped search reports the same way)."""
    records = {int(p.parent.name.split("_")[1]): json.loads(p.read_text()) for p in out.glob("trial_*/trial.json")}
    done = {n: r for n, r in records.items() if r["value"] is not None}
    over = [n for n, r in records.items() if any(r.get("over_budget", []))]
    seeds = sorted({len(r["scores"]) for r in records.values()})
    print(f"\n## grid search: {len(records)} trials ({len(done)} completed, {len(over)} over the CPU budget, "
          f"{len(records) - len(done) - len(over)} failed), {'/'.join(map(str, seeds))} seeds each\n")
    print("| trial | mean score | per-seed high quality % / modes | CPU s per seed | overrides |\n"
          "| ---: | ---: | --- | ---: | --- |")
    for number, record in sorted(done.items(), key=lambda item: -item[1]["value"])[:10]:
        per_seed = []
        for s in range(len(record["scores"])):
            final = json.loads((out / f"trial_{number:03d}" / f"seed_{s}" / "summary.json").read_text())["final"]
            per_seed.append(f"{final['eval/high_quality_pct']:.1f}/{final['eval/modes']:g}")
        cpu = statistics.fmean(record["cpu_s"])  # the goal: within 10 CPU-minutes per seed
        print(f"| {number} | {record['value']:.2f} | {', '.join(per_seed)} | {cpu:.0f} | `{' '.join(record['overrides'])}` |")


def recorded_trial(folder: Path) -> dict | None:
    """The trial.json a finished trial left in its folder, or None (never run, or stopped mid-trial)."""
    try:
        return json.loads((folder / "trial.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def main(argv: list[str] | None = None) -> int:
    import optuna

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="Optuna trials (default 40)")
    parser.add_argument("--trial-seeds", type=int, default=3, help="seeds 0..N-1 per trial, averaged (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--seed-cpu-minutes", type=float, default=10.0,
                        help="stop a seed's run past this much CPU time, failing its trial (default 10: the goal's budget)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="start no new trial after this many minutes (default: run all --trials)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folders go here (default: bench_runs/grid_search, or grid_search_local for "
                             "--space local: a new study numbers its trials from 0 again)")
    parser.add_argument("--storage", default=None,
                        help="Optuna storage URL to keep the study in (default: in memory; the optuna 2.x that "
                             "hydra-optuna-sweeper pins cannot open SQLite under SQLAlchemy 2)")
    parser.add_argument("--space", choices=["wide", "local"], default="wide",
                        help="wide: constraints, pack, widths, batch, latent, EMA, lr and schedule (default); "
                             "local: the preset's neighbourhood (R1 weight, lr, latent, EMA, steps)")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the trials already in --out")
    parser.add_argument("--keep", action="store_true",
                        help="continue a search in --out: a finished trial's trial.json (same overrides and "
                             "seed count) is read back, and so is a seed of an unfinished trial whose run folder "
                             "completed with the same overrides (its CPU seconds are then its summary.json's, "
                             "imports excluded); the sampler is seeded, so the same history draws the same trials")
    parser.add_argument("overrides", nargs="*", help="extra gan-run overrides for every run (after --)")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.trial_seeds < 1 or args.jobs < 1:
        parser.error("--trials, --trial-seeds and --jobs must be >= 1")
    if args.seed_cpu_minutes <= 0 or (args.minutes is not None and args.minutes <= 0):
        parser.error("--seed-cpu-minutes and --minutes must be > 0")

    out = (args.out or Path("bench_runs/grid_search" + ("_local" if args.space == "local" else ""))).resolve()
    if args.no_run:
        if not any(out.glob("trial_*/trial.json")):
            parser.error(f"--no-run: no trial folders (trial_*/trial.json) in {out}")
        report(out)
        return 0
    script = console_script("gan-run")
    out.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(study_name="grid", storage=args.storage, direction="maximize", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=10))
    draw, first = (suggest_local, LOCAL_FIRST) if args.space == "local" else (suggest, PRESET)
    if not study.trials:  # trial 0 is the preset itself: the baseline
        study.enqueue_trial(first)
    start = time.monotonic()
    for _ in range(args.trials):
        if args.minutes is not None and time.monotonic() - start > 60 * args.minutes:
            print(f"--minutes {args.minutes:g} spent: no new trial", flush=True)
            break
        trial = study.ask()
        overrides = draw(trial)
        folder = out / f"trial_{trial.number:03d}"
        jobs = [Job("grid", s, folder / f"seed_{s}",
                    [script, "experiment=grid_benchmark", f"seed={s}", *overrides, *args.overrides,
                     f"hydra.run.dir={folder / f'seed_{s}'}"]) for s in range(args.trial_seeds)]
        recorded = recorded_trial(folder) if args.keep else None
        if recorded is not None:  # a finished trial (failed ones too): its record, not a re-run that could differ
            if (recorded["overrides"], recorded.get("extra_overrides", []), len(recorded["scores"])) != (
                    overrides, args.overrides, args.trial_seeds):
                sys.exit(f"error: --keep: {folder / 'trial.json'} records other settings than trial {trial.number} "
                         "draws now (its overrides, the extra overrides after --, or --trial-seeds differ); "
                         "continue a search with its own options, or give another --out")
            scores, value, read_back = recorded["scores"], recorded["value"], "trial.json read back (--keep)"
        else:
            kept = keep_completed(jobs) if args.keep else []
            # threads: gan-run's policy gives each job cores // jobs
            run_all([j for j in jobs if j not in kept], args.jobs, cpu_limit_s=60 * args.seed_cpu_minutes)
            scores = [seed_score(j.summary) for j in jobs]
            # a failed or over-budget seed fails the trial: its settings are not robust, or too slow
            value = statistics.fmean(scores) if None not in scores else None
            read_back = f"seeds {', '.join(str(j.seed) for j in kept)} read back (--keep)" if kept else ""
            (folder / "trial.json").write_text(json.dumps({
                "overrides": overrides, "extra_overrides": args.overrides, "scores": scores, "value": value,
                "cpu_s": [j.cpu_s for j in jobs], "over_budget": [j.over_budget for j in jobs]}, indent=1))
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, value)
        print(f"trial {trial.number}: {value} from seeds {scores}{f' ({read_back})' if read_back else ''}: "
              f"{' '.join(overrides)}", flush=True)

    print(f"\n{(time.monotonic() - start) / 60:.1f} min this session")
    report(out)
    print("\nMachine:")
    print("\n".join(machine_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

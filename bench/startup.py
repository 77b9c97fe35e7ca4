"""Start-up benchmark: how long gan-run takes, as a user runs it, from the shell.

Times four commands as subprocesses of the installed console script (the ``gan-run`` next to
``sys.executable``), each in a fresh temporary directory as cwd so that ``outputs/`` lands there:

    gan-run --help              targets: < 1 s  (no torch / Lightning import)
    gan-run --cfg job           < 1 s
    gan-run steps=0             < 1 s, exit code 2 (a bad value fails before torch is imported)
    gan-run trainer=smoke       < 10 s (10 steps, tiny networks, evaluation and checkpoint)

The commands are run round-robin (one of each, then again) so that background load spreads
over all of them, after one untimed warm-up round (page cache, .pyc files). Prints a Markdown
table of median / min / max wall seconds and the machine.

    .venv/bin/python bench/startup.py [--repeats 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script

# (label, arguments, expected exit code, target: the median must be under this many seconds)
CASES = [
    ("gan-run --help", ["--help"], 0, 1.0),
    ("gan-run --cfg job", ["--cfg", "job"], 0, 1.0),
    ("gan-run steps=0 (bad config)", ["steps=0"], 2, 1.0),  # README: "in under a second"
    ("gan-run trainer=smoke", ["trainer=smoke"], 0, 10.0),
]


def run_once(script: str, args: list[str], expected_rc: int, root: Path, index: int) -> float:
    cwd = root / f"run{index:03d}"
    cwd.mkdir()
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    start = time.perf_counter()
    proc = subprocess.run([script, *args], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expected_rc:
        raise SystemExit(
            f"error: gan-run {' '.join(args)} exited with {proc.returncode}, expected {expected_rc}\n"
            f"--- stdout ---\n{proc.stdout[-2000:]}\n--- stderr ---\n{proc.stderr[-2000:]}")
    if expected_rc == 2 and "error:" not in proc.stderr:
        raise SystemExit(f"error: gan-run {' '.join(args)} failed without its one-line message:\n{proc.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each command (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")

    script = console_script("gan-run")
    times: dict[str, list[float]] = {label: [] for label, *_ in CASES}
    index = 0
    with tempfile.TemporaryDirectory(prefix="gan-run-bench-startup-") as tmp:
        root = Path(tmp)
        for r in range(args.warmup + args.repeats):
            for label, cmd, rc, _ in CASES:
                elapsed = run_once(script, cmd, rc, root, index)
                index += 1
                if r >= args.warmup:
                    times[label].append(elapsed)
            print(f"round {r + 1}/{args.warmup + args.repeats}{' (warm-up)' if r < args.warmup else ''} done",
                  file=sys.stderr, flush=True)

    print(f"## gan-run start-up: wall seconds over {args.repeats} runs "
          f"(after {args.warmup} warm-up round{'s' if args.warmup != 1 else ''})\n")
    print("| command | median s | min s | max s | target | |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for label, _, rc, target in CASES:
        t = times[label]
        med = statistics.median(t)
        goal = f"< {target:g} s" + (f", exit code {rc}" if rc else "")
        verdict = "ok" if med < target else "MISSED"
        print(f"| `{label}` | {med:.3f} | {min(t):.3f} | {max(t):.3f} | {goal} | {verdict} |")
    print("\nMachine:")
    print("\n".join(machine_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

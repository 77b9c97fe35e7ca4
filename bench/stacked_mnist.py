"""Stacked MNIST benchmark: DCGAN and PacDCGAN2 over seeds, beside PacGAN Table 2.

For each model and seed it runs, as a user would,

    gan-run experiment=stacked_mnist model=<dcgan|pacdcgan> seed=<s> steps=<steps> hydra.run.dir=...

one job at a time, and reads ``final.eval/modes`` and ``final.eval/mode_kl`` (26,000 generated
images by default, each channel labelled by the digit classifier) and the classifier's held-out
accuracy from each summary.json. It prints a Markdown table of modes (out of 1,000) and KL as
mean ± standard error over the seeds, beside the published rows, and states the training budget
it ran against PacGAN's 50 epochs of 128,000 images.

    .venv/bin/python bench/stacked_mnist.py [--seeds 3] [--steps 2000] [--out DIR]
    .venv/bin/python bench/stacked_mnist.py --seeds 1 --steps 20 -- eval_samples=2600 eval.classifier_steps=300
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import console_script, machine_lines  # bench/machine.py, next to this script

#: PacGAN Table 2 (Lin et al. 2018): modes out of 1,000 and KL to uniform
PUBLISHED = [("DCGAN (PacGAN Table 2, from VEEGAN)", 99, 3.40), ("DCGAN, PacGAN's re-run", 78.9, 4.50),
             ("VEEGAN (PacGAN Table 2)", 150, 2.95), ("PacDCGAN2 (PacGAN Table 2)", 1000, 0.06)]
PACGAN_IMAGES = 50 * 128_000  # 50 epochs of 128,000 images
MODELS = {"dcgan": "DCGAN", "pacdcgan": "PacDCGAN2"}


def mean_se(values: list[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.mean(values):.3g} ± {statistics.stdev(values) / math.sqrt(len(values)):.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000, help="generator steps per run (PacGAN: 50,000 of 128)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", default="bench_runs/stacked_mnist")
    parser.add_argument("extra", nargs="*", help="gan-run overrides, after --")
    args = parser.parse_args()
    gan_run = console_script("gan-run")
    batch = next((int(o.split("=", 1)[1]) for o in args.extra if o.startswith("batch_size=")), 128)  # the preset's
    rows, samples, accuracy, wall = [], None, None, []
    for model in args.models:
        modes, kls = [], []
        for seed in range(args.seeds):
            run_dir = Path(args.out) / model / f"seed_{seed}"
            command = [gan_run, "experiment=stacked_mnist", f"model={model}", f"seed={seed}", f"steps={args.steps}",
                       f"hydra.run.dir={run_dir}", *args.extra]
            start = time.monotonic()
            result = subprocess.run(command, capture_output=True, text=True, env={**os.environ})
            wall.append(time.monotonic() - start)
            summary_path = run_dir / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
            if result.returncode != 0 or summary.get("status") != "completed":
                print(f"{model} seed {seed} failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
                continue
            modes.append(summary["final"]["eval/modes"])
            kls.append(summary["final"]["eval/mode_kl"])
            provenance = summary["eval_provenance"]
            accuracy, samples = provenance["classifier_accuracy"], provenance["fake_samples"]
        rows.append((f"{MODELS[model]}, gan-run ({len(modes)} seed{'s' if len(modes) != 1 else ''})", mean_se(modes), mean_se(kls)))
    images = args.steps * batch
    print(f"Stacked MNIST, 1,000 modes: modes covered and KL(generated triples ‖ uniform) over {samples} "
          f"generated images; digit classifier held-out accuracy {100 * (accuracy or math.nan):.2f} % "
          f"(PacGAN's: 99.25 %)\n")
    print("| model | modes (of 1,000) | KL |\n|---|---:|---:|")
    for name, m, kl in rows:
        print(f"| {name} | {m} | {kl} |")
    for name, m, kl in PUBLISHED:
        print(f"| {name} | {m} | {kl} |")
    print(f"\nBudget: {args.steps} generator steps of {batch} images = {images:,} images per run, "
          f"{images / PACGAN_IMAGES:.2%} of PacGAN's 50 epochs × 128,000 = {PACGAN_IMAGES:,} "
          f"({PACGAN_IMAGES / images:,.0f}× short). Wall time per run: {mean_se(wall)} s.")
    for line in machine_lines():
        print(line)


if __name__ == "__main__":
    main()

"""Throughput benchmark: generator steps and images per second, gan-run against plain torch.

Two cases, each composed exactly as gan-run composes it (bench/overhead.py's two paths):

    mlp       the default toy model: 3 × 256 MLPs, ring data, batch 256, gan loss, Adam
    dcgan64   model=dcgan (width 64, latent 100) on dataset=shapes at 64 × 64 × 3 (2,048
              procedural images, read through gan-run's DataLoader), batch 64, gan loss, Adam

A is gan-run's GANModule driven by a Lightning Trainer (no callbacks, TensorBoard logger on);
B is the hand-written loop on networks built from the same config and seed, reading the same
stream of real batches. They run in one process, alternating A B A B, after one warm-up of
each. Prints, per case, the median generator steps per second of A and B, real images per
second (batch × n_critic × steps/s) and the ratio B/A of the medians (how much faster the raw
loop runs; 1.00 means no overhead), then the machine.

    .venv/bin/python bench/throughput.py [--rounds 3] [--cases mlp,dcgan64]
    .venv/bin/python bench/throughput.py --device cuda --precision bf16-mixed [--compile]

On CPU the DCGAN case takes about a second per step; --steps-dcgan sets how many are timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

# first: bench/overhead.py sets gan-run's OpenMP wait policy before torch loads
from overhead import compose_overrides, max_weight_diff, time_gan_run, time_raw  # bench/overhead.py
from machine import machine_lines

import torch

CASES = {
    "mlp": ["model=mlp", "dataset=ring", "batch_size=256"],
    "dcgan64": ["model=dcgan", "model.width=64", "dataset=shapes", "dataset.resolution=64",
                "dataset.num_images=2048", "batch_size=64"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="mlp,dcgan64", help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps-mlp", type=int, default=300, help="generator steps per timed MLP run")
    parser.add_argument("--steps-dcgan", type=int, default=8, help="generator steps per timed DCGAN run")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", choices=["32-true", "bf16-mixed"], default=None,
                        help="default: 32-true on CPU, bf16-mixed on CUDA (trainer=gpu)")
    parser.add_argument("--compile", action="store_true", help="compile=true: torch.compile both networks")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    if not names or any(c not in CASES for c in names) or args.rounds < 1:
        parser.error(f"--cases from {', '.join(CASES)}; --rounds >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda: no CUDA device was found on this machine")
    precision = args.precision or ("bf16-mixed" if args.device == "cuda" else "32-true")
    if args.threads:
        torch.set_num_threads(args.threads)

    trainer = ["trainer=gpu"] if args.device == "cuda" else ["trainer=cpu"]
    common = [*trainer, f"+trainer.precision={precision}" if args.device == "cpu" else f"trainer.precision={precision}",
              "loss=gan", "optim=adam", f"compile={'true' if args.compile else 'false'}", "seed=0"]
    bf16 = precision == "bf16-mixed"
    rows = []
    with tempfile.TemporaryDirectory(prefix="gan-run-bench-throughput-") as tmp:
        root = Path(tmp)
        for name in names:
            steps = args.steps_mlp if name == "mlp" else args.steps_dcgan
            case = compose_overrides("gan", 0, [*common, *CASES[name]], root / "hydra", label=name)
            a, b = [], []
            for r in range(args.rounds + 1):  # round 0 is the warm-up (and compiles, with --compile)
                t_a, module = time_gan_run(case, steps, root / f"{name}-a{r}", "tensorboard")
                t_b, generator_b = time_raw(case, steps, args.device, bf16)
                if r:
                    a.append(steps / t_a)
                    b.append(steps / t_b)
                print(f"{name}: round {r}{' (warm-up)' if r == 0 else ''}: gan-run {steps / t_a:.2f} steps/s, "
                      f"raw {steps / t_b:.2f} steps/s", file=sys.stderr, flush=True)
            images = int(case.cfg.batch_size) * int(case.cfg.loss.n_critic)
            rows.append((name, steps, statistics.median(a), statistics.median(b), images,
                         max_weight_diff(module.generator, generator_b) if args.device == "cpu" and not bf16 else None))

    print(f"## gan-run throughput: {args.device}, precision {precision}, compile {args.compile}, "
          f"median of {args.rounds} rounds\n")
    print("| case | steps per run | gan-run steps/s | raw torch steps/s | gan-run real images/s | raw images/s "
          "| raw / gan-run | max abs ΔG weights |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, steps, sa, sb, images, diff in rows:
        print(f"| {name} | {steps} | {sa:.2f} | {sb:.2f} | {sa * images:.0f} | {sb * images:.0f} | {sb / sa:.2f} | "
              f"{'n/a' if diff is None else f'{diff:.1e}'} |")
    print(f"\ntorch threads: {torch.get_num_threads()}, OpenMP wait policy {os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"GOMP_SPINCOUNT {os.environ.get('GOMP_SPINCOUNT', 'unset')}; real images per generator step = batch × n_critic. "
          "ΔG: gan-run's and the raw loop's generators after the last round (0 or ~1e-7: the same computation).")
    if args.device == "cuda":
        print(f"- GPU: {torch.cuda.get_device_name()}")
    print("\n".join(machine_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a toy run's samples miss: the share of samples by distance to their nearest mode.

``eval/high_quality_pct`` counts samples within 3σ of their nearest centre (PacGAN / VEEGAN
Table 1). This script splits the rest into bands, so a reader can tell *why* a run is short
of 100 %: samples a little too far from a mode (3σ to 6σ: the mode is too wide or off-centre)
or samples left between modes (beyond 6σ: the cost of a continuous map from a connected latent
space onto separated modes). Each run's generator is loaded from its last checkpoint (the
weight average when the run kept one, as gan-sample does) and sampled ``--num`` times; the
real distribution's own shares are printed beside it. For a 2-D Gaussian mode the share
within 3σ is 1 − exp(−9/2) = 98.9 %, so that, not 100 %, is a perfect generator's score.

    .venv/bin/python bench/grid_misses.py bench_runs/grid_20k/grid/seed_*
    .venv/bin/python bench/grid_misses.py outputs/runs/<run> --num 100000

Per-mode spread: the median over modes of the std of the samples within 6σ of that mode
(per axis, averaged), against the data's σ; a generator whose modes are narrower than the
data's is not what costs it high-quality samples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

#: the distance bands, in units of the data's σ: [0, 3) is what eval/high_quality_pct counts
BANDS = ((0, 3), (3, 6), (6, 10), (10, None))


def shares(samples, centres, std: float) -> tuple[list[float], float]:
    """% of samples in each of BANDS by distance to the nearest centre, and the median per-mode
    spread (std per axis, averaged) of the samples within 6σ of their mode."""
    import torch

    distances = torch.cdist(samples, centres)
    nearest, mode = distances.min(dim=1)
    percent = []
    for low, high in BANDS:
        inside = nearest >= low * std
        if high is not None:
            inside &= nearest < high * std
        percent.append(100.0 * inside.float().mean().item())
    spreads = []
    for k in range(len(centres)):
        offsets = samples[(mode == k) & (nearest < 6 * std)] - centres[k]
        if len(offsets) > 1:
            spreads.append(offsets.std(dim=0).mean().item())
    return percent, statistics.median(spreads) if spreads else float("nan")


def run_dataset(run: Path):
    """The run's dataset, rebuilt from its checkpoint's config."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from gan_cli.checkpoints import read_checkpoint

    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt", key="checkpoint", map_location="cpu")
    return instantiate(OmegaConf.create(checkpoint["gan_run"]["config"]).dataset)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with checkpoints/last.ckpt)")
    parser.add_argument("--num", type=int, default=50_000, help="samples per run (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise and the real draw")
    args = parser.parse_args(argv)
    if args.num < 2:
        parser.error(f"--num {args.num}: must be at least 2")
    missing = [str(run) for run in args.runs if not (run / "checkpoints" / "last.ckpt").is_file()]
    if missing:
        parser.error(f"no checkpoints/last.ckpt in: {', '.join(missing)}")

    import torch

    from gan_cli.data import GaussianMixture
    from gan_cli.errors import GanRunError
    from gan_cli.generate import generate
    from gan_cli.sample import load_generator

    header = ["< 3σ (HQ)", "3σ–6σ", "6σ–10σ", "≥ 10σ"]
    print(f"{args.num:,} samples per run, latent seed {args.seed}; % of samples by distance to the nearest mode\n")
    print("| run | " + " | ".join(header) + " | per-mode std / σ |")
    print("| --- |" + " ---: |" * (len(header) + 1))
    real_row = None
    for run in args.runs:
        try:
            dataset = run_dataset(run)
            generator, _ = load_generator(run / "checkpoints" / "last.ckpt")
        except GanRunError as e:
            sys.exit(f"error: {e}")
        if not isinstance(dataset, GaussianMixture):
            sys.exit(f"error: {run}: its dataset is not a Gaussian mixture (ring or grid); nothing to split")
        torch.manual_seed(args.seed)
        fake = generate(generator, torch.randn(args.num, generator.in_features), 4096)
        percent, spread = shares(fake, dataset.centres, dataset.std)
        print(f"| {run} | " + " | ".join(f"{p:.2f}" for p in percent) + f" | {spread / dataset.std:.2f} |")
        if real_row is None:
            torch.manual_seed(args.seed)
            percent, spread = shares(dataset.sample(args.num), dataset.centres, dataset.std)
            real_row = "| the data itself | " + " | ".join(f"{p:.2f}" for p in percent) + f" | {spread / dataset.std:.2f} |"
    print(real_row)


if __name__ == "__main__":
    main()

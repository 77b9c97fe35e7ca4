"""Where a toy run's samples miss: the share of samples by distance to their nearest mode.

``eval/high_quality_pct`` counts samples within 3σ of their nearest centre (PacGAN / VEEGAN
Table 1; gan_cli/evaluation/metrics.py). This script splits the rest into bands, so a reader can tell *why*
a ring or grid run is short of 100 %: samples a little too far from a mode (3σ to 6σ: the mode
is too wide or off-centre) or samples far from every mode (beyond 6σ). Each run's generator is
loaded from its last checkpoint (the weight average when the run kept one, as gan-sample does)
and sampled ``--num`` times; the real distribution's own shares are printed for each dataset.
For a 2-D Gaussian mode the share within 3σ is 1 − exp(−9/2) = 98.9 %, so that, not 100 %, is a
perfect generator's score. A sample that is not finite counts as beyond 10σ.

    .venv/bin/python bench/grid_misses.py bench_runs/grid_20k/grid/seed_*
    .venv/bin/python bench/grid_misses.py outputs/runs/<run> --num 100000

Per-mode spread: the median over modes of the std of the samples within 6σ of that mode
(per axis, averaged), in units of the data's σ (the data's own is 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

#: the bands' upper edges, in units of the data's σ; a band is (lower edge, upper edge], so the
#: first one counts exactly what eval/high_quality_pct counts (‖x − c‖ ≤ 3σ)
EDGES = (3, 6, 10)
HEADER = ["≤ 3σ (HQ)", *(f"{low}σ–{high}σ" for low, high in zip(EDGES, EDGES[1:])), f"> {EDGES[-1]}σ"]
#: the 2-D Gaussian mixtures this split is defined for (conf/dataset/ring.yaml, grid.yaml)
MIXTURES = ("gan_cli.data.toy.ring", "gan_cli.data.toy.grid")
MAX_NUM = 10_000_000
CHUNK = 65_536  # rows of the distance matrix at a time: memory stays flat for any --num


def nearest_mode(samples, centres):
    """Distance to, and index of, each sample's nearest centre (inf for a non-finite sample)."""
    import torch

    distances, modes = [], []
    for chunk in samples.split(CHUNK):
        d, k = torch.cdist(chunk, centres).min(dim=1)
        distances.append(torch.nan_to_num(d, nan=float("inf")))
        modes.append(k)
    return torch.cat(distances), torch.cat(modes)


def band_shares(distances, std: float) -> list[float]:
    """% of samples in each band (0, 3σ], (3σ, 6σ], (6σ, 10σ], (10σ, ∞) of distance to the nearest centre."""
    import torch

    band = torch.bucketize(distances, torch.tensor(EDGES, dtype=distances.dtype) * std)  # (edge_{i-1}, edge_i]
    counts = torch.bincount(band, minlength=len(EDGES) + 1)
    return (100.0 * counts / len(distances)).tolist()


def mode_spread(samples, centres, distances, modes, std: float) -> float:
    """Median over modes of the per-axis std (averaged) of the samples within 6σ of that mode, in σ."""
    spreads = []
    for k in range(len(centres)):
        offsets = samples[(modes == k) & (distances <= 6 * std)] - centres[k]
        if len(offsets) > 1:
            spreads.append(offsets.std(dim=0).mean().item() / std)
    return statistics.median(spreads) if spreads else float("nan")


def row(name: str, samples, dataset) -> str:
    distances, modes = nearest_mode(samples, dataset.centres)
    shares = band_shares(distances, dataset.std)
    spread = mode_spread(samples, dataset.centres, distances, modes, dataset.std)
    return f"| {name} | " + " | ".join(f"{p:.2f}" for p in shares) + f" | {spread:.2f} |"


def run_config(run: Path):
    """The run's composed config, from its checkpoint; a ring or grid run only."""
    from omegaconf import OmegaConf

    from gan_cli.training.checkpoints import read_checkpoint
    from gan_cli.errors import GanRunError

    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt", key="checkpoint", map_location="cpu")
    cfg = OmegaConf.create(checkpoint["gan_run"]["config"])
    target = OmegaConf.select(cfg, "dataset._target_")
    if target not in MIXTURES:
        raise GanRunError(f"{run}: dataset {target} is not one this split is defined for; accepted: ring, grid")
    return cfg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with checkpoints/last.ckpt)")
    parser.add_argument("--num", type=int, default=50_000, help="samples per run (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise and of the real draw")
    args = parser.parse_args(argv)
    if not 2 <= args.num <= MAX_NUM:
        parser.error(f"--num {args.num}: must be between 2 and {MAX_NUM:,}")
    missing = [str(run) for run in args.runs if not (run / "checkpoints" / "last.ckpt").is_file()]
    if missing:
        parser.error(f"no checkpoints/last.ckpt in: {', '.join(missing)}")

    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from gan_cli.errors import GanRunError
    from gan_cli.evaluation.generate import generate
    from gan_cli.commands.sample import load_generator

    try:
        configs = {run: run_config(run) for run in args.runs}
    except GanRunError as e:
        sys.exit(f"error: {e}")
    print(f"{args.num:,} samples per run, latent seed {args.seed}; % of samples by distance to the nearest mode\n")
    print("| run | " + " | ".join(HEADER) + " | per-mode std / σ |")
    print("| --- |" + " ---: |" * (len(HEADER) + 1))
    datasets: dict[str, object] = {}  # one data row per distinct dataset, after the runs
    for run, cfg in configs.items():
        settings = OmegaConf.to_container(cfg.dataset, resolve=True)
        key = settings.pop("_target_").rsplit(".", 1)[-1] + " " + " ".join(f"{k}={v}" for k, v in settings.items())
        if key not in datasets:  # built once per distinct dataset, not once per run
            datasets[key] = instantiate(cfg.dataset)
        dataset = datasets[key]
        try:
            generator, _ = load_generator(run / "checkpoints" / "last.ckpt")
        except GanRunError as e:
            sys.exit(f"error: {e}")
        torch.manual_seed(args.seed)
        fake = generate(generator, torch.randn(args.num, generator.in_features), 4096)
        print(row(str(run), fake, dataset))
    for key, dataset in datasets.items():
        torch.manual_seed(args.seed)
        print(row("the data itself" + (f" ({key})" if len(datasets) > 1 else ""), dataset.sample(args.num), dataset))


if __name__ == "__main__":
    main()

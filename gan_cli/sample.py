"""Console entry point ``gan-sample``: draw samples from a trained generator.

    gan-sample outputs/runs/<run>/checkpoints/last.ckpt --num 2500 --out samples.npy

The checkpoint carries the composed config, so the generator is rebuilt exactly as it was
trained; only its weights are read (``weights_only=True``: no code is unpickled).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gan-sample",
        description="Draw samples from the generator in a gan-run checkpoint and save them as a .npy array.",
    )
    parser.add_argument("checkpoint", help="a gan-run checkpoint, e.g. outputs/runs/<run>/checkpoints/last.ckpt")
    parser.add_argument("--num", type=int, default=2500, help="number of samples (default: 2500)")
    parser.add_argument("--out", default="samples.npy", help="output file, .npy (default: samples.npy)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the latent noise (default: 0)")
    parser.add_argument("--device", default="cpu", help="torch device to sample on (default: cpu)")
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be >= 1, got {args.num}")
    if Path(args.out).suffix != ".npy":
        parser.error(f"--out must end in .npy, got {args.out}")
    return args


def load_generator(checkpoint_path: str | os.PathLike, device: str = "cpu"):
    """Rebuild the generator of a gan-run checkpoint; returns (generator, config)."""
    from omegaconf import OmegaConf

    from gan_cli.build import build_data_and_networks
    from gan_cli.checkpoints import read_checkpoint
    from gan_cli.errors import GanRunError

    path = Path(checkpoint_path)
    checkpoint = read_checkpoint(path, key="checkpoint", map_location=device)
    cfg = OmegaConf.create(checkpoint["gan_run"]["config"])
    _, generator, _ = build_data_and_networks(cfg)
    prefix = "generator."
    weights = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
    try:
        generator.load_state_dict(weights)
    except RuntimeError as e:
        raise GanRunError(f"checkpoint: {path}: generator weights do not fit its config: {str(e).splitlines()[0]}")
    return generator.to(device).eval(), cfg


def check_device(name: str) -> None:
    import torch

    from gan_cli.errors import GanRunError

    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise GanRunError(f"--device {name}: not a torch device; accepted: cpu, cuda, cuda:N") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanRunError(f"--device {name}: no CUDA device was found on this machine; use --device cpu")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from gan_cli.errors import GanRunError

    try:
        import numpy as np
        import torch

        check_device(args.device)
        generator, _ = load_generator(args.checkpoint, args.device)
        torch.manual_seed(args.seed)
        with torch.no_grad():
            z = torch.randn(args.num, generator.in_features, device=args.device)
            samples = generator(z).float().cpu().numpy()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, samples)
    except GanRunError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print(f"error: --out {args.out}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {samples.shape[0]} samples of dimension {samples.shape[1]} to {out}")


if __name__ == "__main__":
    main()

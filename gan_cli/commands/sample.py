"""Console entry point ``gan-sample``: draw samples from a trained generator.

    gan-sample outputs/runs/<run>/checkpoints/last.ckpt --num 2500 --out samples.npy
    gan-sample outputs/runs/<run>/checkpoints/last.ckpt --num 64 --out grid.png    (image data)

The checkpoint carries the composed config, so the generator is rebuilt exactly as it was
trained; only its weights are read (``weights_only=True``: no code is unpickled).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gan_cli.training.stored_config import add_allow_target_option


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gan-sample",
        description="Draw samples from the generator in a gan-run checkpoint and save them as a .npy array "
                    "(N × data dimension, or N × C × H × W in [-1, 1] for a model trained on images) or, "
                    "for an image model, as a .png grid.",
    )
    parser.add_argument("checkpoint", help="a gan-run checkpoint, e.g. outputs/runs/<run>/checkpoints/last.ckpt")
    parser.add_argument("--num", type=int, default=2500, help="number of samples (default: 2500)")
    parser.add_argument("--out", default="samples.npy",
                        help="output file: .npy, or .png for image models (default: samples.npy)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the latent noise (default: 0)")
    parser.add_argument("--device", default="cpu", help="torch device to sample on (default: cpu)")
    add_allow_target_option(parser)
    parser.add_argument("--batch-size", type=int, default=256,
                        help="samples generated at a time; bounds the memory a large --num needs (default: 256)")
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f"--num must be >= 1, got {args.num}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if Path(args.out).suffix not in (".npy", ".png"):
        parser.error(f"--out must end in .npy or .png, got {args.out}")
    return args


def load_generator(checkpoint_path: str | os.PathLike, device: str = "cpu", allow_targets: tuple[str, ...] = (),
                   checkpoint: dict | None = None):
    """Rebuild the generator of a gan-run checkpoint; returns (generator, image shape or None).
    ``checkpoint``: the file as read_checkpoint already read it (gan-eval reads it once).

    Only what gan_cli.training.stored_config lets through is built: its checks run first, so a config
    naming a callable outside the allowlist (``allow_targets`` extends it) calls nothing."""
    from gan_cli.training.build import build_data_and_networks, build_networks
    from gan_cli.training.checkpoints import read_checkpoint
    from gan_cli.errors import GanRunError
    from gan_cli.training.stored_config import check_weights, rebuildable_config, stored_data_shape

    path = Path(checkpoint_path)
    source = f"checkpoint: {path}"
    if checkpoint is None:
        checkpoint = read_checkpoint(path, key="checkpoint", map_location=device)
    cfg = rebuildable_config(checkpoint, source, allow_targets)
    data = stored_data_shape(checkpoint, source)
    # the weight average (ema_decay > 0) is the generator that the run's evaluations used
    state = checkpoint["state_dict"]
    prefix = "generator_ema.module." if any(k.startswith("generator_ema.module.") for k in state) else "generator."
    check_weights(state, source)  # every weight: a file with a non-finite one is corrupted, whichever network
    if data:  # the data's shape travels in the checkpoint: no dataset files needed here
        generator, _ = build_networks(cfg, int(data["dim"]), float(data["generator_offset"]), data.get("image_shape"))
    else:  # checkpoints written before the shape was stored
        _, generator, _ = build_data_and_networks(cfg)
    weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not weights:
        raise GanRunError(f"{source} holds no generator weights (no 'generator.' entries in its state_dict)")
    try:
        generator.load_state_dict(weights)
    except RuntimeError as e:
        raise GanRunError(f"{source}: generator weights do not fit its config: {str(e).splitlines()[0]}")
    return generator.to(device).eval(), (data or {}).get("image_shape")


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

        from gan_cli.evaluation.generate import generate

        check_device(args.device)
        generator, image_shape = load_generator(args.checkpoint, args.device, tuple(args.allow_target))
        out = Path(args.out)
        if out.suffix == ".png" and not image_shape:
            raise GanRunError(f"--out {out}: a .png grid needs a model trained on images; this one makes "
                              f"{generator.out_features}-dimensional points: use --out samples.npy")
        torch.manual_seed(args.seed)
        z = torch.randn(args.num, generator.in_features, device=args.device)
        samples = generate(generator, z, args.batch_size).cpu()
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".png":
            from gan_cli.evaluation.figures import image_grid, save_image

            save_image(image_grid(samples, tuple(image_shape)), out)
        elif image_shape:
            np.save(out, samples.reshape(-1, *image_shape).numpy())  # N × C × H × W
        else:
            np.save(out, samples.numpy())
    except GanRunError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print(f"error: --out {args.out}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    if out.suffix == ".png":
        what = "images"
    elif image_shape:
        what = f"images of shape {'×'.join(map(str, image_shape))}"
    else:
        what = f"samples of dimension {samples.shape[1]}"
    print(f"wrote {samples.shape[0]} {what} to {out}")


if __name__ == "__main__":
    main()

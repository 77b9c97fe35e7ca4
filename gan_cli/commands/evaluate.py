"""Console entry point ``gan-eval``: the evaluation metrics of a checkpoint, or of images made elsewhere.

    gan-eval outputs/runs/<run>/checkpoints/last.ckpt                  # its own dataset and settings
    gan-eval outputs/runs/<run>/checkpoints/last.ckpt eval_samples=10000 eval.features=classifier
    gan-eval --images samples/ dataset=shapes                         # a folder of PNG/JPEG files
    gan-eval --images samples.npy dataset=stacked_mnist               # N×C×H×W, in [-1, 1] or uint8

Prints one ``tag value`` line per metric, with its real-versus-real floor beside it on image
data (gan_cli.image_floor), and writes them, with their provenance and floor, as JSON
(``--out``, default ``gan_eval.json``). The real images and the feature extractor are those
of gan-run's evaluation (gan_cli.evaluation.image_evaluation), so the numbers match a run's ``eval/*``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan_cli.training.stored_config import add_allow_target_option


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gan-eval",
        description="FID, KID, precision/recall/density/coverage (and Stacked MNIST modes, toy mode metrics) "
                    "of a gan-run checkpoint's generator, or of a folder / .npy of images against a dataset. "
                    "KEY=VALUE arguments override gan-run config keys (dataset=..., eval_samples=..., eval.features=...).",
    )
    parser.add_argument("checkpoint", nargs="?", help="a gan-run checkpoint (.ckpt)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="gan-run config overrides")
    parser.add_argument("--images", metavar="DIR_OR_NPY",
                        help="evaluate these images instead of a checkpoint: a folder of PNG/JPEG, or a .npy "
                             "N×C×H×W (floats in [-1, 1], or uint8); needs dataset=...")
    parser.add_argument("--out", default="gan_eval.json", help="the JSON file to write (default: gan_eval.json)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise (checkpoints; default: 0)")
    add_allow_target_option(parser)
    args = parser.parse_intermixed_args(argv)  # options after KEY=VALUE too: gan-eval CKPT x=1 --out f.json
    if args.images and args.checkpoint and "=" in args.checkpoint:
        args.overrides.insert(0, args.checkpoint)  # `gan-eval --images DIR dataset=x`: no checkpoint
        args.checkpoint = None
    if bool(args.images) == bool(args.checkpoint):
        parser.error("give either a checkpoint or --images DIR_OR_NPY")
    return args


def check_overrides(overrides: list[str], checkpoint: bool) -> None:
    """Refuse what gan-run's command line refuses (gan_cli/preflight.py: an unknown key or option,
    with the same suggestions, a value its rule refuses), in one line. A checkpoint's config
    groups and keys were chosen by its run: only existing keys may change (``eval_samples=...``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from gan_cli.commands import preflight
    from gan_cli.config import config_dir
    from gan_cli.commands.config_sources import ConfigTree
    from gan_cli.errors import GanRunError

    try:
        parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    except HydraException as e:
        raise GanRunError(f"{' '.join(overrides)}: {str(e).strip().splitlines()[0]}") from None
    tree = ConfigTree([Path(config_dir())])
    groups = preflight.config_groups(tree)
    preflight.check_group_options(parsed, tree, groups)  # first: an unknown option is named with those there are
    for override in parsed:
        if checkpoint and (override.is_add() or override.is_force_add() or override.is_delete()):
            raise GanRunError(f"{override.input_line}: gan-eval changes a checkpoint's existing keys only "
                              "(eval_samples=..., eval.features=...); it adds and removes none")
        if checkpoint and override.key_or_group in groups:
            raise GanRunError(f"{override.input_line}: the checkpoint's run chose its {override.key_or_group}; "
                              "gan-eval changes keys only (eval_samples=..., eval.features=...)")
        if override.is_sweep_override():
            raise GanRunError(f"{override.input_line}: gan-eval evaluates one setting; give one value")
    preflight.check_keys(parsed, tree, groups, additions=not checkpoint)
    preflight.check_option_keys(parsed, tree, groups)
    preflight.check_values(parsed)


def compose(overrides: list[str]):
    """gan-run's config with these overrides, as gan-run would compose it."""
    from hydra import compose as hydra_compose, initialize_config_dir

    from gan_cli.commands.run import config_dir

    from omegaconf import open_dict

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = hydra_compose(config_name="train", overrides=overrides)
    with open_dict(cfg):  # gan-eval trains nothing; these name run folders through ${hydra:...}
        for key in ("trainer", "logger"):
            cfg.pop(key, None)
    return cfg


def checkpoint_config(path: str, overrides: list[str], allow_targets: tuple[str, ...] = (),
                      checkpoint: dict | None = None):
    """The checkpoint's stored config, checked by gan_cli.training.stored_config, with today's evaluation
    defaults where it has none and the command line's overrides on top (``checkpoint``: the file
    as already read)."""
    from omegaconf import DictConfig, OmegaConf, open_dict

    from gan_cli.training.checkpoints import read_checkpoint
    from gan_cli.errors import GanRunError
    from gan_cli.training.stored_config import stored_config

    if checkpoint is None:
        checkpoint = read_checkpoint(path, key="checkpoint")
    cfg = OmegaConf.create(stored_config(checkpoint, f"checkpoint: {path}", allow_targets))
    today = compose([]).eval
    with open_dict(cfg):
        if "eval" not in cfg:  # a checkpoint from before the image metrics
            cfg.eval = today
        elif not isinstance(cfg.eval, DictConfig):
            raise GanRunError(f"checkpoint: {path}: its stored config's eval section is not a mapping")
        # where the feature classifier is cached is this machine's choice, never the file's author's
        cfg.eval.cache_dir = today.cache_dir
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides)) if overrides else cfg


def read_images(source: str, image_shape: tuple[int, int, int]):
    """Images from a folder or a .npy as float N×C·H·W in [-1, 1], at the dataset's shape."""
    import numpy as np
    import torch

    from gan_cli.errors import GanRunError
    from gan_cli.data.images import read_image_folder

    c, h, w = image_shape
    path = Path(source)
    if path.is_dir():
        array = read_image_folder(path, resolution=h, channels=c)
    elif path.suffix == ".npy" and path.is_file():
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:  # truncated, not .npy, or pickled objects
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise GanRunError(f"--images {source}: not a readable .npy array ({reason})") from None
    else:
        raise GanRunError(f"--images {source}: not a folder nor a .npy file")
    if array.ndim != 4 or tuple(array.shape[1:]) != (c, h, w):
        raise GanRunError(f"--images {source}: images of shape {tuple(array.shape[1:])}; the dataset's are "
                          f"{(c, h, w)} (C×H×W)")
    if len(array) < 2:
        raise GanRunError(f"--images {source}: {len(array)} image(s); the metrics need at least 2")
    if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
        raise GanRunError(f"--images {source}: values of type {array.dtype}; accepted: floats in [-1, 1], or uint8")
    if array.dtype != np.uint8:
        bad = int(np.size(array) - np.isfinite(array).sum())
        if bad:
            raise GanRunError(f"--images {source}: {bad} of its values {'are' if bad > 1 else 'is'} NaN or Inf; "
                              "accepted: floats in [-1, 1], or uint8")
        low, high = float(array.min()), float(array.max())
        if low < -1.001 or high > 1.001:  # a little slack for float rounding of tanh outputs
            raise GanRunError(f"--images {source}: values range over [{low:.4g}, {high:.4g}]; accepted: floats in "
                              "[-1, 1] (as gan-sample writes them), or uint8 0-255")
    images = torch.from_numpy(np.ascontiguousarray(array))
    images = images.float().div(127.5).sub(1.0) if images.dtype == torch.uint8 else images.float()
    return images.reshape(len(images), -1)


def toy_metrics(dataset, fake) -> dict[str, float]:
    from gan_cli.data.toy import GaussianMixture
    from gan_cli.evaluation.image_metrics import prdc
    from gan_cli.evaluation.metrics import mode_coverage, wasserstein_exact

    real = dataset.sample(len(fake))
    out: dict[str, float] = {}
    if isinstance(dataset, GaussianMixture) and len(dataset.centres) > 1:
        out.update({f"eval/{k}": float(v) for k, v in mode_coverage(fake, dataset.centres, dataset.std).items()})
    if real.shape[1] <= 2:
        out["eval/wasserstein_exact"] = wasserstein_exact(real, fake)
    out.update({f"eval/{k}": v for k, v in prdc(real, fake).items()})
    return out


def evaluate(args: argparse.Namespace) -> dict:
    import torch

    from gan_cli import config
    from gan_cli.training.build import build
    from gan_cli.errors import GanRunError
    from gan_cli.evaluation.image_evaluation import build_image_evaluator

    check_overrides(args.overrides, checkpoint=bool(args.checkpoint))
    checkpoint = None
    if args.checkpoint:
        from gan_cli.training.checkpoints import read_checkpoint

        checkpoint = read_checkpoint(args.checkpoint, key="checkpoint")  # once, for the config and the weights
        cfg = checkpoint_config(args.checkpoint, args.overrides, tuple(args.allow_target), checkpoint)
    else:
        cfg = compose(args.overrides)
        config.check_additions(cfg, args.overrides, compose)
    config.check(cfg)
    torch.manual_seed(args.seed)
    dataset = build(cfg.dataset, "dataset")
    image_shape = getattr(dataset, "image_shape", None)
    if args.images:
        if image_shape is None:
            raise GanRunError("--images needs an image dataset (dataset=shapes, mnist, stacked_mnist, ...)")
        fake = read_images(args.images, image_shape)
        source = {"images": str(args.images)}
    else:
        from gan_cli.evaluation.generate import generate
        from gan_cli.commands.sample import load_generator

        generator, _ = load_generator(args.checkpoint, allow_targets=tuple(args.allow_target), checkpoint=checkpoint)
        z = torch.randn(int(cfg.eval_samples), generator.in_features)
        fake = generate(generator, z, int(cfg.batch_size))
        if not bool(torch.isfinite(fake).all()):
            raise GanRunError(f"checkpoint: {args.checkpoint}: its generator made NaN or Inf samples; "
                              "there is nothing to measure")
        source = {"checkpoint": str(args.checkpoint), "seed": args.seed}
    cfg.eval_samples = len(fake)  # as many real images as there are generated ones
    evaluator = build_image_evaluator(cfg, dataset)
    if image_shape is not None:
        if evaluator is None:
            raise GanRunError("eval.features=none: there is nothing to compute; accepted: auto, classifier, "
                              "autoencoder, inception")
        metrics = evaluator(fake)
        return {**source, "metrics": metrics, "eval_provenance": evaluator.provenance, "eval_floor": evaluator.floor}
    metrics = toy_metrics(dataset, fake)
    return {**source, "metrics": metrics, "eval_provenance": {"extractor": "raw coordinates", "samples": len(fake)}}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from gan_cli.errors import GanRunError

    try:
        result = evaluate(args)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    except GanRunError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print(f"error: --out {args.out}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    from gan_cli.evaluation.image_floor import floor_text

    floor = result.get("eval_floor")
    for tag, value in result["metrics"].items():
        beside = floor_text(tag, value, floor)
        print(f"{tag} {value:.6g}" + (f"   {beside}" if beside else ""))
    if floor:
        print(f"floor: {floor['protocol']}")
        for k, read in floor.get("misread", {}).items():
            print(f"misread floor: real images of {k} true triples read as {read['modes']} modes "
                  f"(KL {read['mode_kl']:.3g})")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""How close two disjoint real sets are in each feature space, against uniform noise.

For each dataset it builds gan-run's own evaluator (the feature network trained on the feature
split only, in a fresh cache folder) at ``eval_samples``, then prints:

- the real-versus-real floor of FID, KID and PRDC (gan_cli.image_floor: 5 draws of two disjoint
  reference-pool sets of min(eval_samples, pool/2) images, mean ± std);
- FID and KID of as many uniform-noise images (pixels uniform in [-1, 1]) against the run's
  real set, and the floor's FID as a share of the noise's (the target is ≤ 5 %);
- the feature network's score on the pool (classifier accuracy, autoencoder MSE);
- Stacked MNIST: the misread floor (modes read from real images of k true triples).

    .venv/bin/python bench/image_floor.py [--datasets mnist5k shapes stacked_mnist] [--steps 1000]
        [--shift 2] [--features classifier] [--samples 2500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_lines  # bench/machine.py, next to this script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(name: str, features: str, steps: int, samples: int) -> dict:
    import torch

    from gan_cli.data.digits import mnist5k, stacked_mnist
    from gan_cli.evaluation.features import build_extractor
    from gan_cli.evaluation.image_evaluation import ImageEvaluator
    from gan_cli.evaluation.image_floor import measure_floor, misread_floor
    from gan_cli.data.images import shapes

    dataset = {"mnist5k": lambda: mnist5k(0), "shapes": lambda: shapes(num_workers=0),
               "stacked_mnist": lambda: stacked_mnist(num_images=1000, num_workers=0)}[name]()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        extractor = build_extractor(features, dataset, None, steps, cache)
    trained = time.perf_counter() - start
    evaluator = ImageEvaluator(extractor, dataset, samples, 5000)
    floor = measure_floor(evaluator)
    noise = torch.rand(samples, *dataset.image_shape, generator=torch.Generator().manual_seed(7)) * 2 - 1
    against_noise = evaluator(noise.reshape(samples, -1))
    out = {"dataset": name, "features": features, "steps": steps, "eval_samples": samples,
           "train_seconds": round(trained, 1), "floor": floor,
           "noise": {k: against_noise[k] for k in ("eval/fid", "eval/kid_mean")},
           "fid_floor_share_of_noise": floor["metrics"]["eval/fid"]["mean"] / against_noise["eval/fid"],
           **{k: v for k, v in extractor.provenance.items() if k in ("classifier_accuracy", "autoencoder_mse")}}
    if evaluator.stacked:
        out["misread"] = misread_floor(evaluator)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["mnist5k", "shapes"])
    parser.add_argument("--features", default="classifier", choices=("classifier", "autoencoder"))
    parser.add_argument("--steps", type=int, default=1000, help="eval.classifier_steps")
    parser.add_argument("--shift", type=int, default=None, help="augmentation shift in pixels (default: the recipe's)")
    parser.add_argument("--samples", type=int, default=2500, help="eval_samples")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    from gan_cli.evaluation import features

    if args.shift is not None:
        features.SHIFT = args.shift
    for line in machine_lines():
        print(line)
    print(f"features={args.features} steps={args.steps} shift={features.SHIFT} eval_samples={args.samples}")
    results = []
    for name in args.datasets:
        r = measure(name, args.features, args.steps, args.samples)
        results.append(r)
        f = r["floor"]
        print(f"\n{name}: {r['features']} trained in {r['train_seconds']} s; "
              + (f"accuracy {100 * r['classifier_accuracy']:.2f} %" if "classifier_accuracy" in r
                 else f"reconstruction MSE {r['autoencoder_mse']:.4g}") + " on the reference pool")
        print(f"  floor: {f['protocol']}")
        for tag, s in f["metrics"].items():
            print(f"  {tag:16s} {s['mean']:.4g} ± {s['std']:.2g}")
        print(f"  noise vs real: FID {r['noise']['eval/fid']:.4g}, KID {r['noise']['eval/kid_mean']:.4g}; "
              f"floor FID / noise FID = {100 * r['fid_floor_share_of_noise']:.2f} %")
        for k, m in r.get("misread", {}).items():
            print(f"  misread: {k} true triples read as {m['modes']} modes (KL {m['mode_kl']:.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

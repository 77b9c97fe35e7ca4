"""What one image evaluation costs: each part of it, timed on the real code path.

The config is composed from conf/ as gan-run composes it (default: ``model=dcgan
dataset=shapes``); the dataset, the untrained generator and the image evaluator (the digit or
shape classifier, trained once and cached, or eval.features=...) are built by gan-run's own
builders. For each ``eval_samples`` it times, ``--repeats`` times (median printed):

- generate: G(z) for eval_samples latent vectors, in batch_size chunks (gan_cli.evaluation.generate);
- real features: featurising the fixed real set (once per run in gan-run, so it is shown apart);
- fake features, FID, KID (100 subsets), PRDC (on at most eval.prdc_samples of each set):
  the parts of ``ImageEvaluator.__call__``;
- total: generate + ``ImageEvaluator.__call__`` with the real features cached, what each
  evaluation after the first costs a run.

    .venv/bin/python bench/eval_cost.py [--samples 2500 10000] [--repeats 3] [-- KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_lines  # bench/machine.py, next to this script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, nargs="+", default=[2500, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="gan-run overrides, after -- (default: model=dcgan dataset=shapes)")
    args = parser.parse_args()

    import torch
    from hydra import compose, initialize_config_dir

    from gan_cli.training.build import build_data_and_networks
    from gan_cli.commands.run import config_dir
    from gan_cli.evaluation.generate import generate
    from gan_cli.evaluation.image_evaluation import build_image_evaluator
    from gan_cli.evaluation.image_metrics import frechet_distance, kernel_distance, prdc

    overrides = args.extra or ["model=dcgan", "dataset=shapes"]
    rows = []
    for n in args.samples:
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"), tempfile.TemporaryDirectory() as tmp:
            cfg = compose(config_name="train", overrides=[*overrides, f"eval_samples={n}", f"hydra.run.dir={tmp}"])
        torch.manual_seed(0)
        dataset, generator, _ = build_data_and_networks(cfg)
        generator.eval()
        (evaluator, build_s) = timed(build_image_evaluator, cfg, dataset)
        if evaluator is None:
            raise SystemExit(f"error: {' '.join(overrides)} has no image evaluator (toy data or eval.features=none)")
        times: dict[str, list[float]] = {k: [] for k in ("generate", "real", "fake", "fid", "kid", "prdc", "total")}
        for _ in range(args.repeats):
            evaluator._real = None  # featurise the real set again, to time it
            z = torch.randn(n, generator.in_features)
            fake, t = timed(generate, generator, z, int(cfg.batch_size))
            times["generate"].append(t)
            real, t = timed(evaluator.real_features)
            times["real"].append(t)
            images = fake.reshape(n, *evaluator.image_shape)
            generated, t = timed(evaluator.features, images)
            times["fake"].append(t)
            times["fid"].append(timed(frechet_distance, real, generated)[1])
            subset_size = evaluator.kid_subset_size(len(real))
            times["kid"].append(timed(kernel_distance, real, generated, subset_size=subset_size)[1])
            m = min(evaluator.prdc_samples, n)
            times["prdc"].append(timed(prdc, real[:m], generated[:m])[1])
            start = time.perf_counter()  # what an evaluation after the first costs: real features cached
            evaluator(generate(generator, z, int(cfg.batch_size)))
            times["total"].append(time.perf_counter() - start)
        rows.append((n, min(evaluator.prdc_samples, n), build_s, {k: statistics.median(v) for k, v in times.items()},
                     evaluator.provenance))

    print(f"overrides: {' '.join(overrides)}; median of {args.repeats}; seconds")
    print("| eval_samples | generate | real features (once per run) | fake features | FID | KID | PRDC (samples) "
          "| evaluation total |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, m, _, t, _ in rows:
        print(f"| {n:,} | {t['generate']:.2f} | {t['real']:.2f} | {t['fake']:.2f} | {t['fid']:.3f} | {t['kid']:.2f} "
              f"| {t['prdc']:.2f} ({m:,}) | {t['total']:.2f} |")
    provenance = rows[-1][4]
    accuracy = provenance.get("classifier_accuracy")
    print(f"extractor: {provenance.get('extractor')}"
          + (f", held-out accuracy {100 * accuracy:.2f} %" if accuracy is not None else "") + "; "
          f"building it (train or load from cache) took {rows[0][2]:.1f} s the first time")
    for line in machine_lines():
        print(line)


if __name__ == "__main__":
    main()

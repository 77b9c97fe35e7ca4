"""The image metrics of one run: generated images against a fixed real set, in feature space.

``ImageEvaluator`` featurises ``num_samples`` real images once (the same images at every
evaluation of a run, drawn without replacement with a fixed seed, so evaluations compare), then
scores each batch of generated images. The real images come only from the *reference pool*:
the images a trained feature network never saw (gan_cli.evaluation.features.reference_split; for
Inception, every image). Its ``floor`` is the same metrics between two disjoint real sets of
the pool (gan_cli.evaluation.image_floor), computed once per feature space and cached.

- ``eval/fid``, ``eval/kid_mean``, ``eval/kid_std`` on all samples;
- ``eval/precision``, ``eval/recall``, ``eval/density``, ``eval/coverage`` (k = 5) on the first
  ``prdc_samples`` of each set (their k-NN search is quadratic in the count);
- Stacked MNIST: ``eval/modes`` and ``eval/mode_kl`` over the 1,000 digit triples that the
  classifier reads channel by channel (PacGAN Table 2).

``provenance`` says what the numbers were computed with; summary.json keeps it beside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gan_cli.evaluation.image_floor import image_floor
from gan_cli.evaluation.image_metrics import (
    KID_SUBSET_SIZE, KID_SUBSETS, PRDC_K, frechet_distance, kernel_distance, prdc)

IMAGE_TAGS = ("eval/fid", "eval/kid_mean", "eval/kid_std", "eval/precision", "eval/recall", "eval/density",
              "eval/coverage")


class ImageEvaluator:
    def __init__(self, extractor: Any, dataset: Any, num_samples: int, prdc_samples: int, seed: int = 12345,
                 cache_dir: str | None = None) -> None:
        self.extractor, self.dataset = extractor, dataset
        self.image_shape = tuple(dataset.image_shape)
        self.num_samples, self.prdc_samples, self.seed = int(num_samples), int(prdc_samples), int(seed)
        self.cache_dir = cache_dir
        self.stacked = getattr(dataset, "digit_images", None) is not None
        self._real: np.ndarray | None = None
        self._reference: torch.Tensor | None = None
        self._floor: dict | None = None

    @property
    def pool_digits(self) -> tuple[np.ndarray, np.ndarray]:
        """Stacked MNIST: the single digits (and their labels) of the reference pool."""
        pool = getattr(self.extractor, "pool", None)
        digits, labels = np.asarray(self.dataset.digit_images), np.asarray(self.dataset.digit_labels)
        return (digits, labels) if pool is None else (digits[pool], labels[pool])

    @property
    def reference(self) -> torch.Tensor:
        """uint8 images the real sets are drawn from: the dataset's reference pool; for Stacked
        MNIST, 2·num_samples images stacked from the pool's digits (seed fixed)."""
        if self._reference is None:
            pool = getattr(self.extractor, "pool", None)
            if self.stacked:
                digits, _ = self.pool_digits
                picks = np.random.default_rng(self.seed).integers(0, len(digits), (2 * self.num_samples, 3))
                self._reference = torch.from_numpy(np.ascontiguousarray(digits[picks, 0]))
            else:
                images = self.dataset.images
                self._reference = images if pool is None else images[torch.as_tensor(pool)]
        return self._reference

    @staticmethod
    def kid_subset_size(n: int) -> int:
        # subsets of half the set at most: subsets as large as the set would all be the same set
        return min(KID_SUBSET_SIZE, max(2, n // 2))

    @property
    def real_samples(self) -> int:
        """Real images per evaluation: eval_samples, or the whole pool where it holds fewer (never
        a duplicate: a repeated image would shrink PRDC's k-NN balls to nothing)."""
        return min(self.num_samples, len(self.reference))

    @property
    def provenance(self) -> dict[str, Any]:
        return {**self.extractor.provenance, "image_shape": list(self.image_shape),
                "real_samples": self.real_samples, "fake_samples": self.num_samples,
                "prdc_samples": min(self.num_samples, self.prdc_samples), "prdc_k": PRDC_K,
                "kid_subsets": KID_SUBSETS, "kid_subset_size": self.kid_subset_size(self.real_samples),
                "real_set": f"{self.real_samples} of the {len(self.reference)} reference-pool images, seed "
                            f"{self.seed}, fixed for the run"}

    @property
    def floor(self) -> dict:
        """The real-versus-real floor of every metric (gan_cli.evaluation.image_floor), cached."""
        if self._floor is None:
            self._floor = image_floor(self, self.cache_dir)
        return self._floor

    def real_features(self) -> np.ndarray:
        if self._real is None:
            images = self.reference
            g = torch.Generator().manual_seed(self.seed)
            index = torch.randperm(len(images), generator=g)[:self.real_samples]
            self._real = self.features(images[index].float().div(127.5).sub(1.0))
        return self._real

    def features(self, images: torch.Tensor) -> np.ndarray:
        return self.extractor.features(images.reshape(len(images), *self.image_shape))

    def score(self, real: np.ndarray, generated: np.ndarray) -> dict[str, float]:
        """FID, KID and PRDC between two sets of features."""
        kid_mean, kid_std = kernel_distance(real, generated, subset_size=self.kid_subset_size(min(len(real),
                                                                                                  len(generated))))
        m = min(self.prdc_samples, len(real), len(generated))
        out = {"eval/fid": frechet_distance(real, generated), "eval/kid_mean": kid_mean, "eval/kid_std": kid_std}
        out.update({f"eval/{k}": v for k, v in prdc(real[:m], generated[:m]).items()})
        return out

    def __call__(self, fake: torch.Tensor) -> dict[str, float]:
        """``fake``: n × C·H·W generated images in [-1, 1]."""
        images = fake.detach().float().reshape(len(fake), *self.image_shape)
        out = self.score(self.real_features(), self.features(images))
        if self.stacked:
            from gan_cli.data.digits import triple_modes

            digits = self.extractor.labels(images)  # n × 3 digits
            out.update({f"eval/{k}": float(v) for k, v in triple_modes(digits @ np.array([100, 10, 1])).items()})
        return out


def build_image_evaluator(cfg: Any, dataset: Any) -> ImageEvaluator | None:
    """The run's ImageEvaluator from ``cfg.eval``, or None for toy data or eval.features=none."""
    if getattr(dataset, "image_shape", None) is None:
        return None
    from gan_cli.evaluation.features import build_extractor

    options = cfg.get("eval") or {}
    cache_dir = str(options.get("cache_dir", "~/.cache/gan-run"))
    extractor = build_extractor(str(options.get("features", "auto")), dataset, options.get("inception_weights"),
                                int(options.get("classifier_steps", 1000)), cache_dir)
    if extractor is None:
        return None
    return ImageEvaluator(extractor, dataset, cfg.eval_samples, int(options.get("prdc_samples", 5000)),
                          cache_dir=cache_dir)

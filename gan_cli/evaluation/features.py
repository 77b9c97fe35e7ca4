"""Feature extractors for the image metrics, chosen with ``eval.features``; all work offline.

- ``classifier``: a small CNN trained on the dataset's own labels (MNIST digits, the shape class
  of ``dataset=shapes``, Stacked MNIST's single digits), cached on disk under a key that hashes
  the training images, the labels, the architecture and the training recipe, so it is trained
  once per dataset. Features are its penultimate layer (``FEATURES`` units). Its held-out
  accuracy is printed and recorded. For Stacked MNIST the classifier reads one digit, and each
  channel is featurised (and labelled) on its own: the features of an image are its three
  channels' features side by side.
- ``inception``: torch-fidelity's FID Inception-v3 (``pt_inception-2015-12-05``, 2048 pool
  features), loaded only from the local file ``eval.inception_weights``; never downloaded.
- ``none``: no image metrics.
- ``auto`` (the default): ``classifier`` for labelled data, else ``inception`` when
  ``eval.inception_weights`` is set, else a one-line error that lists these values.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_cli.errors import GanRunError

FEATURES = 128  # penultimate width of the classifier: the feature dimension
BATCH = 128  # classifier training batch
LR = 1e-3
HELD_OUT = 0.1  # fraction of the labelled images kept out of training, for the accuracy
CHOICES = ("auto", "classifier", "inception", "none")
RECIPE = "v1 adam lr=1e-3 batch=128 held_out=0.1 seed=0"  # part of the cache key


class Classifier(nn.Module):
    """Three stride-2 conv3×3-ReLU layers (w, 2w, 4w maps), average-pooled to 2×2, a linear
    layer to FEATURES units and ReLU (the features), a linear layer to the classes. Small on
    purpose: it is trained on the CPU at the start of a run, once per dataset."""

    def __init__(self, channels: int, classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(4 * width * 4, FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _to_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 N×C×H×W → float32 in [-1, 1], as ImageData feeds the networks."""
    return torch.as_tensor(images).float().div(127.5).sub(1.0)


def cache_key(images: np.ndarray, labels: np.ndarray, classes: int, steps: int) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    digest.update(f"{tuple(images.shape[1:])} classes={classes} width=16 arch=v2 features={FEATURES} steps={steps} "
                  f"{RECIPE}".encode())
    return digest.hexdigest()[:16]


def train_classifier(images: np.ndarray, labels: np.ndarray, steps: int) -> tuple[Classifier, float]:
    """Adam, ``steps`` batches of BATCH, on all but a held-out 10 %; returns the model and its
    held-out accuracy. Its random draws use their own generator inside ``fork_rng``, so training
    it changes nothing in the GAN run's random stream."""
    classes = int(labels.max()) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        order = torch.randperm(len(images))
        n_test = max(1, int(HELD_OUT * len(images)))
        test, train = order[:n_test], order[n_test:]
        x = torch.as_tensor(np.ascontiguousarray(images))
        y = torch.as_tensor(labels, dtype=torch.long)
        model = Classifier(images.shape[1], classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)
        for _ in range(int(steps)):
            batch = train[torch.randint(len(train), (BATCH,))]
            loss = nn.functional.cross_entropy(model(_to_float(x[batch])), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(_to_float(x[test[i:i + 512]])).argmax(1) for i in range(0, n_test, 512)])
    return model, float((predicted == y[test]).float().mean())


def cached_classifier(images: np.ndarray, labels: np.ndarray, steps: int, cache_dir: str | Path) -> tuple[Classifier, dict]:
    """The classifier for these images and labels: loaded from ``cache_dir`` if a previous run
    trained it, else trained and saved there. Returns it and its provenance."""
    classes = int(labels.max()) + 1
    key = cache_key(images, labels, classes, steps)
    file = Path(cache_dir).expanduser() / f"classifier-{key}.pt"
    if file.is_file():
        saved = torch.load(file, map_location="cpu", weights_only=True)
        with torch.random.fork_rng(devices=[]):  # its random initialisation must not move the run's stream
            model = Classifier(images.shape[1], classes)
        model.load_state_dict(saved["state_dict"])
        model.eval()
        accuracy, cached = float(saved["accuracy"]), True
    else:
        model, accuracy = train_classifier(images, labels, steps)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp")  # DDP ranks may train the same one at once
        torch.save({"state_dict": model.state_dict(), "accuracy": accuracy}, tmp)
        tmp.replace(file)  # never a half-written file under the final name
        cached = False
    print(f"evaluation features: classifier {key} ({'cached' if cached else f'trained {steps} steps'}), "
          f"held-out accuracy {100 * accuracy:.2f} % on {classes} classes; {file}")
    return model, {"extractor": "classifier", "classifier_key": key, "classifier_accuracy": accuracy,
                   "classifier_steps": int(steps), "classifier_classes": classes, "classifier_file": str(file)}


class ClassifierFeatures:
    """Penultimate-layer features (and predicted classes) of a Classifier; with ``per_channel``
    each channel of an image is read as one grey image of the classifier's kind."""

    def __init__(self, model: Classifier, provenance: dict, per_channel: bool) -> None:
        self.model, self.per_channel = model, per_channel
        self.provenance = {**provenance, "per_channel": per_channel}

    def _run(self, images: torch.Tensor, part: str) -> np.ndarray:
        n, c = images.shape[:2]
        x = images.reshape(n * c, 1, *images.shape[2:]) if self.per_channel else images
        net = self.model.body if part == "features" else self.model
        self.model.to(x.device)
        with torch.no_grad():
            out = torch.cat([net(x[i:i + 1024].float()) for i in range(0, len(x), 1024)])
        if part == "labels":
            out = out.argmax(1)
        return out.reshape(n, -1).cpu().double().numpy() if part == "features" else out.reshape(n, -1).cpu().numpy()

    def features(self, images: torch.Tensor) -> np.ndarray:
        """images: float N×C×H×W in [-1, 1] → (N, FEATURES) or, per channel, (N, C·FEATURES)."""
        return self._run(images, "features")

    def labels(self, images: torch.Tensor) -> np.ndarray:
        """The predicted class of each image, (N, 1), or of each channel, (N, C)."""
        return self._run(images, "labels")


class InceptionFeatures:
    """torch-fidelity's FID Inception-v3 pool features (2048) from a local weights file."""

    def __init__(self, weights: str) -> None:
        file = Path(weights).expanduser()
        if not file.is_file():
            raise GanRunError(f"eval.inception_weights={weights}: no such file; expected torch-fidelity's "
                              "weights-inception-2015-12-05-6726825d.pth (see docs/evaluation.md)")
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError as e:
            raise GanRunError(f"eval.features=inception needs torch-fidelity, which needs torchvision ({e}); "
                              "pip install 'gan-run[inception]', or use eval.features=classifier") from None
        self.model = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                 feature_extractor_weights_path=str(file)).eval()
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        self.provenance = {"extractor": "inception", "weights_sha256": digest, "weights_file": str(file)}

    def features(self, images: torch.Tensor) -> np.ndarray:
        # torch-fidelity wants uint8 RGB and resizes to 299×299 itself
        x = images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        with torch.no_grad():
            return torch.cat([self.model(x[i:i + 200])[0] for i in range(0, len(x), 200)]).double().cpu().numpy()


def labelled_images(dataset: Any) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """What a classifier can learn from ``dataset``: (images, labels, per_channel), or None."""
    digits = getattr(dataset, "digit_images", None)
    if digits is not None:  # Stacked MNIST: learn single digits, read each channel
        return np.asarray(digits), np.asarray(dataset.digit_labels), True
    labels = getattr(dataset, "labels", None)
    if labels is None:
        return None
    return dataset.images.numpy(), labels, False


def build_extractor(features: str, dataset: Any, inception_weights: str | None, classifier_steps: int,
                    cache_dir: str):
    """The extractor that ``eval.features`` names for this image dataset, or None for ``none``."""
    if features == "none":
        return None
    labelled = labelled_images(dataset)
    if features == "auto":
        features = "classifier" if labelled is not None else "inception" if inception_weights else None
        if features is None:
            raise GanRunError("eval.features=auto: this dataset has no labels to train the feature classifier on "
                              "and eval.inception_weights is not set; accepted: eval.features=inception with "
                              "eval.inception_weights=PATH, or eval.features=none (no FID/KID/precision/recall)")
    if features == "inception":
        if not inception_weights:
            raise GanRunError("eval.features=inception needs eval.inception_weights=PATH (a local file; nothing is "
                              "downloaded); accepted: eval.features=" + ", ".join(CHOICES))
        return InceptionFeatures(inception_weights)
    if labelled is None:
        raise GanRunError("eval.features=classifier: this dataset has no labels to train it on; accepted: "
                          "eval.features=inception with eval.inception_weights=PATH, or eval.features=none")
    images, labels, per_channel = labelled
    model, provenance = cached_classifier(images, labels, classifier_steps, cache_dir)
    return ClassifierFeatures(model, provenance, per_channel)

"""Feature extractors for the image metrics, chosen with ``eval.features``; all work offline.

Every feature network trained here sees only the *feature split* of the dataset: a fixed-seed
half of its images (``reference_split``). The other half, the *reference pool*, is where the
image metrics draw their real images and their real-versus-real floor (gan_cli.evaluation.image_floor), so
a generator that copies the images the features were trained on gains nothing from it.
For Stacked MNIST the split is of the single digits; the reference images are stacked from the
pool's digits only.

- ``classifier``: a small CNN trained on the feature split's labels (MNIST digits, the shape
  class of ``dataset=shapes``, Stacked MNIST's single digits), with random shifts of up to
  ``SHIFT`` pixels. Cached on disk under a key that hashes the training images, the labels,
  the split, the architecture and the recipe, so it is trained once per dataset. Features are
  its penultimate layer (``FEATURES`` units). Its accuracy on the reference pool (images it
  never saw) is printed and recorded. For Stacked MNIST the classifier reads one digit, and
  each channel is featurised (and labelled) on its own: the features of an image are its three
  channels' features side by side.
- ``autoencoder``: for images without labels (``dataset=image_folder``): the bottleneck
  (``FEATURES`` units) of a small convolutional autoencoder trained on the feature split to
  reconstruct its images, cached the same way. Needs neither labels nor downloaded weights.
- ``inception``: torch-fidelity's FID Inception-v3 (``pt_inception-2015-12-05``, 2048 pool
  features), loaded only from the local file ``eval.inception_weights``; never downloaded.
- ``none``: no image metrics.
- ``auto`` (the default): ``classifier`` for labelled data, else ``inception`` when
  ``eval.inception_weights`` is set, else ``autoencoder``.
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

FEATURES = 128  # penultimate width of the classifier, bottleneck of the autoencoder: the feature dimension
BATCH = 128  # feature-network training batch
LR = 1e-3
SHIFT = 2  # augmentation: each training image moved by up to this many pixels in x and y
FEATURE_SHARE = 0.5  # share of the images that train the features; the rest is the reference pool
SPLIT_SEED = 0
CHOICES = ("auto", "classifier", "autoencoder", "inception", "none")
RECIPE = f"v3 adam lr={LR} batch={BATCH} shift={SHIFT} split={FEATURE_SHARE} seed={SPLIT_SEED}"  # in the cache key


def reference_split(n: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the feature split and of the reference pool of ``n`` images: a fixed-seed
    permutation cut at FEATURE_SHARE, each part sorted. Disjoint, and together all n."""
    if n < 4:
        raise GanRunError(f"the dataset has {n} image(s); the image metrics need at least 4 (half to train the "
                          "features on, half as the real reference set); accepted: eval.features=none")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(FEATURE_SHARE * n))
    return np.sort(order[:cut]), np.sort(order[cut:])


def index_digest(indices: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]


def split_provenance(feature: np.ndarray, pool: np.ndarray, of: str) -> dict:
    """What eval_provenance records of a split: sizes, seed and a hash of each index list."""
    return {"split_of": of, "split_seed": SPLIT_SEED,
            "feature_split": {"size": int(len(feature)), "indices_sha256": index_digest(feature)},
            "reference_pool": {"size": int(len(pool)), "indices_sha256": index_digest(pool)}}


class Classifier(nn.Module):
    """Three stride-2 conv3×3-ReLU layers (w, 2w, 4w maps), average-pooled to 2×2, a linear
    layer to FEATURES units and ReLU (the features), a linear layer to the classes. Small on
    purpose: it is trained on the CPU at the start of a run, once per dataset."""

    def __init__(self, channels: int, classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = encoder(channels, width)
        self.head = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def encoder(channels: int, width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
        nn.Flatten(), nn.Linear(4 * width * 4, FEATURES), nn.ReLU(),
    )


class AutoEncoder(nn.Module):
    """The classifier's body as encoder (FEATURES units: the features); a linear layer to
    4w×4×4 maps and three ×2 transposed convolutions back up, resized to the image's H×W."""

    def __init__(self, channels: int, size: tuple[int, int], width: int = 16) -> None:
        super().__init__()
        self.size, self.width = tuple(size), width
        self.body = encoder(channels, width)
        self.up = nn.Linear(FEATURES, 4 * width * 16)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.up(self.body(x)).reshape(len(x), 4 * self.width, 4, 4)
        return torch.tanh(nn.functional.interpolate(self.decoder(h), size=self.size, mode="bilinear",
                                                    align_corners=False))


def _to_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 N×C×H×W → float32 in [-1, 1], as ImageData feeds the networks."""
    return torch.as_tensor(images).float().div(127.5).sub(1.0)


def shifted(x: torch.Tensor, shift: int | None = None) -> torch.Tensor:
    """Each image moved by its own random (dx, dy) in [-shift, shift]² (default SHIFT), filled
    with -1 (black)."""
    shift = SHIFT if shift is None else int(shift)
    if shift <= 0:
        return x
    n, c, h, w = x.shape
    padded = nn.functional.pad(x, (shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * shift + 1, (2, n))
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def cache_key(kind: str, images: np.ndarray, labels: np.ndarray | None, steps: int, split: dict) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).tobytes())
    if labels is not None:
        digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    digest.update(f"{kind} {tuple(images.shape[1:])} width=16 arch=v2 features={FEATURES} steps={steps} {RECIPE} "
                  f"pool={split['reference_pool']['indices_sha256']}".encode())
    return digest.hexdigest()[:16]


def build_network(kind: str, shape: tuple[int, ...], classes: int) -> nn.Module:
    return Classifier(shape[0], classes) if kind == "classifier" else AutoEncoder(shape[0], shape[1:])


def train_network(kind: str, train: np.ndarray, labels: np.ndarray | None, steps: int,
                  test: np.ndarray, test_labels: np.ndarray | None) -> tuple[nn.Module, float]:
    """Adam, ``steps`` batches of BATCH shifted images from ``train`` only; returns the network
    and its score on ``test`` (the reference pool): a classifier's accuracy, an autoencoder's
    reconstruction mean squared error. Its random draws happen inside ``fork_rng``, so training
    changes nothing in the GAN run's random stream."""
    classes = int(labels.max()) + 1 if labels is not None else 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        x = torch.as_tensor(np.ascontiguousarray(train))
        y = torch.as_tensor(labels, dtype=torch.long) if labels is not None else None
        model = build_network(kind, train.shape[1:], classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)
        for _ in range(int(steps)):
            batch = torch.randint(len(x), (BATCH,))
            inputs = shifted(_to_float(x[batch]))
            if y is not None:
                loss = nn.functional.cross_entropy(model(inputs), y[batch])
            else:
                loss = nn.functional.mse_loss(model(inputs), inputs)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        chunks = [_to_float(test[i:i + 512]) for i in range(0, len(test), 512)]
        if test_labels is not None:
            predicted = torch.cat([model(c).argmax(1) for c in chunks])
            return model, float((predicted == torch.as_tensor(test_labels)).float().mean())
        return model, float(sum(float(((model(c) - c) ** 2).sum()) for c in chunks) / test.size)


def cached_network(kind: str, images: np.ndarray, labels: np.ndarray | None, steps: int, cache_dir: str | Path,
                   split: tuple[np.ndarray, np.ndarray, dict]) -> tuple[nn.Module, dict]:
    """The feature network trained on the feature split of these images: loaded from
    ``cache_dir`` if a previous run trained it, else trained and saved there. Returns it and its
    provenance."""
    feature, pool, split_record = split
    train, test = images[feature], images[pool]
    train_labels, test_labels = (labels[feature], labels[pool]) if labels is not None else (None, None)
    classes = int(labels.max()) + 1 if labels is not None else 0
    key = cache_key(kind, train, train_labels, steps, split_record)
    file = Path(cache_dir).expanduser() / f"{kind}-{key}.pt"
    if file.is_file():
        saved = torch.load(file, map_location="cpu", weights_only=True)
        with torch.random.fork_rng(devices=[]):  # its random initialisation must not move the run's stream
            model = build_network(kind, images.shape[1:], classes)
        model.load_state_dict(saved["state_dict"])
        model.eval()
        score, cached = float(saved["score"]), True
    else:
        model, score = train_network(kind, train, train_labels, steps, test, test_labels)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp")  # DDP ranks may train the same one at once
        torch.save({"state_dict": model.state_dict(), "score": score}, tmp)
        tmp.replace(file)  # never a half-written file under the final name
        cached = False
    how = "cached" if cached else f"trained {steps} steps on {len(train)} images"
    if kind == "classifier":
        print(f"evaluation features: classifier {key} ({how}), held-out accuracy {100 * score:.2f} % on "
              f"{classes} classes ({len(test)} reference-pool images it never saw); {file}")
        record = {"classifier_accuracy": score, "classifier_classes": classes}
    else:
        print(f"evaluation features: autoencoder {key} ({how}), reconstruction MSE {score:.4g} on "
              f"{len(test)} reference-pool images it never saw; {file}")
        record = {"autoencoder_mse": score}
    return model, {"extractor": kind, "classifier_key": key, "classifier_steps": int(steps),
                   "classifier_file": str(file), **record, **split_record}


class ClassifierFeatures:
    """Features (and, for a classifier, predicted classes) of a trained feature network:
    ``model.body``'s output. With ``per_channel`` each channel of an image is read as one grey
    image of the network's kind. ``pool``: the reference-pool indices of the images it was
    split from."""

    def __init__(self, model: nn.Module, provenance: dict, per_channel: bool, pool: np.ndarray | None = None) -> None:
        self.model, self.per_channel, self.pool = model, per_channel, pool
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
        self.pool = None  # trained on none of the dataset: every image may be a reference
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
    """The extractor that ``eval.features`` names for this image dataset, or None for ``none``.
    A trained one carries ``pool``, the reference-pool indices its training never saw."""
    if features == "none":
        return None
    labelled = labelled_images(dataset)
    if features == "auto":
        features = "classifier" if labelled is not None else "inception" if inception_weights else "autoencoder"
    if features == "inception":
        if not inception_weights:
            raise GanRunError("eval.features=inception needs eval.inception_weights=PATH (a local file; nothing is "
                              "downloaded); accepted: eval.features=" + ", ".join(CHOICES))
        return InceptionFeatures(inception_weights)
    if features == "classifier" and labelled is None:
        raise GanRunError("eval.features=classifier: this dataset has no labels to train it on; accepted: "
                          "eval.features=autoencoder (needs no labels), inception with eval.inception_weights=PATH, "
                          "or none")
    if features == "classifier":
        images, labels, per_channel = labelled
    else:
        images, labels, per_channel = dataset.images.numpy(), None, False
    feature, pool = reference_split(len(images))
    split = (feature, pool, split_provenance(feature, pool, "digits" if per_channel else "images"))
    model, provenance = cached_network(features, images, labels, classifier_steps, cache_dir, split)
    return ClassifierFeatures(model, provenance, per_channel, pool)

"""Image data for training: ``ImageData`` and the ``_target_`` factories of conf/dataset/
(mnist, cifar10, image_folder, shapes).

The files are read by gan_cli.data.image_formats, the procedural shapes drawn by
gan_cli.data.image_shapes, and the batches sampled by gan_cli.data.image_sampler.
``ImageData`` wraps a uint8 N×C×H×W array with the interface of ``gan_cli.data.toy.RealData``:
``dim`` (C·H·W), ``sample(n, device)`` → float32 n×dim in [-1, 1]. The MLP generator and
discriminator of ``model=mlp`` therefore see flattened images, as in the original GAN paper's
MNIST experiment.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from gan_cli.config import require
from gan_cli.data.toy import RealData
from gan_cli.errors import GanRunError
# the readers, shapes and sampler, by the names code and tests written against images.py use
from gan_cli.data.image_formats import (  # noqa: F401
    CIFAR10_TEST, CIFAR10_TRAIN, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IMAGE_EXTENSIONS, MNIST_FILES,
    _check_channels, _check_resolution, _folder, _resize_all, read_cifar10, read_idx, read_idx_labels,
    read_image_folder)
from gan_cli.data.image_sampler import ShuffledEpochs, _ignore_stop_signals
from gan_cli.data.image_shapes import make_shapes


class ImageData(RealData):
    """A fixed set of uint8 images (N×C×H×W, held in host memory).

    Training reads them through a ``torch.utils.data.DataLoader`` (``batches``): shuffled
    epochs without replacement, ``num_workers`` worker processes, pinned memory and
    non-blocking copies when training on a GPU, and a ``DistributedSampler`` under DDP so that
    each rank sees its own share of an epoch. Batches travel as uint8 (a quarter of the float
    size) and become float32 n×dim in [-1, 1] (0 → -1, 255 → 1) on the device.
    ``sample(n, device)`` draws n images with replacement, for evaluation.
    """

    generator_offset = 0.0

    def __init__(self, images: np.ndarray | Tensor, num_workers: int = 2, labels: np.ndarray | None = None) -> None:
        if isinstance(images, np.ndarray):
            # torch.from_numpy shares memory and warns on a read-only array: copy only then
            images = torch.from_numpy(np.require(images, requirements=("C", "W")))
        if images.dtype != torch.uint8 or images.ndim != 4 or len(images) == 0:
            raise ValueError(f"ImageData needs a non-empty uint8 N×C×H×W array, got {images.dtype} "
                             f"{tuple(images.shape)}")
        require("dataset.num_workers", num_workers)
        self.images = images
        self.num_workers = int(num_workers)
        self.image_shape: tuple[int, int, int] = tuple(int(s) for s in images.shape[1:])
        self.dim = int(np.prod(self.image_shape))
        # class of each image (digit, shape, CIFAR class), or None: what gan_cli.evaluation.features trains on
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.images)

    def _to_float(self, batch: Tensor) -> Tensor:
        return batch.reshape(len(batch), self.dim).float().div_(127.5).sub_(1.0)

    def sample(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        k = torch.randint(len(self.images), (n,))
        return self._to_float(self.images[k].to(device))

    def batches(self, n: int, device: torch.device, start: int = 0) -> Iterator[Tensor]:
        """Batches of ``n`` images from a DataLoader over shuffled epochs, from the ``start``-th
        batch on (a resumed run reads on where its checkpoint stopped; under DDP it starts a
        new pass instead, see docs/reliability.md)."""
        device = torch.device(device)
        dataset = TensorDataset(self.images)  # item i: (image i,)
        # the run's seed (seed_everything's) fixes the order of the epochs; read, not drawn, so
        # the noise stream is the same with and without a loader, and after a resume
        seed = torch.initial_seed()
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if distributed:
            sampler = DistributedSampler(dataset, shuffle=True, seed=seed, drop_last=True)
            per_epoch = len(sampler)  # images this process reads per epoch: its share
        else:
            sampler = ShuffledEpochs(len(dataset), n, seed, start_batch=start)
            per_epoch = len(dataset)
        if per_epoch < n:
            raise GanRunError(f"batch_size={n} is larger than the {per_epoch} images this process reads "
                              f"per epoch; lower batch_size or use more images")
        loader = DataLoader(dataset, batch_size=n, sampler=sampler, drop_last=True,
                            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                            pin_memory=device.type == "cuda", worker_init_fn=_ignore_stop_signals,
                            generator=torch.Generator().manual_seed(seed),
                            multiprocessing_context=worker_context() if self.num_workers > 0 else None)
        epoch = 0
        while True:  # ShuffledEpochs never ends; DistributedSampler is one epoch per pass
            if distributed:
                sampler.set_epoch(epoch)
            for (batch,) in loader:
                yield self._to_float(batch.to(device, non_blocking=True))
            epoch += 1


def worker_context():
    """The standard library's own start method for the loader's workers. Inside a job of Hydra's
    joblib launcher the default context is loky's, whose processes cannot start torch's workers
    ("'Process' object has no attribute 'env'"); the platform's own default (fork on Linux) can."""
    import multiprocessing

    return multiprocessing.get_context(multiprocessing.get_all_start_methods()[0])


# factories for Hydra's _target_ (conf/dataset/*.yaml)


def mnist(path: str, resolution: int = 28, include_test: bool = False, num_workers: int = 2) -> ImageData:
    """MNIST from IDX files in ``path`` (see ``read_idx``); 1×28×28, resized with Pillow otherwise.
    The digits' labels come from the IDX label files beside them, when they are there."""
    images = _resize_all(read_idx(path, include_test), _check_resolution(resolution))
    labels = read_idx_labels(path, include_test)
    return ImageData(images, num_workers, labels=labels if labels is not None and len(labels) == len(images) else None)


def cifar10(path: str, resolution: int = 32, include_test: bool = False, num_workers: int = 2) -> ImageData:
    """CIFAR-10 from the python-version batches in ``path`` (see ``read_cifar10``); 3×32×32,
    resized with Pillow otherwise."""
    labels: list[np.ndarray] = []  # filled batch by batch, in the order of the images
    images = _resize_all(read_cifar10(path, include_test, labels), _check_resolution(resolution))
    return ImageData(images, num_workers, labels=np.concatenate(labels))


def image_folder(path: str, resolution: int = 32, channels: int = 3, num_workers: int = 2) -> ImageData:
    """Every PNG/JPEG under ``path`` (see ``read_image_folder``). Where every image sits in a
    subfolder of ``path`` and there are at least two (torchvision's ImageFolder convention),
    the subfolder is its class, which the evaluation's feature classifier learns."""
    images = read_image_folder(path, resolution, channels)
    labels = folder_labels(path)
    return ImageData(images, num_workers, labels=labels if labels is not None and len(labels) == len(images) else None)


def folder_labels(path: str) -> np.ndarray | None:
    """The class of each image under ``path``, in ``read_image_folder``'s order: the index of its
    subfolder among the sorted subfolder names; None unless every image is one level down in
    one of two or more subfolders."""
    from pathlib import Path

    folder = Path(path).expanduser()
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    parts = [f.relative_to(folder).parts for f in files]
    classes = sorted({p[0] for p in parts})
    if not parts or any(len(p) != 2 for p in parts) or len(classes) < 2:
        return None
    return np.array([classes.index(p[0]) for p in parts], dtype=np.int64)


def shapes(num_images: int = 10000, resolution: int = 32, channels: int = 3, seed: int = 0,
           num_workers: int = 2) -> ImageData:
    """Procedural discs, squares and triangles (see ``make_shapes``): needs no files."""
    images, labels = make_shapes(num_images, resolution, channels, seed, with_labels=True)
    return ImageData(images, num_workers, labels=labels)

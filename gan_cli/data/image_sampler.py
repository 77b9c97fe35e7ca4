"""How training reads image data: shuffled epochs that a resumed run can enter at any batch,
and DataLoader workers that leave stop signals to the training process."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


def _ignore_stop_signals(worker_id: int) -> None:
    """Loader workers leave Ctrl-C (SIGINT, sent to the whole terminal's process group) and
    Lightning's SLURM requeue signal (SIGUSR1) to the training process, which inherited
    handlers for both would otherwise run in every worker too. SIGTERM keeps its default:
    multiprocessing stops workers with it at exit, and a worker that ignored it would hang
    the exit."""
    for sig in (signal.SIGINT, getattr(signal, "SIGUSR1", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)


class ShuffledEpochs(Sampler[int]):
    """Image indices forever, one shuffled epoch after another, each epoch the first
    ``per_epoch`` entries (whole batches of ``batch_size``) of ``randperm`` seeded with
    ``seed + epoch``, as DistributedSampler seeds its epochs. Any batch of the stream can be
    reached without replaying the ones before it: the stream starts at batch ``start_batch``."""

    def __init__(self, num_images: int, batch_size: int, seed: int, start_batch: int = 0) -> None:
        self.num_images = int(num_images)
        self.per_epoch = self.num_images // batch_size * batch_size  # the last partial batch is dropped
        self.seed = int(seed)
        self.start = int(start_batch) * batch_size

    def __iter__(self) -> Iterator[int]:
        if self.per_epoch == 0:
            return
        epoch, offset = divmod(self.start, self.per_epoch)
        while True:
            order = torch.randperm(self.num_images, generator=torch.Generator().manual_seed(self.seed + epoch))
            yield from order[offset:self.per_epoch].tolist()
            epoch, offset = epoch + 1, 0

"""PacGAN's own toy protocol (Lin et al. 2018; THEORY.md §7), for a like-for-like grid row.

- G: 4 × 400 Linear → BatchNorm → ReLU layers (``BatchNormMLP``), latent 2-D N(0, 1);
- D: 3 × 200 maxout layers of 5 pieces reading packs of m samples (``PackedMaxoutMLP``);
- a fixed training set of 100,000 points walked in epochs (``FixedTrainingSet``), where
  gan-run's own presets draw fresh points for every batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from gan_cli.data.toy import GaussianMixture, grid


class BatchNormMLP(nn.Module):
    """G(z): (Linear → BatchNorm1d → ReLU) per hidden width, then a final Linear."""

    def __init__(self, in_features: int, out_features: int, hidden: Sequence[int] = (400, 400, 400, 400),
                 output_offset: float = 0.0) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        layers: list[nn.Module] = []
        width = self.in_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.BatchNorm1d(int(h)), nn.ReLU()]
            width = int(h)
        last = nn.Linear(width, self.out_features)
        if output_offset:
            with torch.no_grad():
                last.bias.add_(float(output_offset))
        self.net = nn.Sequential(*layers, last)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Maxout(nn.Module):
    """h = max_k (W_k x + b_k) over ``pieces`` affine maps (Goodfellow et al. 2013): one Linear
    of width × pieces outputs, maximised over each group of ``pieces``."""

    def __init__(self, in_features: int, width: int, pieces: int) -> None:
        super().__init__()
        self.width, self.pieces = int(width), int(pieces)
        self.linear = nn.Linear(int(in_features), self.width * self.pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(x.shape[0], self.width, self.pieces).amax(dim=2)


class PackedMaxoutMLP(nn.Module):
    """D(x₁, …, x_m): maxout hidden layers, then a Linear to one raw score per pack of ``pack``
    samples (PacGAN's discriminator; ``pack`` 1 is an unpacked maxout D)."""

    def __init__(self, in_features: int, out_features: int = 1, hidden: Sequence[int] = (200, 200, 200),
                 pieces: int = 5, pack: int = 4) -> None:
        super().__init__()
        if int(pack) < 1:
            raise ValueError(f"model.pack must be an integer >= 1, got {pack}")
        if int(pieces) < 1:
            raise ValueError(f"model.discriminator.pieces must be an integer >= 1, got {pieces}")
        self.pack = int(pack)
        layers: list[nn.Module] = []
        width = int(in_features) * self.pack
        for h in hidden:
            layers.append(Maxout(width, int(h), int(pieces)))
            width = int(h)
        self.net = nn.Sequential(*layers, nn.Linear(width, int(out_features)))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[0] % self.pack:
            raise ValueError(f"a batch of {x.shape[0]} samples does not split into packs of model.pack={self.pack}")
        return self.net(x.reshape(x.shape[0] // self.pack, -1))

    def score_each(self, x: Tensor) -> Tensor:
        """One score per sample, as that of a pack of m copies of it (figures colour the plane)."""
        return self.net(x.repeat(1, self.pack))


class FixedTrainingSet(GaussianMixture):
    """A Gaussian mixture whose training batches come from ``num_points`` samples drawn once
    (with ``seed``), walked epoch after epoch in a fresh order (epoch e shuffled with seed + e,
    the last incomplete batch dropped). Evaluation still compares with fresh samples
    (``sample``), as the protocol's 2,500-sample evaluation does."""

    def __init__(self, centres: Tensor, std: float, num_points: int = 100_000, seed: int = 0) -> None:
        super().__init__(centres, std)
        if int(num_points) < 1:
            raise ValueError(f"dataset.num_points must be >= 1, got {num_points}")
        self.seed = int(seed)
        rng = torch.Generator().manual_seed(self.seed)
        k = torch.randint(len(self.centres), (int(num_points),), generator=rng)
        self.points = self.centres[k] + self.std * torch.randn(int(num_points), self.dim, generator=rng)

    def batches(self, n: int, device: torch.device, start: int = 0) -> Iterator[Tensor]:
        """Batch number ``start`` on, so a resumed run reads on where its checkpoint stopped."""
        per_epoch = len(self.points) // n
        if per_epoch < 1:
            raise ValueError(f"batch_size={n} is larger than dataset.num_points={len(self.points)}")
        points = self.points.to(device)
        epoch, index = divmod(start, per_epoch)
        while True:
            order = torch.randperm(len(points), generator=torch.Generator().manual_seed(self.seed + epoch))
            for i in range(index, per_epoch):
                yield points[order[i * n:(i + 1) * n].to(device)]
            epoch, index = epoch + 1, 0


def grid_training_set(values: Sequence[float] = (-4.0, -2.0, 0.0, 2.0, 4.0), std: float = 0.05,
                      num_points: int = 100_000, seed: int = 0) -> FixedTrainingSet:
    """The 25-Gaussian grid (data.grid) as PacGAN trains on it: a fixed set of ``num_points``."""
    mixture = grid(values, std)
    return FixedTrainingSet(mixture.centres, mixture.std, num_points, seed)

"""Toy data distributions, sampled on the fly on the training device.

The centres and σ of ``ring`` and ``grid`` are the public mode-collapse protocol
(PacGAN Table 1, VEEGAN Table 1; THEORY.md §4). Each distribution draws a fresh batch
per call, directly on the module's device, so every critic step sees new real samples
and no DataLoader worker or host-to-device copy sits in the loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from gan_cli.config import require


class RealData:
    """The real data distribution Pr that a run trains on, toy or image: ``dim`` and
    ``sample(n, device)``, and the stream of training batches (``batches``)."""

    dim: int
    #: added to the generator's output bias at init (only ``gaussian1d`` sets it)
    generator_offset: float = 0.0

    def sample(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        raise NotImplementedError

    def batches(self, n: int, device: torch.device, start: int = 0) -> Iterator[Tensor]:
        """The real batches of training, one per D/critic update, from the ``start``-th on:
        here a fresh sample of ``n`` drawn on the device each time, so ``start`` changes
        nothing (a resumed run's random state comes from its checkpoint). Image data
        overrides this with a DataLoader."""
        while True:
            yield self.sample(n, device)


#: the former name, kept for code written against it
ToyDistribution = RealData


class DeviceCopies:
    """A tensor copied to each device once and kept there, so a step indexes the copy on its
    device instead of transferring the tensor again."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self._copies: dict[torch.device, Tensor] = {}

    def on(self, device: torch.device) -> Tensor:
        if device not in self._copies:
            self._copies[device] = self.tensor.to(device)
        return self._copies[device]


class GaussianMixture(RealData):
    """Equal-weight mixture of isotropic Gaussians N(centre_k, std² I)."""

    def __init__(self, centres: Tensor, std: float) -> None:
        self.centres = torch.as_tensor(centres, dtype=torch.float32)
        self.std = float(require("dataset.std", std))
        self.dim = self.centres.shape[1]
        self._centres = DeviceCopies(self.centres)

    def sample(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        device = torch.device(device)
        centres = self._centres.on(device)
        k = torch.randint(len(centres), (n,), device=device)
        return centres[k] + self.std * torch.randn(n, self.dim, device=device)


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """``n_modes`` Gaussians at radius·(cos 2πk/n, sin 2πk/n), k = 0..n-1.

    The angles are 2πk/n for k < n, *not* ``linspace(0, 2π, n)``, which repeats the first
    mode at 2π and yields only n-1 distinct modes.
    """
    require("dataset.n_modes", n_modes)
    angles = 2 * math.pi * torch.arange(int(n_modes), dtype=torch.float64) / int(n_modes)
    centres = float(radius) * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture(centres.float(), std)


def grid(values: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0), std: float = 0.05) -> GaussianMixture:
    """Gaussians at every point of ``values``² (25 modes for the default 5 values)."""
    v = torch.tensor([float(x) for x in values])
    centres = torch.cartesian_prod(v, v)
    return GaussianMixture(centres, std)


class Gaussian1D(GaussianMixture):
    """Real data N(mean, std²) in one dimension, for the JS-saturation experiments (docs/THEORY.md §1).

    ``offset`` is where the generator's output starts (added to its output bias at init), so
    the distance between Pr and the initial Pg is a config knob.
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0, offset: float = 0.0) -> None:
        super().__init__(torch.tensor([[float(mean)]]), std)
        self.generator_offset = float(offset)


class SwissRoll(RealData):
    """The 2-D swiss roll of the WGAN-GP toy code: t = 1.5π(1 + 2u), x = (t cos t, t sin t) / scale.

    Matches ``sklearn.datasets.make_swiss_roll(noise)[:, [0, 2]] / 7.5`` without sklearn.
    """

    dim = 2

    def __init__(self, noise: float = 0.25, scale: float = 7.5) -> None:
        self.noise = float(require("dataset.noise", noise))
        self.scale = float(require("dataset.scale", scale))

    def sample(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, device=device))
        points = torch.stack([t * t.cos(), t * t.sin()], dim=1)
        points = points + self.noise * torch.randn(n, 2, device=device)
        return points / self.scale

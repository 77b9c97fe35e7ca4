"""PacDCGAN: the DCGAN discriminator of PacGAN's Stacked MNIST experiment (Lin et al. 2018, §5).

A batch of n images is read as n/m packs of m = ``pack`` images, each pack stacked along the
channels into one m·C×H×W input, and D gives one score per pack: D(x₁, …, x_m), as ``PackedMLP``
does for points. Only the first convolution changes (m·C input channels instead of C).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gan_cli.models.networks import DCGANDiscriminator


class PackedDCGANDiscriminator(DCGANDiscriminator):
    def __init__(self, image_shape: Sequence[int], pack: int = 2, width: int = 64, norm: str = "batch") -> None:
        if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
            raise ValueError(f"model.pack must be an integer >= 1, got {pack!r}")
        c, h, w = (int(s) for s in image_shape)
        super().__init__((c * pack, h, w), width=width, norm=norm)
        self.pack = pack
        self.in_features = c * h * w  # one image, as the rest of gan-run counts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.pack:
            raise ValueError(f"a batch of {x.shape[0]} images does not split into packs of model.pack={self.pack}")
        # n × C·H·W, row-major, is already n/m × (m·C)·H·W: pack j's images are consecutive rows
        return super().forward(x.reshape(x.shape[0] // self.pack, -1))

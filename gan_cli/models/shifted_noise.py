"""A generator whose distribution is known in closed form: G(z) = z + b.

With z ~ N(0, I) and b initialised to the dataset's ``offset`` d, the generated distribution is
exactly N(d, 1) in each coordinate. The claims about the optimal discriminator (seed 004,
Fig. 3-4; seed 001, Fig. 2) compare a trained D with the analytic JS divergence between the
data and the generator, which needs a generator whose Pg is known: an MLP's initial output is
a narrow spike, not N(d, 1).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ShiftedNoise(nn.Module):
    """G(z) = z[:, :out_features] + b, b a trainable vector initialised to ``output_offset``.

    b is a parameter, so G has a gradient through D (the vanishing-gradient probe) and an
    optimizer to hold; a run that must keep Pg fixed gives G a negligible learning rate.
    """

    def __init__(self, in_features: int, out_features: int, output_offset: float = 0.0) -> None:
        super().__init__()
        if int(in_features) < int(out_features):
            raise ValueError(f"model.latent_dim must be >= the data dimension {out_features} for "
                             f"ShiftedNoise, got {in_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.shift = nn.Parameter(torch.full((self.out_features,), float(output_offset)))

    def forward(self, z: Tensor) -> Tensor:
        return z[:, :self.out_features] + self.shift

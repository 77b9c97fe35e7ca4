"""Networks: the generator G(z) and the discriminator/critic D(x) as plain torch modules.

The discriminator always ends in a raw score (no sigmoid). GAN-family losses apply the
sigmoid inside the loss (as a numerically stable log-sigmoid), so WGAN's first change to
the algorithm, "remove the sigmoid", is not a special case anywhere (THEORY.md §2, change 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "elu": lambda: nn.ELU(),
    "silu": lambda: nn.SiLU(),
}


class MLP(nn.Module):
    """A fully connected network: Linear → activation, repeated, then a final Linear.

    Used both as the generator (latent_dim → data_dim) and as the discriminator
    (data_dim → 1 raw score).

    Args:
        in_features: input width (latent dim for G, data dim for D).
        out_features: output width (data dim for G, 1 for D).
        hidden: widths of the hidden layers.
        activation: one of ``ACTIVATIONS``.
        output_offset: added to the last layer's bias at initialisation, so that the
            generator's initial distribution starts ``output_offset`` away from the data
            (the JS-saturation experiment, docs/THEORY.md §1, needs a controllable starting distance).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        output_offset: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"model activation '{activation}' is not supported; accepted: {', '.join(ACTIVATIONS)}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        layers: list[nn.Module] = []
        width = self.in_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), ACTIVATIONS[activation]()]
            width = int(h)
        last = nn.Linear(width, self.out_features)
        if output_offset:
            with torch.no_grad():
                last.bias.add_(float(output_offset))
        layers.append(last)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

"""Networks: the generator G(z) and the discriminator/critic D(x) as plain torch modules.

The discriminator always ends in a raw score (no sigmoid). GAN-family losses apply the
sigmoid inside the loss (as a numerically stable log-sigmoid), so WGAN's first change to
the algorithm, "remove the sigmoid", is not a special case anywhere (THEORY.md §2, change 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gan_cli.config import require

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



class PackedMLP(MLP):
    """The PacGAN discriminator (Lin et al. 2018): an MLP that scores ``pack`` samples at once.

    A batch of n samples (n × d) is read as n/m packs of m = ``pack`` samples, each pack one
    input of m·d features, and D gives one score per pack: D(x₁, …, x_m). A pack drawn from a
    generator that has dropped modes holds fewer distinct modes than a pack of real data, and a
    D that sees whole packs can tell; that is the penalty on mode collapse PacGAN proves.
    The batch size must be a multiple of m (gan-run checks ``batch_size`` against ``model.pack``).

    Args:
        in_features: the dimension d of one sample.
        pack: m, the samples per pack (1 is a plain MLP discriminator).
        **kwargs: the ``MLP`` arguments (``hidden``, ``activation``, ``out_features``).
    """

    def __init__(self, in_features: int, pack: int = 2, **kwargs) -> None:
        require("model.pack", pack)
        super().__init__(in_features * int(pack), **kwargs)
        self.pack = int(pack)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.pack:
            raise ValueError(f"a batch of {x.shape[0]} samples does not split into packs of "
                             f"model.pack={self.pack}")
        return super().forward(x.reshape(x.shape[0] // self.pack, -1))

    def score_each(self, x: torch.Tensor) -> torch.Tensor:
        """One score per sample, as the score of a pack of m copies of it (for figures that
        colour the plane by D's output: a single point has no pack of its own)."""
        return super().forward(x.repeat(1, self.pack))


# --------------------------------------------------------------------------------------------
# DCGAN (Radford, Metz & Chintala 2016): convolutional G and D for image data

#: image side → side of the first feature map; every layer after it doubles (G) or halves (D)
DCGAN_START = {28: 7, 32: 4, 64: 4}
DCGAN_NORMS = ("batch", "layer", "none")


def _dcgan_shape(image_shape: Sequence[int], key: str) -> tuple[int, int, int]:
    """``image_shape`` as (C, H, W), checked: square, of a supported side."""
    try:
        c, h, w = (int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: image_shape {image_shape!r} is not accepted; "
                         "accepted: (channels, height, width)") from None
    if c < 1:
        raise ValueError(f"{key}: {c} image channels are not supported; accepted: 1 or more")
    supported = ", ".join(map(str, DCGAN_START))
    if h != w:
        raise ValueError(f"{key}: images of {h}×{w} pixels are not supported; "
                         f"accepted: square images of side {supported}")
    if h not in DCGAN_START:
        raise ValueError(f"{key}: resolution {h} is not supported; accepted: {supported}")
    return c, h, w


def _check_width(width: object, key: str) -> int:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"{key}.width={width!r} is not accepted; accepted: an integer >= 1")
    return width


def _dcgan_layers(resolution: int) -> int:
    """Number of stride-2 layers between the first (or last) feature map and the image."""
    return (resolution // DCGAN_START[resolution]).bit_length() - 1


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: every (transposed) conv and linear weight from N(0, 0.02),
    normalisation scales from N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """The DCGAN generator: z → image, flattened to n × C·H·W in [-1, 1].

    z (``latent_dim``) is projected by a transposed convolution from 1×1 to the first feature
    map, then every stride-2 transposed convolution (kernel 4) doubles the side and halves the
    number of feature maps, each followed by BatchNorm and ReLU; the last one maps to C
    channels, followed by Tanh (no BatchNorm there, as in the paper). Feature maps per side:

    - 64: 4×4 (8w) → 8×8 (4w) → 16×16 (2w) → 32×32 (w) → 64×64 (C)   (the paper's figure 1 with w = 128)
    - 32: 4×4 (4w) → 8×8 (2w) → 16×16 (w) → 32×32 (C)
    - 28: 7×7 (2w) → 14×14 (w) → 28×28 (C)   (MNIST: the projection goes to 7×7 instead of 4×4)

    where w = ``width``. Other resolutions raise ValueError (``dataset.resolution`` can resize
    any image dataset to one of these).

    Args:
        image_shape: (C, H, W) of the data, filled in by ``gan_cli.training.build`` from the dataset.
        latent_dim: dimension of z.
        width: w, the number of feature maps at the highest resolution (paper: 64 or 128).

    Like ``MLP``, exposes ``in_features`` (latent dim) and ``out_features`` (C·H·W).
    """

    def __init__(self, image_shape: Sequence[int], latent_dim: int = 100, width: int = 64) -> None:
        super().__init__()
        c, h, w = _dcgan_shape(image_shape, "model.generator")
        width = _check_width(width, "model.generator")
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"model.generator.latent_dim={latent_dim!r} is not accepted; accepted: an integer >= 1")
        self.image_shape = (c, h, w)
        self.in_features = latent_dim
        self.out_features = c * h * w
        n = _dcgan_layers(h)
        channels = width * 2 ** (n - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, channels, DCGAN_START[h], 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, c, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.in_features, 1, 1)).flatten(1)


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator (or WGAN critic): flat images n × C·H·W → raw score n × 1.

    The input is reshaped to n×C×H×W; every stride-2 convolution (kernel 4) halves the side and
    doubles the number of feature maps, followed by normalisation (none on the first layer, as
    in the paper) and LeakyReLU(0.2); a last convolution over the whole 4×4 (7×7 at 28) map
    gives one raw score per image, with no sigmoid (GAN losses apply it inside the loss).
    The mirror of ``DCGANGenerator``: at 32, 32×32 (C) → 16×16 (w) → 8×8 (2w) → 4×4 (4w) → 1.

    ``norm``:

    - ``batch``: BatchNorm2d, as in the paper. Each score then depends on the other images of
      its batch (in training mode). That is wrong for WGAN-GP: its gradient penalty constrains
      ‖∇_x̂ f(x̂)‖ per sample, which assumes f(x̂) depends on x̂ alone (Gulrajani et al. 2017, §4,
      "No critic batch normalization"). Use ``layer`` or ``none`` with ``loss=wgan_gp``.
    - ``layer``: GroupNorm(1, channels): each image normalised over its own C, H, W with a
      per-channel scale and shift (layer normalisation, what the WGAN-GP paper recommends).
    - ``none``: no normalisation.

    Args:
        image_shape: (C, H, W) of the data, filled in by ``gan_cli.training.build`` from the dataset.
        width: w, the number of feature maps of the first layer (paper: 64 or 128).
        norm: one of ``DCGAN_NORMS``.
    """

    def __init__(self, image_shape: Sequence[int], width: int = 64, norm: str = "batch") -> None:
        super().__init__()
        c, h, w = _dcgan_shape(image_shape, "model.discriminator")
        width = _check_width(width, "model.discriminator")
        if norm not in DCGAN_NORMS:
            raise ValueError(f"model.discriminator.norm={norm!r} is not supported; accepted: {', '.join(DCGAN_NORMS)}")
        self.image_shape = (c, h, w)
        self.in_features = c * h * w
        self.out_features = 1
        self.norm = norm
        # LeakyReLU not in place: the WGAN-GP penalty differentiates through D twice
        layers: list[nn.Module] = [nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        channels = width
        for _ in range(_dcgan_layers(h) - 1):
            layers += [
                nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=norm == "none"),
                self._norm(channels * 2),
                nn.LeakyReLU(0.2),
            ]
            channels *= 2
        layers.append(nn.Conv2d(channels, 1, DCGAN_START[h], 1, 0))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def _norm(self, channels: int) -> nn.Module:
        if self.norm == "batch":
            return nn.BatchNorm2d(channels)
        if self.norm == "layer":
            return nn.GroupNorm(1, channels)
        return nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], *self.image_shape)).reshape(x.shape[0], 1)

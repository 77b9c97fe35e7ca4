"""What spectral normalization bounds, measured: per weight layer of a DCGAN critic under
``constraint=sn``, the σ that SN divides by (the largest singular value of the kernel reshaped to
out × (in·k·k)) against the layer's true operator norm as a map of images (power iteration on the
convolution and its transpose at the layer's input size), and a linear layer's σ after one power
step, before the estimate has converged.

    python bench/sn_operator_norm.py [--width 64] [--resolution 32] [--channels 3] [--seed 0]

SN makes the reshaped kernel's σ 1; a stride-2, 4×4 convolution's operator norm can exceed it,
so a spectrally normalized conv critic is not guaranteed 1-Lipschitz (docs/constraints.md).
"""

from __future__ import annotations

import argparse

import torch
from torch import nn
from torch.nn import functional as F

from gan_cli.objectives.constraints import SpectralNormalization
from gan_cli.models.networks import MLP, DCGANDiscriminator


def operator_norm(conv: nn.Conv2d, shape: tuple[int, int, int], iterations: int = 200) -> float:
    """‖conv‖₂ as a linear map of C×H×W inputs (bias left out): power iteration on AᵀA."""
    weight = conv.weight.detach()
    x = torch.randn(1, *shape)
    for _ in range(iterations):
        y = F.conv2d(x, weight, stride=conv.stride, padding=conv.padding)
        x = F.conv_transpose2d(y, weight, stride=conv.stride, padding=conv.padding, output_padding=_pad(conv, shape, y))
        x = x / x.norm()
    return float(F.conv2d(x, weight, stride=conv.stride, padding=conv.padding).norm())


def _pad(conv: nn.Conv2d, shape: tuple[int, int, int], y: torch.Tensor) -> int:
    back = (y.shape[-1] - 1) * conv.stride[0] - 2 * conv.padding[0] + conv.kernel_size[0]
    return shape[-1] - back


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    shape = (args.channels, args.resolution, args.resolution)
    critic = SpectralNormalization(n_power_iterations=1).constrain(DCGANDiscriminator(shape, width=args.width, norm="none"))
    critic.train()
    for _ in range(100):  # training forward passes: each runs one power step; 100 converge them
        critic(torch.randn(8, shape[0] * shape[1] * shape[2]))
    critic.eval()
    print(f"DCGAN critic, width {args.width}, input {'x'.join(map(str, shape))}, constraint=sn, seed {args.seed}")
    print("| layer | input | σ of the reshaped kernel (what SN divides by) | operator norm on images |")
    print("| --- | --- | ---: | ---: |")
    x = torch.zeros(1, *shape)
    for name, module in critic.named_modules():
        if isinstance(module, nn.Conv2d):
            matrix = module.weight.detach().reshape(module.weight.shape[0], -1)
            sigma = float(torch.linalg.matrix_norm(matrix, ord=2))
            print(f"| {name} | {'x'.join(map(str, x.shape[1:]))} | {sigma:.4f} | {operator_norm(module, tuple(x.shape[1:])):.4f} |")
            x = module(x)
    torch.manual_seed(args.seed)
    linear = SpectralNormalization(n_power_iterations=1).constrain(MLP(2, 1, hidden=[256]))
    linear.train()
    linear(torch.randn(8, 2))  # one training forward pass: one power step from a random start
    first = next(m for m in linear.modules() if isinstance(m, nn.Linear) and m.out_features == 256)
    print(f"\nMLP 2 → 256 → 1, first layer after one power step: σ(W/σ̂) = "
          f"{float(torch.linalg.matrix_norm(first.weight.detach(), ord=2)):.4f}")


if __name__ == "__main__":
    main()

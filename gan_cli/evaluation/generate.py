"""Sampling a trained generator: what evaluation and gan-sample draw with."""

from __future__ import annotations

import torch
from torch import nn


def generate(generator: nn.Module, z: torch.Tensor, batch_size: int) -> torch.Tensor:
    """G(z) as float32, without gradients, ``batch_size`` rows of z at a time.

    In chunks because in one pass the activations of every sample are alive at once (what
    that costs for a DCGAN: docs/performance.md, Memory).
    """
    with torch.no_grad():
        return torch.cat([generator(chunk).float() for chunk in z.split(batch_size)])

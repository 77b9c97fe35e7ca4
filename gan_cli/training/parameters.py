"""Functions of a network's parameters: gradient norms (logged) and the exponential weight
average of the generator (``ema_decay``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel


def global_norm(tensors: list[Tensor]) -> Tensor:
    """‖(t₁, …, t_n)‖₂, the norm of all the tensors as one vector (one fused op)."""
    if not tensors:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))


def gradient_norm(module: nn.Module) -> Tensor:
    """‖∇θ‖₂ over all parameters of ``module`` that have a gradient."""
    return global_norm([p.grad for p in module.parameters() if p.grad is not None])


class ExponentialAverage:
    """``multi_avg_fn`` of torch's AveragedModel: θ̄ ← β θ̄ + (1 − β) θ, what
    ``get_ema_multi_avg_fn`` computes, but picklable (that one returns a closure, which
    ``trainer=ddp_cpu``'s spawned workers cannot receive)."""

    def __init__(self, decay: float) -> None:
        self.decay = float(decay)

    def __call__(self, averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        if torch.is_floating_point(averaged[0]) or torch.is_complex(averaged[0]):
            torch._foreach_lerp_(averaged, current, 1 - self.decay)
        else:  # integer buffers (batch norm's step count)
            for a, c in zip(averaged, current):
                a.copy_(a * self.decay + c * (1 - self.decay))


def exponential_average(model: nn.Module, decay: float) -> AveragedModel | None:
    """θ̄ ← β θ̄ + (1 − β) θ of ``model``'s weights and buffers (β = ``decay``; None when 0).
    Averaging damps the last iterate's oscillation around the modes (Yazıcı et al. 2019). The
    average is updated by copying, never by backward, so it needs no gradients (DDP would
    otherwise report unused parameters)."""
    if decay <= 0:
        return None
    average = AveragedModel(model, multi_avg_fn=ExponentialAverage(decay), use_buffers=True)
    return average.requires_grad_(False)


class Frozen:
    """``with frozen:`` the network's weights need no gradient inside the block (the WGAN
    reference code's ``requires_grad = False`` for the critic during G's update), so G's
    backward does not fill the critic's gradients. The parameter list is taken once: Lightning's
    ``toggle_optimizer`` rebuilds a dict over every parameter per call."""

    def __init__(self, network: nn.Module) -> None:
        self.network = network
        self._parameters: list[nn.Parameter] | None = None

    def __enter__(self) -> None:
        if self._parameters is None:
            self._parameters = list(self.network.parameters())
        for p in self._parameters:
            p.requires_grad_(False)

    def __exit__(self, *exc_info) -> None:
        for p in self._parameters:
            p.requires_grad_(True)

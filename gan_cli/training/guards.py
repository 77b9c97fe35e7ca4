"""Divergence guard: stop at the first NaN or Inf, naming the step and the quantity.

Checked where values are read anyway (the logged metrics every ``log_every`` steps, the
parameters before a checkpoint is written, the samples before an evaluation), so the guard
adds no device-to-host synchronisation to the steps in between.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

from gan_cli.errors import Diverged


def check_finite(step: int, named: Mapping[str, Tensor]) -> None:
    """Raise Diverged for the first quantity in ``named`` with a NaN or Inf entry."""
    values = [v.detach().float().reshape(-1) for v in named.values()]
    if not values or bool(torch.isfinite(torch.cat(values)).all()):  # one sync for all of them
        return
    for name, value in named.items():
        flat = value.detach().float().reshape(-1)
        bad = flat[~torch.isfinite(flat)]
        if bad.numel():
            raise Diverged(step, name, float(bad[0]))


def check_finite_values(step: int, named: Mapping[str, float]) -> None:
    """Raise Diverged for the first value in ``named`` that is NaN or Inf (values already on the host)."""
    for name, value in named.items():
        if not math.isfinite(value):
            raise Diverged(step, name, value)


def check_parameters_finite(step: int, module: torch.nn.Module, prefix: str) -> None:
    """Raise Diverged if any parameter of ``module`` holds a NaN or Inf."""
    named = list(module.named_parameters())
    finite = [torch.isfinite(p.detach()).all() for _, p in named]
    if not finite or bool(torch.stack(finite).all()):  # one sync
        return
    for (name, p), ok in zip(named, finite):
        if not ok:
            flat = p.detach().reshape(-1)
            raise Diverged(step, f"weight {prefix}.{name}", float(flat[~torch.isfinite(flat)][0]))

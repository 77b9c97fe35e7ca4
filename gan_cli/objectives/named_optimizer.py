"""An optimizer chosen by a config value rather than a config group: ``optim=named``.

Hydra lets a preset pick settings per loss only through values (conf/experiment_loss/, which
conf/train.yaml selects as ``${experiment}/${loss}``, may not override groups), so a preset
whose losses need different optimizers (experiment=wgan_paper: RMSProp for wgan, Adam for
wgan_gp) names the optimizer in ``optim.name``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NAMES = ("adam", "rmsprop", "sgd")


def named_optimizer(params: Iterable[Any], name: str, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                    momentum: float = 0.0):
    """Adam(lr, betas), RMSprop(lr, momentum) or SGD(lr, momentum); the other settings are unused."""
    import torch

    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    raise ValueError(f"optim.name={name} is not accepted; accepted: {', '.join(NAMES)}")

"""The D/critic's measured Lipschitz constant: ``eval/critic_lipschitz``.

    K̂ = max ‖∇ₓ f(x)‖₂  over x in {real samples, generated samples, their interpolates}

a lower bound on the true constant of f (a max over points, not over the whole space). It is
what each constraint is for: WGAN's theory needs f 1-Lipschitz (up to a constant K that scales
the Wasserstein estimate), and clipping, the penalties and spectral normalization each hold K
near 1 in their own way, or not. Logged for every loss and constraint, so they can be compared.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_cli.objectives.constraints import input_gradient_norms, interpolates
from gan_cli.training.curves import measurement_rng


def critic_lipschitz(discriminator: nn.Module, real: Tensor, fake: Tensor, batch_size: int, seed: int = 0) -> float:
    """K̂ over ``real``, ``fake`` (same length) and one interpolate of each pair, ``batch_size``
    rows at a time (a multiple of the critic's pack). The interpolation draws are made under a
    forked RNG seeded with ``seed``, so measuring does not change the training trajectory."""
    pack = int(getattr(discriminator, "pack", 1))
    n = real.shape[0] - real.shape[0] % pack
    step = max(pack, batch_size - batch_size % pack)
    largest = 0.0
    with measurement_rng(real.device), torch.enable_grad():
        torch.manual_seed(seed)
        for start in range(0, n, step):
            r, f = real[start:min(start + step, n)].float(), fake[start:min(start + step, n)].float()
            for x in (r, f, interpolates(discriminator, r, f)):
                largest = max(largest, float(input_gradient_norms(discriminator, x, create_graph=False).max()))
    return largest

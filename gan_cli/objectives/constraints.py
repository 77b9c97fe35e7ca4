"""Lipschitz constraints and regularizers of the D/critic: one object each, beside the loss.

A constraint supplies the hooks an ``AdversarialLoss`` already has, and the loss delegates them:

- ``penalty(D, real, fake)``: a term added to the D/critic loss (None: none),
- ``after_discriminator_step(D)``: what happens after each D/critic update (clipping),
- ``constrain(D)``: a change made once to D when the run is built (spectral normalization),
- ``tag``: the name its penalty is logged under, as ``{role}/{tag}``, unweighted.

Every loss takes every constraint (``constraint=...``); ``constraint=null``, the default,
leaves each loss its own (WGAN: clipping, WGAN-GP: the gradient penalty, others: none).
The training step never branches on which one it holds.

Gradients are taken per D/critic input: a packed critic (model=pacgan) reads m samples as one
input, so a norm is over the whole pack and the interpolation coefficient is drawn per pack.
Penalties run in fp32 even under mixed precision: they are squared differences of gradient
norms near 1, where bf16's 8-bit mantissa loses the signal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_cli.config import require


def input_gradient_norms(discriminator: nn.Module, x: Tensor, create_graph: bool = True) -> Tensor:
    """‖∇ₓ D(x)‖₂ per D/critic input (one per pack of ``discriminator.pack`` rows of ``x``)."""
    pack = int(getattr(discriminator, "pack", 1))
    x = x.detach().float().requires_grad_(True)
    scores = discriminator(x)
    (grads,) = torch.autograd.grad(scores.float().sum(), x, create_graph=create_graph)
    return grads.reshape(x.shape[0] // pack, -1).norm(2, dim=1)


def interpolates(discriminator: nn.Module, a: Tensor, b: Tensor) -> Tensor:
    """x̂ = ε a + (1 − ε) b with ε ~ U[0, 1] drawn per D/critic input (per pack)."""
    pack = int(getattr(discriminator, "pack", 1))
    eps = torch.rand(a.shape[0] // pack, *([1] * (a.dim() - 1)), device=a.device)
    eps = eps.repeat_interleave(pack, dim=0) if pack > 1 else eps
    return eps * a + (1 - eps) * b


BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class Constraint:
    """No constraint at all (``constraint=none``): the base every constraint extends."""

    tag: str | None = None  # what its penalty is logged as; None: it has no penalty

    def __init__(self, weight: float = 0.0) -> None:
        self.weight = float(require("constraint.weight", weight))

    def constrain(self, discriminator: nn.Module) -> nn.Module:
        """D as the run trains it. A per-sample gradient penalty refuses a batch-norm D: batch
        norm mixes the samples of a batch, so the "per-sample" gradient is that of the batch's
        sum (measured 1.6 % off on average at initialisation), and the penalty's extra forward
        pass moves the running statistics."""
        if self.tag is not None and self.weight > 0 and any(isinstance(m, BATCH_NORMS) for m in discriminator.modules()):
            from gan_cli.errors import GanRunError

            raise GanRunError(f"{type(self).__name__} (critic/{self.tag}) penalises gradients per sample, but the "
                              f"discriminator has batch norm (model.discriminator.norm=batch, or a BatchNorm layer), which mixes a batch's "
                              f"samples; use model.discriminator.norm=layer (as WGAN-GP does) or none, or a constraint "
                              f"without a per-sample penalty (constraint=sn or clip)")
        return discriminator

    def penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor | None:
        if self.tag is None:
            return None
        with torch.autocast(device_type=real.device.type, enabled=False):
            return self.weight * self.unweighted_penalty(discriminator, real.float(), fake.float())

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        return None

    def metrics(self, penalty: Tensor | None) -> dict[str, Tensor]:
        """The unweighted penalty under its tag (0 when the weight is 0)."""
        if self.tag is None or penalty is None:
            return {}
        if self.weight == 0:
            return {self.tag: torch.zeros_like(penalty.detach())}
        return {self.tag: penalty.detach() / self.weight}


class WeightClipping(Constraint):
    """WGAN's (Arjovsky et al. 2017): every D/critic weight clipped to [−c, c] after each update.

    Clipped after the step (not before it, as the reference code does, its issue #50), so the
    generator always sees a critic inside the Lipschitz box.
    """

    def __init__(self, clip_value: float | None = 0.01, key: str = "constraint.clip_value") -> None:
        super().__init__()
        self.clip_value = float(clip_value) if require(key, clip_value) else None  # 0 or None: no clipping
        self._clipped: tuple[nn.Module, list[Tensor]] | None = None

    @torch.no_grad()
    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        if self.clip_value is None:
            return
        if self._clipped is None or self._clipped[0] is not discriminator:  # list once, not per step
            self._clipped = (discriminator, list(discriminator.parameters()))
        params = self._clipped[1]  # one fused op for all parameters, not a Python loop
        torch._foreach_clamp_min_(params, -self.clip_value)
        torch._foreach_clamp_max_(params, self.clip_value)


class GradientPenalty(Constraint):
    """WGAN-GP (Gulrajani et al. 2017), two-sided on interpolates:

        λ · E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²],   x̂ = ε x + (1 − ε) G(z),  ε ~ U[0, 1]
    """

    tag = "gradient_penalty"

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        norms = input_gradient_norms(discriminator, interpolates(discriminator, real, fake))
        return ((norms - 1.0) ** 2).mean()


class LipschitzPenalty(Constraint):
    """WGAN-LP (Petzka et al. 2018), one-sided on interpolates:

        λ · E_x̂[max(0, ‖∇_x̂ f(x̂)‖₂ − 1)²]
    """

    tag = "lipschitz_penalty"

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        norms = input_gradient_norms(discriminator, interpolates(discriminator, real, fake))
        return (torch.relu(norms - 1.0) ** 2).mean()


class R1Penalty(Constraint):
    """R1 (Mescheder et al. 2018), zero-centred on real samples:  γ/2 · E_x~Pr[‖∇_x D(x)‖₂²].

    The logged ``r1_penalty`` is E‖∇D(x)‖² (the term without γ/2).
    """

    tag = "r1_penalty"

    def penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor | None:
        return super().penalty(discriminator, real, fake) / 2

    def metrics(self, penalty: Tensor | None) -> dict[str, Tensor]:
        return super().metrics(None if penalty is None else penalty * 2)

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        return (input_gradient_norms(discriminator, real) ** 2).mean()


class R2Penalty(R1Penalty):
    """R2 (Mescheder et al. 2018), zero-centred on generated samples:  γ/2 · E_x~Pg[‖∇_x D(x)‖₂²]."""

    tag = "r2_penalty"

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        return (input_gradient_norms(discriminator, fake) ** 2).mean()


class DRAGANPenalty(Constraint):
    """DRAGAN (Kodali et al. 2017): the two-sided penalty around perturbed real samples,

        λ · E[(‖∇_x̂ D(x̂)‖₂ − 1)²],   x̂ = ε x + (1 − ε)(x + δ),  δ = c · std(x) · U[0, 1]

    with ε ~ U[0, 1] per D input and std(x) over the whole real batch, as in the authors' code
    (c = ``perturbation`` = 0.5). It keeps D smooth near the data, where mode collapse starts.
    """

    tag = "dragan_penalty"

    def __init__(self, weight: float = 10.0, perturbation: float = 0.5) -> None:
        super().__init__(weight)
        self.perturbation = float(require("constraint.perturbation", perturbation))

    def unweighted_penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        perturbed = real + self.perturbation * real.std() * torch.rand_like(real)
        norms = input_gradient_norms(discriminator, interpolates(discriminator, real, perturbed))
        return ((norms - 1.0) ** 2).mean()


#: the layers whose weight spectral normalization divides by its largest singular value
WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d)


class SpectralNormalization(Constraint):
    """Spectral normalization (Miyato et al. 2018): every weight layer W of D is used as
    W / σ(W), σ the largest singular value, estimated by ``n_power_iterations`` steps of power
    iteration per training forward pass (so σ is an estimate until the iteration converges).
    A linear layer is then 1-Lipschitz. A convolution's σ is that of its kernel reshaped to
    out × (in·k·k), which is not its operator norm on images: a stride-2 4×4 convolution measured
    up to 1.59 (bench/sn_operator_norm.py), so an SN conv critic is not guaranteed 1-Lipschitz.
    Normalization layers are left as they are.

    ``torch.nn.utils.parametrizations.spectral_norm``: the state dict holds
    ``….parametrizations.weight.original`` and the power-iteration vectors ``_u``, ``_v``, so a
    checkpoint resumes with ``constraint=sn`` only (the resume check compares ``constraint``).
    """

    def __init__(self, n_power_iterations: int = 1) -> None:
        super().__init__()
        self.n_power_iterations = int(require("constraint.n_power_iterations", n_power_iterations))

    def constrain(self, discriminator: nn.Module) -> nn.Module:
        from torch.nn.utils.parametrizations import spectral_norm

        layers = [m for m in discriminator.modules() if isinstance(m, WEIGHT_LAYERS)]
        for layer in layers:
            spectral_norm(layer, n_power_iterations=self.n_power_iterations)
        return discriminator


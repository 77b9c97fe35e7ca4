"""Adversarial losses. Each is one object that owns its two objectives and its extras.

A loss supplies
- ``discriminator_loss(D, real, fake)``: the D/critic objective (penalty included),
- ``generator_loss(fake_scores)``: the G objective,
- ``after_discriminator_step(D)``: what must happen after each D/critic update (WGAN: clip),
- ``metrics(out)``: the curves that make its theory visible in TensorBoard,
- ``n_critic``: how many D/critic updates precede each generator update (k in Algorithm 1),
- ``role``: "discriminator" or "critic", the TensorBoard tag prefix,
- ``avoid_momentum``: whether the paper advises against momentum optimizers.

The training step calls these and never branches on which loss it holds.
All losses take raw scores (logits): D has no sigmoid layer (networks.py).
Formula numbers refer to docs/THEORY.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_cli.config import require

LOG_2 = math.log(2.0)


@dataclass
class DiscriminatorOutput:
    """What one D/critic evaluation produced: the loss to minimise and what it was made of."""

    loss: Tensor
    real_scores: Tensor
    fake_scores: Tensor
    objective: Tensor  # the loss without regulariser terms
    penalty: Tensor | None = None


class AdversarialLoss:
    role = "discriminator"
    avoid_momentum = False

    def __init__(self, n_critic: int = 1) -> None:
        self.n_critic = int(require("loss.n_critic", n_critic))

    # -- the two objectives (subclasses implement these on raw scores) --
    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    # -- extras, no-ops unless a loss needs them --
    def penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor | None:
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        return None

    def critic_steps(self, generator_step: int) -> int:
        """Number of D/critic updates before generator update number ``generator_step`` (0-based)."""
        return self.n_critic

    #: what ``discriminator_output`` shows, for plots
    output_label = "D(x), raw score"

    def discriminator_output(self, scores: Tensor) -> Tensor:
        """D's output as its theory reads it: the raw score, or a probability for the GAN losses."""
        return scores

    # -- shared plumbing --
    def discriminator_loss(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> DiscriminatorOutput:
        real_scores = discriminator(real)
        fake_scores = discriminator(fake)
        objective = self.discriminator_objective(real_scores, fake_scores)
        penalty = self.penalty(discriminator, real, fake)
        loss = objective if penalty is None else objective + penalty
        return DiscriminatorOutput(loss, real_scores, fake_scores, objective, penalty)

    def metrics(self, out: DiscriminatorOutput) -> dict[str, Tensor]:
        """Curves logged under ``{role}/``: raw mean scores unless a subclass knows better."""
        return {
            "loss": out.loss.detach(),
            "real_score": self.discriminator_output(out.real_scores.detach()).mean(),
            "fake_score": self.discriminator_output(out.fake_scores.detach()).mean(),
        }


class _SigmoidCrossEntropy(AdversarialLoss):
    """The discriminator of the original GAN (formula 1):

        L_D = -E_{x~Pr}[log D(x)] - E_{x~Pg}[log(1 - D(x))],   D(x) = sigmoid(score)

    computed as softplus(-s_real) + softplus(s_fake), which is exact and stable.
    """

    output_label = "D(x) = sigmoid(score)"

    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def discriminator_output(self, scores: Tensor) -> Tensor:
        return torch.sigmoid(scores)

    def metrics(self, out: DiscriminatorOutput) -> dict[str, Tensor]:
        # Under the optimal D*, L_D = 2 log 2 - 2 JS(Pr||Pg) (THEORY.md §1), so
        # log 2 - L_D / 2 estimates JS; it saturates at log 2 when the supports are disjoint.
        metrics = super().metrics(out)
        metrics["js_estimate"] = LOG_2 - out.objective.detach() / 2
        return metrics


class NonSaturatingGANLoss(_SigmoidCrossEntropy):
    """GAN with the "-log D trick": the generator minimises E_z[-log D(G(z))] = E softplus(-s_fake)."""

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return F.softplus(-fake_scores).mean()


class MinimaxGANLoss(_SigmoidCrossEntropy):
    """The saturating GAN of the original paper: the generator minimises E_z[log(1 - D(G(z)))].

    log(1 - sigmoid(s)) = -softplus(s). Its gradient w.r.t. s is -sigmoid(s), which vanishes as
    D(G(z)) → 0, i.e. exactly when a good discriminator rejects the fakes (THEORY.md §1).
    """

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -F.softplus(fake_scores).mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018):

        L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))],   L_G = -E[D(G(z))]
    """

    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()


class LeastSquaresLoss(AdversarialLoss):
    """Least-squares GAN (Mao et al. 2017) with targets a=0 (fake), b=1 (real), c=1:

        L_D = ½ E[(D(x) - 1)²] + ½ E[D(G(z))²],   L_G = ½ E[(D(G(z)) - 1)²]
    """

    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return 0.5 * ((real_scores - 1.0) ** 2).mean() + 0.5 * (fake_scores**2).mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return 0.5 * ((fake_scores - 1.0) ** 2).mean()


class WassersteinLoss(AdversarialLoss):
    """WGAN (Arjovsky et al. 2017, THEORY.md §2): no sigmoid, no logs.

        L_critic = E_z[f(G(z))] - E_x[f(x)],   L_G = -E_z[f(G(z))]

    and every critic weight is clipped to [-clip_value, clip_value] after each critic
    update, which keeps f K-Lipschitz. Then -L_critic = E f(x) - E f(G(z)) estimates the
    Wasserstein-1 distance up to the constant K: the ``wasserstein_estimate`` curve.

    Args:
        n_critic: critic updates per generator update (paper: 5).
        clip_value: c, the weight clipping bound (paper: 0.01). None (null) disables clipping.
        n_critic_warmup: critic updates for the first ``warmup_steps`` generator updates and
            every ``warmup_every``-th one (reference code: 100, 25, 500). None disables it.
    """

    role = "critic"
    output_label = "critic f(x)"
    avoid_momentum = True  # "WGAN training becomes unstable at times when one uses a momentum based optimizer"

    def __init__(
        self,
        n_critic: int = 5,
        clip_value: float | None = 0.01,
        n_critic_warmup: int | None = None,
        warmup_steps: int = 25,
        warmup_every: int = 500,
    ) -> None:
        super().__init__(n_critic)
        self.clip_value = float(clip_value) if require("loss.clip_value", clip_value) else None  # 0: no clipping
        self.n_critic_warmup = int(n_critic_warmup) if n_critic_warmup else None
        self.warmup_steps = int(warmup_steps)
        self.warmup_every = int(warmup_every)
        self._clipped: tuple[nn.Module, list[Tensor]] | None = None

    def critic_steps(self, generator_step: int) -> int:
        if self.n_critic_warmup is not None and (
            generator_step < self.warmup_steps or (self.warmup_every > 0 and generator_step % self.warmup_every == 0)
        ):
            return self.n_critic_warmup
        return self.n_critic

    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()

    @torch.no_grad()
    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        # Clip after the step (not before it, as the reference code does, its issue #50),
        # so the generator always sees a critic inside the Lipschitz box. One fused op for
        # all parameters instead of a Python loop.
        if self.clip_value is None:
            return
        if self._clipped is None or self._clipped[0] is not discriminator:  # list once, not per step
            self._clipped = (discriminator, list(discriminator.parameters()))
        params = self._clipped[1]
        torch._foreach_clamp_min_(params, -self.clip_value)
        torch._foreach_clamp_max_(params, self.clip_value)

    def metrics(self, out: DiscriminatorOutput) -> dict[str, Tensor]:
        metrics = super().metrics(out)
        metrics["wasserstein_estimate"] = -out.objective.detach()
        return metrics


class WassersteinGPLoss(WassersteinLoss):
    """WGAN-GP (Gulrajani et al. 2017): the WGAN objectives, no clipping, plus

        gp_weight · E_x̂[(‖∇_x̂ f(x̂)‖₂ - 1)²],   x̂ = ε x + (1 - ε) G(z),  ε ~ U[0, 1] per sample.

    The penalty is computed in fp32 even under mixed precision: it is a squared difference of
    gradient norms near 1, where bf16's 8-bit mantissa loses the signal.
    """

    avoid_momentum = False  # the paper trains with Adam(β1=0.5, β2=0.9)

    def __init__(self, n_critic: int = 5, gp_weight: float = 10.0, **kwargs) -> None:
        super().__init__(n_critic=n_critic, clip_value=None, **kwargs)
        self.gp_weight = float(require("loss.gp_weight", gp_weight))

    def penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """The penalty per critic input: a packed critic (model=pacgan) reads m samples as one
        input, so ε is drawn per pack and the gradient norm taken over the whole pack."""
        device_type = real.device.type
        pack = int(getattr(discriminator, "pack", 1))
        with torch.autocast(device_type=device_type, enabled=False):
            real, fake = real.float(), fake.float()
            eps = torch.rand(real.shape[0] // pack, *([1] * (real.dim() - 1)), device=real.device)
            eps = eps.repeat_interleave(pack, dim=0) if pack > 1 else eps
            interpolates = (eps * real + (1 - eps) * fake).requires_grad_(True)
            scores = discriminator(interpolates)
            (grads,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
            grad_norm = grads.reshape(real.shape[0] // pack, -1).norm(2, dim=1)
            return self.gp_weight * ((grad_norm - 1.0) ** 2).mean()

    def metrics(self, out: DiscriminatorOutput) -> dict[str, Tensor]:
        metrics = super().metrics(out)
        metrics["gradient_penalty"] = out.penalty.detach() / max(self.gp_weight, 1e-12)
        return metrics

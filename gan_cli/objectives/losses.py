"""Adversarial losses. Each is one object that owns its two objectives and its extras.

A loss supplies
- ``discriminator_loss(D, real, fake)``: the D/critic objective (penalty included),
- ``generator_loss(fake_scores)``: the G objective,
- ``after_discriminator_step(D)``: what must happen after each D/critic update (WGAN: clip),
- ``constraint``: the Lipschitz constraint or regularizer those two hooks (and ``penalty``)
  delegate to (gan_cli/objectives/constraints.py); each loss has its own default, ``constraint=...`` replaces it,
- ``metrics(out)``: the curves that make its theory visible in TensorBoard,
- ``n_critic``: how many D/critic updates precede each generator update (k in Algorithm 1),
- ``role``: "discriminator" or "critic", the TensorBoard tag prefix,
- ``avoid_momentum``: whether the paper advises against momentum optimizers.

The training step calls these and never branches on which loss it holds.
All losses take raw scores (logits): D has no sigmoid layer (models/networks.py).
Formula numbers refer to docs/THEORY.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_cli.config import require
from gan_cli.objectives.constraints import Constraint, GradientPenalty, WeightClipping

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

    def __init__(self, n_critic: int = 1, constraint: Constraint | None = None) -> None:
        self.n_critic = int(require("loss.n_critic", n_critic))
        # None: this loss's own constraint (none, unless a subclass sets one)
        self.constraint = constraint if constraint is not None else Constraint()

    # -- the two objectives (subclasses implement these on raw scores) --
    def discriminator_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    # -- extras: the constraint's hooks (no-ops for constraint=none) --
    def penalty(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor | None:
        return self.constraint.penalty(discriminator, real, fake)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        self.constraint.after_discriminator_step(discriminator)

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
            **self.constraint.metrics(out.penalty),
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

    and, unless ``constraint`` replaces it, every critic weight is clipped to
    [-clip_value, clip_value] after each critic update (constraints.WeightClipping), which
    keeps f K-Lipschitz. Then -L_critic = E f(x) - E f(G(z)) estimates the
    Wasserstein-1 distance up to the constant K: the ``wasserstein_estimate`` curve.

    Args:
        n_critic: critic updates per generator update (paper: 5).
        clip_value: c, the weight clipping bound (paper: 0.01). None (null) disables clipping.
        n_critic_warmup: critic updates for the first ``warmup_steps`` generator updates and
            every ``warmup_every``-th one (reference code: 100, 25, 500). None disables it.
        constraint: replaces the clipping (``constraint=gp``, ``sn``, ...); None keeps it.
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
        constraint: Constraint | None = None,
    ) -> None:
        clipping = WeightClipping(clip_value, key="loss.clip_value")
        super().__init__(n_critic, constraint if constraint is not None else clipping)
        self.clip_value = clipping.clip_value
        self.n_critic_warmup = int(n_critic_warmup) if n_critic_warmup else None
        self.warmup_steps = int(warmup_steps)
        self.warmup_every = int(warmup_every)

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

    def metrics(self, out: DiscriminatorOutput) -> dict[str, Tensor]:
        metrics = super().metrics(out)
        metrics["wasserstein_estimate"] = -out.objective.detach()
        return metrics


#: WGAN-GP's λ when the config leaves it to the data (gp_weight: null): the paper's 10 on images,
#: the reference toy code's 0.1 on 2-D points ("Smaller lambda makes things faster for toy tasks")
GP_WEIGHT_IMAGES, GP_WEIGHT_POINTS = 10.0, 0.1


class WassersteinGPLoss(WassersteinLoss):
    """WGAN-GP (Gulrajani et al. 2017): the WGAN objectives, no clipping, and by default the
    gradient penalty (constraints.GradientPenalty)

        gp_weight · E_x̂[(‖∇_x̂ f(x̂)‖₂ - 1)²],   x̂ = ε x + (1 - ε) G(z),  ε ~ U[0, 1] per sample.

    ``gp_weight=None`` follows the data (``image_data``, which the run's build passes):
    GP_WEIGHT_IMAGES for images, GP_WEIGHT_POINTS otherwise.
    """

    avoid_momentum = False  # the paper trains with Adam(β1=0.5, β2=0.9)

    def __init__(self, n_critic: int = 5, gp_weight: float | None = None, constraint: Constraint | None = None,
                 image_data: bool = False, **kwargs) -> None:
        if gp_weight is None:
            gp_weight = GP_WEIGHT_IMAGES if image_data else GP_WEIGHT_POINTS
        self.gp_weight = float(require("loss.gp_weight", gp_weight))
        own = GradientPenalty(gp_weight) if constraint is None else constraint
        super().__init__(n_critic=n_critic, clip_value=None, constraint=own, **kwargs)

"""The curves GANModule logs during training: their tags and how each value is measured.

Every measurement here leaves training untouched: noise and real samples are drawn inside
``measurement_rng`` (a forked random state) and no weight is updated, so any ``log_every`` gives
the same trajectory. The per-evaluation metrics (eval/*) live in evaluation/during_training.py.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

from gan_cli.training.guards import check_finite_values
from gan_cli.objectives.losses import AdversarialLoss, DiscriminatorOutput
from gan_cli.training.parameters import global_norm

# per-step tags besides the loss's own metrics (objectives/losses.py: AdversarialLoss.metrics)
GENERATOR_TAGS = ("generator/loss", "grad_norm/generator", "grad_norm/discriminator")
PRETRAINING_SAMPLES = 4096  # fewer would blur the optimality gap L_D - L_D* near D*


def measurement_rng(device: torch.device) -> contextlib.AbstractContextManager:
    """A forked random state (CPU, and the CUDA device if training there): what a measurement
    draws is not drawn from the training stream."""
    return torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])


def metric_tag(loss: AdversarialLoss, discriminator: nn.Module, name: str) -> str:
    """``{role}/{name}``, except that a D scoring packs of m > 1 samples (model=pacgan) sees
    Pr^m and Pg^m: its log 2 - L_D/2 estimates JS(Pr^m || Pg^m), the JS of m-sample packs,
    not JS(Pr || Pg), and its tag says so."""
    if name == "js_estimate" and getattr(discriminator, "pack", 1) > 1:
        name = "pack_js_estimate"
    return f"{loss.role}/{name}"


def metric_tags(loss: AdversarialLoss, discriminator: nn.Module) -> list[str]:
    """Every per-step tag, for the HPARAMS tab's columns and the TensorBoard layout."""
    zero = torch.zeros(1)
    names = loss.metrics(DiscriminatorOutput(zero, zero, zero, zero, zero))
    return [metric_tag(loss, discriminator, name) for name in names] + list(GENERATOR_TAGS)


def step_values(loss: AdversarialLoss, discriminator: nn.Module, d_out: DiscriminatorOutput, g_loss: Tensor,
                d_grad_norm: Tensor, g_grad_norm: Tensor, generator_step: int) -> dict[str, float]:
    """The curves at one generator step, copied to the host at once. They are read anyway, so
    this is where a diverged run stops (guards.check_finite_values)."""
    tensors = {metric_tag(loss, discriminator, name): value for name, value in loss.metrics(d_out).items()}
    tensors.update(zip(GENERATOR_TAGS, (g_loss.detach(), g_grad_norm, d_grad_norm)))
    values = dict(zip(tensors, torch.stack([t.float() for t in tensors.values()]).tolist()))
    check_finite_values(generator_step, values)
    return values


def generator_gradient_norm(generator: nn.Module, discriminator: nn.Module, loss: AdversarialLoss,
                            noise: Tensor) -> Tensor:
    """‖∇θ L_G(θ)‖₂ of the generator loss through the current D, without updating any weight.

    The measurement of Arjovsky & Bottou (2017, Fig. 2; seed 001): with G fixed, train D and
    watch this norm. As D nears D*, log(1 - D(G(z))) gives G a gradient that vanishes;
    −log D(G(z)) and the critic's E f(G(z)) do not. Only G's gradients are computed.
    """
    params = list(generator.parameters())
    return global_norm(list(torch.autograd.grad(loss.generator_loss(discriminator(generator(noise))), params)))


def pretraining_values(generator: nn.Module, discriminator: nn.Module, loss: AdversarialLoss, real: Tensor,
                       noise: Tensor, batch_noise: Tensor) -> dict[str, float]:
    """The pretraining curves (against D/critic updates): G's gradient norm on a training-sized
    batch (``batch_noise``) as D approaches optimality, and D's objective L_D on ``real`` and
    G(``noise``), PRETRAINING_SAMPLES each."""
    with torch.no_grad():
        objective = loss.discriminator_objective(discriminator(real.float()), discriminator(generator(noise)))
    gradient = generator_gradient_norm(generator, discriminator, loss, batch_noise)
    return {"pretrain/grad_norm_generator": float(gradient), "pretrain/discriminator_objective": float(objective)}

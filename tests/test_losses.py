"""Each loss against values computed by hand from its formula on fixed scores."""

import math

import pytest
import torch

from gan_cli.objectives.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxGANLoss,
    NonSaturatingGANLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)
from gan_cli.models.networks import MLP

REAL = torch.tensor([2.0, -1.0, 0.5])  # raw scores (logits) of real samples
FAKE = torch.tensor([-3.0, 0.0, 1.0])


def sig(x):
    return 1 / (1 + math.exp(-x))


def mean(values):
    return sum(values) / len(values)


def test_gan_discriminator_loss_is_binary_cross_entropy():
    expected = mean([-math.log(sig(r)) for r in REAL.tolist()]) + mean([-math.log(1 - sig(f)) for f in FAKE.tolist()])
    got = NonSaturatingGANLoss().discriminator_objective(REAL, FAKE)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    assert MinimaxGANLoss().discriminator_objective(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_and_non_saturating_generator_losses_differ_as_the_formulas_say():
    non_saturating = NonSaturatingGANLoss().generator_loss(FAKE).item()
    minimax = MinimaxGANLoss().generator_loss(FAKE).item()
    assert non_saturating == pytest.approx(mean([-math.log(sig(f)) for f in FAKE.tolist()]), rel=1e-6)
    assert minimax == pytest.approx(mean([math.log(1 - sig(f)) for f in FAKE.tolist()]), rel=1e-6)
    assert minimax != pytest.approx(non_saturating)


def test_minimax_gradient_vanishes_where_the_discriminator_rejects_fakes():
    # d/ds log(1 - σ(s)) = -σ(s) → 0 as s → -∞, while d/ds -log σ(s) = σ(s) - 1 → -1
    s = torch.tensor([-10.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(MinimaxGANLoss().generator_loss(s), s)
    s2 = torch.tensor([-10.0], requires_grad=True)
    (g_ns,) = torch.autograd.grad(NonSaturatingGANLoss().generator_loss(s2), s2)
    assert abs(g_minimax.item()) == pytest.approx(sig(-10.0), rel=1e-4)
    assert abs(g_ns.item()) == pytest.approx(1 - sig(-10.0), rel=1e-4)
    assert abs(g_minimax.item()) < 1e-3 * abs(g_ns.item())


def test_js_estimate_is_zero_at_the_global_optimum_and_log2_for_a_perfect_discriminator():
    loss = NonSaturatingGANLoss()
    half = torch.zeros(4)  # D = 1/2 everywhere: L_D = 2 log 2 → JS = 0
    out = loss.discriminator_loss(lambda x: x, half, half)
    assert loss.metrics(out)["js_estimate"].item() == pytest.approx(0.0, abs=1e-6)
    assert loss.metrics(out)["real_score"].item() == pytest.approx(0.5)
    sure = loss.discriminator_loss(lambda x: x, torch.full((4,), 30.0), torch.full((4,), -30.0))
    assert loss.metrics(sure)["js_estimate"].item() == pytest.approx(math.log(2), abs=1e-6)


def test_hinge_loss():
    d = HingeLoss().discriminator_objective(REAL, FAKE).item()
    assert d == pytest.approx(mean([max(0, 1 - r) for r in REAL.tolist()]) + mean([max(0, 1 + f) for f in FAKE.tolist()]))
    assert HingeLoss().generator_loss(FAKE).item() == pytest.approx(-mean(FAKE.tolist()))


def test_least_squares_loss():
    d = LeastSquaresLoss().discriminator_objective(REAL, FAKE).item()
    assert d == pytest.approx(0.5 * mean([(r - 1) ** 2 for r in REAL.tolist()]) + 0.5 * mean([f**2 for f in FAKE.tolist()]))
    assert LeastSquaresLoss().generator_loss(FAKE).item() == pytest.approx(0.5 * mean([(f - 1) ** 2 for f in FAKE.tolist()]))


def test_wasserstein_losses_and_estimate():
    loss = WassersteinLoss()
    out = loss.discriminator_loss(lambda x: x, REAL, FAKE)
    assert out.loss.item() == pytest.approx(mean(FAKE.tolist()) - mean(REAL.tolist()))
    assert loss.metrics(out)["wasserstein_estimate"].item() == pytest.approx(mean(REAL.tolist()) - mean(FAKE.tolist()))
    assert loss.generator_loss(FAKE).item() == pytest.approx(-mean(FAKE.tolist()))
    assert loss.role == "critic" and loss.n_critic == 5 and loss.avoid_momentum


def test_weight_clipping_bounds_every_critic_parameter():
    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)
    WassersteinLoss(clip_value=0.01).after_discriminator_step(critic)
    for p in critic.parameters():
        assert p.abs().max().item() <= 0.01 + 1e-9
    assert any((p.abs() == 0.01).any() for p in critic.parameters())


def test_n_critic_warmup_schedule_of_the_reference_code():
    loss = WassersteinLoss(n_critic=5, n_critic_warmup=100, warmup_steps=25, warmup_every=500)
    assert [loss.critic_steps(s) for s in (0, 24, 25, 499, 500, 501, 1000)] == [100, 100, 5, 5, 100, 5, 100]
    assert WassersteinLoss(n_critic=5).critic_steps(0) == 5


def test_gradient_penalty_on_a_linear_critic_with_known_gradient_norm():
    # f(x) = w·x has ‖∇f‖ = ‖w‖ everywhere: penalty = λ (‖w‖ - 1)²
    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ‖w‖ = 5
    loss = WassersteinGPLoss(gp_weight=10.0)
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert loss.penalty(critic, real, fake).item() == pytest.approx(10.0 * 16.0, rel=1e-5)
    out = loss.discriminator_loss(critic, real, fake)
    assert loss.metrics(out)["gradient_penalty"].item() == pytest.approx(16.0, rel=1e-5)
    assert out.loss.item() == pytest.approx(out.objective.item() + 160.0, rel=1e-5)


@pytest.mark.parametrize("bad", [{"n_critic": 0}, {"clip_value": -1.0}])
def test_bad_loss_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        WassersteinLoss(**bad)


def test_gradient_penalty_under_bf16_autocast_matches_fp32():
    """trainer=gpu trains under bf16-mixed autocast; the penalty leaves it and runs in fp32, so
    its value equals the fp32 one (checked here with CPU autocast, which casts the same way)."""
    torch.manual_seed(0)
    critic = MLP(2, 1, hidden=[64, 64])
    real, fake = torch.randn(256, 2), torch.randn(256, 2) + 1.0
    loss = WassersteinGPLoss(gp_weight=10.0)
    torch.manual_seed(1)  # the same interpolation ε in both
    fp32 = loss.penalty(critic, real, fake)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = loss.penalty(critic, real, fake)
        # what computing it in bf16 would give: the critic's forward autocast to bf16
        torch.manual_seed(1)
        eps = torch.rand(256, 1)
        x = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        in_bf16 = 10.0 * ((grads.norm(2, dim=1) - 1.0) ** 2).mean()
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, fp32, rtol=1e-6, atol=0)
    assert (in_bf16.float() - fp32).abs() > 1e-4 * fp32  # bf16 would have changed it


def test_gradient_penalty_of_a_packed_critic_is_taken_per_pack():
    """PacGAN's critic reads a pack of m samples as one input: its penalty must equal that of
    the same MLP fed the packs directly (ε per pack, the norm over the whole pack)."""
    from gan_cli.models.networks import PackedMLP

    torch.manual_seed(0)
    packed = PackedMLP(in_features=2, pack=2, out_features=1, hidden=[16])
    plain = MLP(4, 1, hidden=[16])
    plain.load_state_dict(packed.state_dict())
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    loss = WassersteinGPLoss(gp_weight=1.0)
    torch.manual_seed(1)
    per_pack = loss.penalty(packed, real, fake)
    torch.manual_seed(1)
    direct = loss.penalty(plain, real.reshape(4, 4), fake.reshape(4, 4))
    torch.testing.assert_close(per_pack, direct)

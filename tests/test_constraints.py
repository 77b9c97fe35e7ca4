"""Each Lipschitz constraint against values computed by hand, and each one in a real run.

Two critics with known input gradients make the penalties exact:
- linear f(x) = w·x: ∇f = w everywhere, so a penalty on ‖∇f‖ does not depend on the points;
- quadratic f(x) = ½‖x‖²: ∇f(x) = x, so a penalty says which points it was taken at.
"""

import json

import pytest
import torch
from torch import nn

from gan_cli.training.checkpoints import config_differences
from gan_cli.objectives.constraints import (
    Constraint,
    DRAGANPenalty,
    GradientPenalty,
    LipschitzPenalty,
    R1Penalty,
    R2Penalty,
    SpectralNormalization,
    WeightClipping,
)
from gan_cli.evaluation.lipschitz import critic_lipschitz
from gan_cli.objectives.losses import HingeLoss, WassersteinGPLoss, WassersteinLoss
from gan_cli.models.networks import MLP
from tests.conftest import compose_and_train, compose_config, scalars


def linear_critic(*w: float) -> nn.Linear:
    critic = nn.Linear(len(w), 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([w]))
    return critic


class Quadratic(nn.Module):
    """f(x) = ½‖x‖², ∇f(x) = x; remembers the points it was evaluated at."""

    def forward(self, x):
        self.seen = x.detach().clone()
        return 0.5 * (x**2).sum(dim=1, keepdim=True)


REAL = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0], [1.0, 1.0]])
FAKE = torch.tensor([[0.0, 0.0], [-1.0, 0.0], [0.0, -3.0], [2.0, 0.0]])


@pytest.mark.parametrize("w, gp, lp", [((3.0, 4.0), 16.0, 16.0), ((0.3, 0.4), 0.25, 0.0)])
def test_gradient_and_lipschitz_penalties_on_a_linear_critic(w, gp, lp):
    # ‖w‖ = 5: both (5 - 1)² = 16; ‖w‖ = 0.5: two-sided (0.5 - 1)² = 0.25, one-sided 0
    critic = linear_critic(*w)
    for constraint, expected in ((GradientPenalty(10.0), gp), (LipschitzPenalty(10.0), lp)):
        penalty = constraint.penalty(critic, REAL, FAKE)
        assert penalty.item() == pytest.approx(10.0 * expected, abs=1e-5)
        assert constraint.metrics(penalty)[constraint.tag].item() == pytest.approx(expected, abs=1e-5)


def test_r1_is_taken_on_real_samples_and_r2_on_fake_ones():
    # ∇f(x) = x: R1 = γ/2 · mean ‖x_real‖² = 2/2 · (1 + 4 + 25 + 2)/4 = 8; R2 on fake: (0 + 1 + 9 + 4)/4 = 3.5
    critic = Quadratic()
    r1, r2 = R1Penalty(2.0), R2Penalty(2.0)
    assert r1.penalty(critic, REAL, FAKE).item() == pytest.approx(8.0)
    assert r2.penalty(critic, REAL, FAKE).item() == pytest.approx(3.5)
    # logged without γ/2: E‖∇D‖²
    assert r1.metrics(r1.penalty(critic, REAL, FAKE))["r1_penalty"].item() == pytest.approx(8.0)
    assert r2.metrics(r2.penalty(critic, REAL, FAKE))["r2_penalty"].item() == pytest.approx(3.5)


def test_dragan_penalises_around_perturbed_real_samples_only():
    torch.manual_seed(0)
    dragan = DRAGANPenalty(weight=10.0, perturbation=0.5)
    assert dragan.penalty(linear_critic(3.0, 4.0), REAL, FAKE).item() == pytest.approx(160.0, rel=1e-5)
    critic = Quadratic()
    dragan.penalty(critic, REAL, FAKE + 100.0)  # fakes far away: they must not be used
    offset = critic.seen - REAL  # x̂ - x = (1 - ε) δ, δ in [0, 0.5 std(x)) per coordinate
    assert (offset >= 0).all() and (offset < 0.5 * REAL.std()).all()


def test_weight_clipping_and_no_constraint():
    critic = MLP(2, 1, hidden=[8])
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)
    Constraint().after_discriminator_step(critic)
    assert max(p.abs().max().item() for p in critic.parameters()) > 1
    assert Constraint().penalty(critic, REAL, FAKE) is None
    WeightClipping(0.01).after_discriminator_step(critic)
    assert max(p.abs().max().item() for p in critic.parameters()) <= 0.01


def test_spectral_norm_makes_every_layer_1_lipschitz_after_a_few_power_iterations():
    torch.manual_seed(0)
    critic = MLP(2, 1, hidden=[32, 32])
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(5)
    SpectralNormalization(n_power_iterations=5).constrain(critic)
    for _ in range(3):  # power iteration runs in training-mode forward passes
        critic(REAL)
    layers = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert len(layers) == 3
    for layer in layers:
        assert torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-3)
    # a 1-Lipschitz layer composed with ReLU: the measured constant is at most 1
    critic.eval()
    assert critic_lipschitz(critic, torch.randn(64, 2), torch.randn(64, 2), batch_size=16) <= 1.0 + 1e-3


def test_critic_lipschitz_is_the_largest_input_gradient_norm():
    assert critic_lipschitz(linear_critic(3.0, 4.0), REAL, FAKE, batch_size=2) == pytest.approx(5.0)
    # ∇f(x) = x: the largest norm is that of (3, 4); interpolates lie between the points
    assert critic_lipschitz(Quadratic(), REAL, FAKE, batch_size=3) == pytest.approx(5.0)


def test_each_loss_has_its_own_constraint_and_any_other_replaces_it():
    assert isinstance(WassersteinLoss().constraint, WeightClipping)
    assert WassersteinLoss(clip_value=0.05).constraint.clip_value == 0.05
    assert isinstance(WassersteinGPLoss(gp_weight=0.1).constraint, GradientPenalty)
    assert type(HingeLoss().constraint) is Constraint
    loss = WassersteinLoss(constraint=LipschitzPenalty(1.0))
    critic = MLP(2, 1, hidden=[8])
    with torch.no_grad():
        critic.net[0].weight.fill_(1.0)
    loss.after_discriminator_step(critic)  # no clipping any more
    assert critic.net[0].weight.max().item() == 1.0
    out = loss.discriminator_loss(critic, REAL, FAKE)
    assert "lipschitz_penalty" in loss.metrics(out) and "gradient_penalty" not in loss.metrics(out)


def test_a_checkpoint_from_before_constraints_resumes_with_the_default_only():
    wgan = {"_target_": "gan_cli.objectives.losses.WassersteinLoss", "n_critic": 5, "clip_value": 0.01}
    assert config_differences({"loss": wgan}, {"loss": wgan, "constraint": None}) == []
    sn = {"_target_": "gan_cli.objectives.constraints.SpectralNormalization", "n_power_iterations": 1}
    assert config_differences({"loss": wgan}, {"loss": wgan, "constraint": sn}) == [
        "constraint (not set → SpectralNormalization)"]


# each constraint once, with a loss of each family across the list (one run each keeps it cheap)
RUNS = [("clip", "gan", None), ("gp", "wgan", "gradient_penalty"), ("lp", "hinge", "lipschitz_penalty"),
        ("r1", "gan", "r1_penalty"), ("r2", "wgan", "r2_penalty"), ("dragan", "lsgan", "dragan_penalty"),
        ("sn", "wgan_gp", None), ("none", "wgan", None)]


@pytest.mark.parametrize("constraint, loss, tag", RUNS)
def test_each_constraint_trains_and_logs_its_penalty_and_the_measured_lipschitz_constant(
        tmp_path, constraint, loss, tag):
    summary = compose_and_train(tmp_path, ["trainer=smoke", f"loss={loss}", f"constraint={constraint}",
                                           "steps=4", "eval_every=2", "eval_samples=64"])
    assert summary["status"] == "completed"
    curves = scalars(tmp_path)
    assert [step for step, _ in curves["eval/critic_lipschitz"]] == [2, 4]
    assert all(value > 0 for _, value in curves["eval/critic_lipschitz"])
    penalties = {t for t in curves if t.endswith("_penalty")}
    role = "critic" if loss.startswith("wgan") else "discriminator"
    assert penalties == ({f"{role}/{tag}"} if tag else set())


@pytest.mark.parametrize("override, accepted", [("constraint.weight=-1", ">= 0"),
                                                ("constraint.n_power_iterations=0", ">= 1")])
def test_a_bad_constraint_setting_is_a_one_line_error(gan_run, override, accepted):
    group = "sn" if "power" in override else "gp"
    result = gan_run("trainer=smoke", f"constraint={group}", override)
    assert result.returncode != 0
    assert result.stderr.startswith(f"error: {override} is not accepted") and accepted in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["constraint=sn", "constraint.weight=1"],
     "error: constraint.weight=1: constraint=sn has no key 'weight'; its keys: constraint.n_power_iterations"),
    (["constraint=none", "constraint.weight=1"], "error: constraint.weight=1: constraint=none has no key 'weight'"),
    (["constraint=gp", "constraint.clip_value=0.1"], "constraint=gp has no key 'clip_value'; its keys: constraint.weight"),
    (["loss=gan", "loss.gp_weight=10"], "error: loss.gp_weight=10: loss=gan has no key 'gp_weight'"),
    (["constraint.weight=1"], "no constraint is chosen (the loss's own is used); choose one with it"),
    (["+constraint.weight=1"], "no constraint is chosen; choose one with it"),
    (["lr_schedule.T_max=5"], "no lr_schedule is chosen (the learning rates stay constant); choose one with it, "
                              "e.g. lr_schedule=cosine lr_schedule.T_max=5"),
    (["constraint=gp", "+constraint.foo=1"], "error: constraint.foo: constraint=gp has no key 'foo'"),
    (["-m", "loss=wgan", "constraint=gp,sn", "constraint.weight=1"], "constraint=sn has no key 'weight'"),
    (["-m", "loss=wgan", "constraint=gp,r1", "constraint.weight=1"], "write ++constraint.weight=1"),
    (["loss=wgan_gp", "loss.gp_weight=10", "constraint=gp"], "error: loss.gp_weight=10 is not used with constraint=gp"),
    (["constraint=sn", "constraint.n_power_iterations=1000000"], "accepted: an integer >= 1 and <= 100"),
    (["-m", "loss=wgan", "constraint=gp,sn", "++constraint.weight=1"], None),  # gp runs, sn is refused
])
def test_a_key_the_chosen_option_lacks_is_one_line_naming_its_keys(gan_run, tmp_path, args, message):
    result = gan_run(*args, "trainer=smoke", "steps=2")
    assert result.returncode != 0 and "Traceback" not in result.stderr + result.stdout
    if message is None:  # the sweep ran: the job that cannot take the key failed with the same line
        statuses = sorted(json.loads(p.read_text())["status"] for p in tmp_path.rglob("summary.json"))
        assert statuses == ["completed", "failed"]
        assert "constraint=sn has no key 'weight'" in result.stderr + result.stdout
        return
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr
    assert all(json.loads(p.read_text())["status"] == "failed" for p in tmp_path.rglob("summary.json"))


def test_a_preset_takes_another_constraint_with_that_constraints_own_settings(tmp_path):
    """grid_benchmark's γ belongs to its R1 option (constraint=r1_grid), so switching the
    constraint leaves no weight behind, and the search's trials that draw sn or gp run."""
    r1 = compose_config(tmp_path / "a", ["experiment=grid_benchmark"])["constraint"]
    assert r1["_target_"].endswith("R1Penalty") and r1["weight"] == pytest.approx(5.3468, abs=1e-4)
    assert compose_config(tmp_path / "b", ["experiment=grid_benchmark", "constraint=sn"])["constraint"] == {
        "_target_": "gan_cli.objectives.constraints.SpectralNormalization", "n_power_iterations": 1}
    assert compose_config(tmp_path / "c", ["experiment=grid_benchmark", "constraint=gp"])["constraint"]["weight"] == 0.1
    summary = compose_and_train(tmp_path / "d", ["experiment=grid_benchmark", "constraint=sn", "trainer=smoke"])
    assert summary["status"] == "completed"


def test_the_logged_penalty_is_unweighted_at_any_positive_weight():
    critic = nn.Linear(2, 1)
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    reference = GradientPenalty(weight=1.0)
    for weight in (1e-20, 1e-6, 10.0):
        gp = GradientPenalty(weight=weight)
        torch.manual_seed(0)
        logged = gp.metrics(gp.penalty(critic, real, fake))["gradient_penalty"]
        torch.manual_seed(0)
        expected = reference.metrics(reference.penalty(critic, real, fake))["gradient_penalty"]
        assert logged.item() == pytest.approx(expected.item(), rel=1e-4)
    zero = GradientPenalty(weight=0.0)
    assert zero.metrics(zero.penalty(critic, real, fake))["gradient_penalty"].item() == 0.0


# ---- a per-sample penalty and batch norm; WGAN-GP's λ follows the data ------------------------

@pytest.mark.parametrize("args", [("loss=wgan_gp",), ("constraint=r1",), ("constraint=gp",), ("constraint=dragan",)])
def test_a_per_sample_penalty_refuses_a_batch_norm_critic_in_one_line(gan_run, args):
    result = gan_run("trainer=smoke", "model=dcgan", "dataset=shapes", "dataset.num_images=64",
                     "dataset.num_workers=0", *args, "hydra.run.dir=run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert "batch norm" in line and "model.discriminator.norm=layer" in line and "constraint=sn" in line


@pytest.mark.parametrize("overrides, weight", [
    (["loss=wgan_gp", "dataset=shapes"], 10.0), (["loss=wgan_gp", "dataset=mnist5k"], 10.0),
    (["loss=wgan_gp", "dataset=ring"], 0.1), (["loss=wgan_gp", "dataset=grid"], 0.1),
    (["loss=wgan_gp", "dataset=shapes", "loss.gp_weight=3"], 3.0),
])
def test_wgan_gp_lambda_is_ten_on_images_and_the_toy_codes_on_points(tmp_path, overrides, weight):
    from conftest import compose_config
    from gan_cli.training.build import build, build_loss

    cfg = compose_config(tmp_path, overrides)
    images = cfg.dataset._target_.split(".")[-1] in ("shapes", "mnist5k")
    loss = build_loss(cfg, image_data=images)
    assert loss.gp_weight == weight and loss.constraint.weight == weight
    assert build(cfg.loss, "loss").gp_weight in (0.1, 3.0)  # built without the data's word: points

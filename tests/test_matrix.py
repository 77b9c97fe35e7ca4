"""Every loss, optimizer, dataset and logger option trains under trainer=smoke, and resume
is exact for every loss. In-process: same Hydra composition, same train() as gan-run."""

from __future__ import annotations

import pytest
import torch

from conftest import compose_and_train, scalars

LOSS_TAGS = {
    "gan": {"discriminator/loss", "discriminator/real_score", "discriminator/fake_score", "discriminator/js_estimate"},
    "gan_minimax": {"discriminator/loss", "discriminator/js_estimate"},
    "hinge": {"discriminator/loss", "discriminator/real_score", "discriminator/fake_score"},
    "lsgan": {"discriminator/loss", "discriminator/real_score", "discriminator/fake_score"},
    "wgan": {"critic/loss", "critic/wasserstein_estimate"},
    "wgan_gp": {"critic/loss", "critic/wasserstein_estimate", "critic/gradient_penalty"},
}
ALWAYS = {"generator/loss", "grad_norm/generator", "grad_norm/discriminator"}


@pytest.mark.parametrize("loss", sorted(LOSS_TAGS))
def test_every_loss_logs_its_curves(tmp_path, loss):
    summary = compose_and_train(tmp_path, [f"loss={loss}", "trainer=smoke", "steps=4"])
    assert summary["status"] == "completed"
    tags = set(scalars(tmp_path))
    assert LOSS_TAGS[loss] | ALWAYS <= tags
    if loss in ("hinge", "lsgan", "wgan", "wgan_gp"):
        assert not any(t.endswith("js_estimate") for t in tags)


@pytest.mark.parametrize("optim", ["adam", "rmsprop", "sgd"])
def test_every_optimizer(tmp_path, optim):
    summary = compose_and_train(tmp_path, [f"optim={optim}", "trainer=smoke", "steps=3"])
    assert summary["status"] == "completed" and summary["steps"] == 3
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert len(ckpt["optimizer_states"]) == 2


def test_each_network_can_have_its_own_learning_rate(tmp_path):
    compose_and_train(tmp_path, ["optim=adam", "optim.lr=3e-4", "optim.discriminator.lr=1e-3", "trainer=smoke", "steps=1"])
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    g_state, d_state = ckpt["optimizer_states"]
    assert g_state["param_groups"][0]["lr"] == pytest.approx(3e-4)
    assert d_state["param_groups"][0]["lr"] == pytest.approx(1e-3)


@pytest.mark.parametrize("dataset, dim", [("ring", 2), ("grid", 2), ("swissroll", 2), ("gaussian1d", 1)])
def test_every_dataset(tmp_path, dataset, dim):
    summary = compose_and_train(tmp_path, [f"dataset={dataset}", "trainer=smoke", "steps=3"])
    assert summary["status"] == "completed"
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    last_weight = [v for k, v in ckpt["state_dict"].items() if k.startswith("generator.") and k.endswith("weight")][-1]
    assert last_weight.shape[0] == dim


def test_gaussian1d_offset_moves_the_initial_generator():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from gan_cli.training.build import build_data_and_networks
    from gan_cli.commands.run import config_dir

    means = []
    for offset in (0.0, 8.0):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            cfg = compose(config_name="train", overrides=["dataset=gaussian1d", f"dataset.offset={offset}"])
        torch.manual_seed(0)
        _, generator, _ = build_data_and_networks(cfg)
        means.append(generator(torch.randn(1000, generator.in_features)).mean().item())
    assert means[1] - means[0] == pytest.approx(8.0, abs=1e-4)


def test_csv_logger(tmp_path):
    compose_and_train(tmp_path, ["logger=csv", "trainer=smoke", "steps=3"])
    text = (tmp_path / "metrics.csv").read_text()
    assert "generator/loss" in text and "discriminator/js_estimate" in text


@pytest.mark.parametrize("loss", sorted(LOSS_TAGS))
def test_resume_is_exact_for_every_loss(tmp_path, loss):
    common = [f"loss={loss}", "trainer=smoke", "seed=3"]
    compose_and_train(tmp_path / "straight", [*common, "steps=12"])
    compose_and_train(tmp_path / "first", [*common, "steps=6"])
    compose_and_train(
        tmp_path / "resumed", [*common, "steps=12", f"ckpt_path={tmp_path / 'first/checkpoints/last.ckpt'}"]
    )
    a = torch.load(tmp_path / "straight/checkpoints/last.ckpt", weights_only=True)
    b = torch.load(tmp_path / "resumed/checkpoints/last.ckpt", weights_only=True)
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, atol=1e-6, rtol=0, msg=key)
    for sa, sb in zip(a["optimizer_states"], b["optimizer_states"]):
        for pid, state in sa["state"].items():
            for name, tensor in state.items():
                torch.testing.assert_close(sb["state"][pid][name], tensor, atol=1e-6, rtol=0)


def test_curves_are_written_every_log_every_steps_and_at_the_end(tmp_path):
    compose_and_train(tmp_path, ["trainer=smoke", "steps=12", "log_every=5", "eval_every=0"])
    series = scalars(tmp_path)
    assert [s for s, _ in series["generator/loss"]] == [5, 10, 12]
    assert [s for s, _ in series["eval/modes"]] == [12]

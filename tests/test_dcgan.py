"""model=dcgan: the DCGAN generator and discriminator (Radford et al. 2016) on image data."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from torch import nn

from conftest import run_gan_run_in_process
from gan_cli.objectives.losses import WassersteinGPLoss
from gan_cli.models.networks import DCGANDiscriminator, DCGANGenerator

SHAPES = ["model=dcgan", "dataset=shapes", "dataset.num_images=256", "model.width=8", "trainer=smoke"]


def one_line_error(result, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


# ---- the networks ---------------------------------------------------------------------------

@pytest.mark.parametrize("resolution", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(resolution, channels):
    torch.manual_seed(0)
    shape = (channels, resolution, resolution)
    dim = channels * resolution * resolution
    g = DCGANGenerator(shape, latent_dim=10, width=4)
    d = DCGANDiscriminator(shape, width=4)
    assert (g.in_features, g.out_features, d.in_features, d.out_features) == (10, dim, dim, 1)
    x = g(torch.randn(5, 10))
    assert x.shape == (5, dim)  # flat, as the training loop passes everything
    assert x.abs().max() <= 1  # Tanh
    assert d(x).shape == (5, 1)
    assert d(torch.rand(5, dim) * 2 - 1).shape == (5, 1)
    # the first feature map: 7×7 at 28, 4×4 otherwise; the score comes from a conv over the last one
    first = g.net[0]
    assert isinstance(first, nn.ConvTranspose2d) and first.kernel_size == ((7, 7) if resolution == 28 else (4, 4))
    last = d.net[-1]
    assert isinstance(last, nn.Conv2d) and last.out_channels == 1 and last.kernel_size == first.kernel_size
    assert not isinstance(d.net[1], (nn.BatchNorm2d, nn.GroupNorm))  # no norm on D's first layer


def test_paper_widths_at_64():
    # figure 1 of the paper: 100 → 4×4×1024 → 8×8×512 → 16×16×256 → 32×32×128 → 64×64×3
    g = DCGANGenerator((3, 64, 64), latent_dim=100, width=128)
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in convs] == [1024, 512, 256, 128, 3]
    d = DCGANDiscriminator((3, 64, 64), width=128)
    assert [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)] == [128, 256, 512, 1024, 1]


def test_initialisation_follows_the_paper():
    torch.manual_seed(0)
    for net in (DCGANGenerator((3, 64, 64), width=64), DCGANDiscriminator((3, 64, 64), width=64)):
        convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        weights = torch.cat([m.weight.flatten() for m in convs])
        assert abs(weights.std().item() - 0.02) < 5e-4 and abs(weights.mean().item()) < 5e-4
        for m in convs:
            assert m.bias is None or torch.count_nonzero(m.bias) == 0
        norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        assert norms
        scales = torch.cat([m.weight for m in norms]).detach()
        assert abs(scales.mean().item() - 1) < 5e-3 and abs(scales.std().item() - 0.02) < 5e-3
        assert all(torch.count_nonzero(m.bias) == 0 for m in norms)


def test_layer_norm_scores_do_not_depend_on_the_batch_batch_norm_ones_do():
    torch.manual_seed(0)
    x = torch.rand(8, 3 * 32 * 32) * 2 - 1
    layer = DCGANDiscriminator((3, 32, 32), width=8, norm="layer").train()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in layer.modules())
    torch.testing.assert_close(layer(x)[:1], layer(x[:1]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer(x)[:1], layer(torch.cat([x[:1], -x[1:]]))[:1], atol=1e-5, rtol=1e-5)
    batch = DCGANDiscriminator((3, 32, 32), width=8, norm="batch").train()
    assert not torch.allclose(batch(x)[:1], batch(torch.cat([x[:1], -x[1:]]))[:1], atol=1e-4)


@pytest.mark.parametrize("norm", ["layer", "none"])
def test_wgan_gp_penalty_runs_through_the_critic(norm):
    torch.manual_seed(0)
    critic = DCGANDiscriminator((1, 28, 28), width=8, norm=norm)
    real = torch.rand(6, 784) * 2 - 1
    fake = DCGANGenerator((1, 28, 28), latent_dim=16, width=8)(torch.randn(6, 16)).detach()
    out = WassersteinGPLoss().discriminator_loss(critic, real, fake)
    assert out.real_scores.shape == (6, 1) and torch.isfinite(out.loss) and out.penalty > 0
    out.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in critic.parameters())


def test_unsupported_resolution_and_norm_are_one_line_value_errors():
    with pytest.raises(ValueError) as e:
        DCGANGenerator((3, 48, 48))
    assert str(e.value) == "model.generator: resolution 48 is not supported; accepted: 28, 32, 64"
    with pytest.raises(ValueError, match=r"^model.discriminator: resolution 48 is not supported"):
        DCGANDiscriminator((3, 48, 48))
    with pytest.raises(ValueError, match=r"^model.discriminator: images of 32×64 pixels are not supported"):
        DCGANDiscriminator((3, 32, 64))
    with pytest.raises(ValueError, match=r"^model.discriminator.norm='instance' is not supported; "
                                         r"accepted: batch, layer, none$"):
        DCGANDiscriminator((3, 32, 32), norm="instance")


# ---- through gan-run and gan-sample ---------------------------------------------------------

def test_cli_errors_resolution_norm_and_toy_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_gan_run_in_process(*SHAPES, "dataset.resolution=48", f"hydra.run.dir={tmp_path / 'a'}")
    one_line_error(result, "model.generator: resolution 48 is not supported; accepted: 28, 32, 64")
    result = run_gan_run_in_process(*SHAPES, "model.discriminator.norm=group", f"hydra.run.dir={tmp_path / 'b'}")
    one_line_error(result, "model.discriminator.norm='group'", "accepted: batch, layer, none")
    result = run_gan_run_in_process(*SHAPES, "model.width=0", f"hydra.run.dir={tmp_path / 'c'}")
    one_line_error(result, "model.width=0 is not accepted")
    result = run_gan_run_in_process("model=dcgan", "trainer=smoke", f"hydra.run.dir={tmp_path / 'd'}")
    one_line_error(result, "DCGANGenerator needs image data (dataset=shapes, mnist, cifar10 or image_folder)",
                   "2-dimensional points")


def test_dcgan_smoke_run_and_gan_sample_grid(tmp_path, monkeypatch, capsys):
    from gan_cli.commands import sample

    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    # channels_last is what trainer=gpu picks by itself; on the CPU it is asked for explicitly
    result = run_gan_run_in_process(*SHAPES, "dataset.resolution=32", "channels_last=true", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr
    assert (run / "figures" / "step_000010.png").is_file()
    ckpt = run / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert state["state_dict"]["discriminator.net.0.weight"].is_contiguous(memory_format=torch.channels_last)
    assert state["gan_run"]["data"]["image_shape"] == [3, 32, 32]
    assert state["state_dict"]["generator.net.0.weight"].shape == (100, 32, 4, 4)  # z → 4×4 × 4·width
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"

    grid = tmp_path / "grid.png"
    sample.main([str(ckpt), "--num", "16", "--out", str(grid)])
    assert "wrote 16 images" in capsys.readouterr().out
    with Image.open(grid) as image:
        assert image.format == "PNG" and image.width > 8 * 32 and image.height > 2 * 32


def test_wgan_gp_with_layer_norm_critic_on_grey_28(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    result = run_gan_run_in_process(*SHAPES, "loss=wgan_gp", "model.discriminator.norm=layer",
                                    "dataset.resolution=28", "dataset.channels=1", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 10
    penalty = summary["final"]["critic/gradient_penalty"]
    assert penalty == penalty and penalty >= 0
    assert (run / "figures" / "step_000010.png").is_file()


def test_compile_and_channels_last_keep_the_checkpoint_keys():
    """compile=true must not rename parameters (torch.compile(module) would prefix them with
    _orig_mod.), or checkpoints would not load into gan-sample or an uncompiled resume."""
    from omegaconf import OmegaConf

    from gan_cli.commands.train import prepare_networks

    generator = DCGANGenerator(latent_dim=8, image_shape=(3, 32, 32), width=4)
    keys = list(generator.state_dict())
    cfg = OmegaConf.create({"compile": True, "channels_last": None, "trainer": {"accelerator": "gpu"}})
    prepare_networks(cfg, generator)  # compiling is lazy: nothing is compiled until the first call
    assert list(generator.state_dict()) == keys
    assert generator._compiled_call_impl is not None
    assert generator.net[0].weight.is_contiguous(memory_format=torch.channels_last)  # null: on for a GPU


"""A user's own config folder and network classes, used from a folder outside the checkout as
docs/own-networks.md shows: config options compose like shipped ones, a module of the user's own
trains, samples and evaluates, and each broken part of the network contract is one line."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import in_process, run_cli, run_gan_run_in_process
from gan_cli.commands import evaluate, sample

SMOKE = ("trainer=smoke", "steps=3")

# the worked example of docs/own-networks.md, as a user writes it in their own folder
MYNETS = '''
import torch
from torch import nn


class ResGenerator(nn.Module):
    def __init__(self, in_features: int, out_features: int, output_offset: float = 0.0, width: int = 32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features  # gan-run reads both
        self.body = nn.Sequential(nn.Linear(in_features, width), nn.SiLU(), nn.Linear(width, width))
        self.out = nn.Linear(width, out_features)
        nn.init.constant_(self.out.bias, output_offset)

    def forward(self, z):
        h = self.body[0](z)
        return self.out(h + self.body[2](torch.nn.functional.silu(h)))


class ResDiscriminator(nn.Module):
    def __init__(self, in_features: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, width), nn.SiLU(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)


class NoLatent(nn.Module):  # forgets self.in_features
    def __init__(self, out_features: int, output_offset: float = 0.0):
        super().__init__()
        self.net = nn.Linear(2, out_features)

    def forward(self, z):
        return self.net(z)


class WrongShape(ResGenerator):  # one value too many per sample
    def forward(self, z):
        return torch.cat([super().forward(z), z[:, :1]], dim=1)


class TwoScores(ResDiscriminator):
    def forward(self, x):
        return torch.cat([self.net(x), self.net(x)], dim=1)
'''

RESMLP = """\
# model/resmlp.yaml of the user's own folder: a shipped class with other settings
latent_dim: 3
hidden: [16]
generator:
  _target_: gan_cli.models.networks.MLP
  in_features: ${model.latent_dim}
  hidden: ${model.hidden}
  activation: silu
discriminator:
  _target_: gan_cli.models.networks.MLP
  out_features: 1
  hidden: ${model.hidden}
  activation: silu
"""

OWN = """\
latent_dim: 4
generator:
  _target_: mynets.ResGenerator
  in_features: ${model.latent_dim}
  width: 16
discriminator:
  _target_: mynets.ResDiscriminator
  width: 16
"""


@pytest.fixture
def user_folder(tmp_path, monkeypatch) -> Path:
    """A user's folder outside the checkout: myconf/model/{resmlp,own}.yaml and mynets.py."""
    (tmp_path / "myconf" / "model").mkdir(parents=True)
    (tmp_path / "myconf" / "model" / "resmlp.yaml").write_text(RESMLP)
    (tmp_path / "myconf" / "model" / "own.yaml").write_text(OWN)
    (tmp_path / "mynets.py").write_text(textwrap.dedent(MYNETS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.delitem(sys.modules, "mynets", raising=False)  # another test's, imported in this process
    return tmp_path


def composed_model(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("source", [
    ("--config-dir", "myconf"), ("-cd", "myconf"), ("--config-dir=myconf",), ("hydra.searchpath=[file://myconf]",),
])
def test_a_users_option_in_a_standard_group_composes_like_a_shipped_one(user_folder, source):
    if source[0].startswith("hydra.searchpath"):
        source = (f"hydra.searchpath=[file://{user_folder / 'myconf'}]",)
    config = composed_model(run_gan_run_in_process(*source, "model=resmlp", "model.hidden=[8]", "--cfg", "job"))
    assert "activation: silu" in config and "hidden:\n  - 8" in config
    # a typo in it is named with the user's options among the shipped ones
    result = run_gan_run_in_process(*source, "model=resmpl", *SMOKE)
    assert result.returncode == 2 and "available: dcgan, mlp, own, pacdcgan" in result.stderr
    assert "resmlp" in result.stderr and result.stderr.count("\n") == 1


def test_a_users_option_trains_from_config_dir_and_help_lists_it(user_folder):
    result = run_gan_run_in_process("--config-dir", "myconf", "model=resmlp", *SMOKE, "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    assert json.loads((user_folder / "run" / "summary.json").read_text())["status"] == "completed"
    help_text = run_gan_run_in_process(f"hydra.searchpath=[file://{user_folder / 'myconf'}]", "--help").stdout
    assert "model: dcgan, mlp, own, pacdcgan, pacgan, pacgan_protocol, resmlp, shifted_noise" in help_text


@pytest.mark.parametrize("source", [("--config-dir", "myconf"), ("hydra.searchpath=[file://myconf]",)])
def test_a_force_add_sets_a_key_of_the_users_option_and_refuses_one_nothing_defines(user_folder, source):
    if source[0].startswith("hydra.searchpath"):
        source = (f"hydra.searchpath=[file://{user_folder / 'myconf'}]",)
    result = run_gan_run_in_process(*source, "model=resmlp", "++model.latent_dim=2", *SMOKE, "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr  # latent_dim is in the user's model/resmlp.yaml
    result = run_gan_run_in_process(*source, "model=resmlp", "++model.width=2", *SMOKE, "hydra.run.dir=run2")
    assert result.returncode == 2 and "++model.width=2: nothing reads model.width" in result.stderr


@pytest.mark.slow
def test_a_users_own_network_module_trains_samples_and_evaluates(user_folder, monkeypatch):
    # gan-run in a real process: the user's module is found through PYTHONPATH, as the docs say
    run = run_cli("gan-run", "--config-dir", "myconf", "model=own", *SMOKE, "hydra.run.dir=run",
                  cwd=user_folder, env={"PYTHONPATH": str(user_folder)})
    assert run.returncode == 0, run.stderr
    checkpoint = user_folder / "run" / "checkpoints" / "last.ckpt"
    # gan-sample and gan-eval in this process (their start-up is not what is tested), the module on the path
    monkeypatch.syspath_prepend(str(user_folder))
    refused = in_process(sample.main, str(checkpoint), "--num", "7", "--out", "s.npy")
    assert refused.returncode == 2 and "GAN_RUN_ALLOW_TARGETS=mynets.ResGenerator" in refused.stderr
    sampled = in_process(sample.main, str(checkpoint), "--num", "7", "--out", "s.npy", "--allow-target", "mynets.*")
    assert sampled.returncode == 0, sampled.stderr
    assert np.load(user_folder / "s.npy").shape == (7, 2)
    monkeypatch.setenv("GAN_RUN_ALLOW_TARGETS", "mynets.*")
    evaluated = in_process(evaluate.main, str(checkpoint), "eval_samples=200", "--out", "e.json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "eval/wasserstein_exact" in json.loads((user_folder / "e.json").read_text())["metrics"]


def test_the_shipped_options_keys_are_left_out_of_a_users_class_and_named(user_folder, monkeypatch):
    monkeypatch.syspath_prepend(str(user_folder))
    result = run_gan_run_in_process("model.generator._target_=mynets.ResGenerator",
                                    "model.discriminator._target_=mynets.ResDiscriminator", *SMOKE, "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    log = (user_folder / "run" / "cli.log").read_text()
    assert "model.generator: mynets.ResGenerator does not take hidden, activation" in log
    assert "model.discriminator: mynets.ResDiscriminator does not take out_features, hidden, activation" in log
    # a key typed on the command line is never dropped: the class refuses it
    typed = run_gan_run_in_process("model.generator._target_=mynets.ResGenerator", "model.generator.hidden=[8]",
                                   *SMOKE)
    assert typed.returncode == 2 and "unexpected keyword argument 'hidden'" in typed.stderr


@pytest.mark.parametrize("overrides, message", [
    (["model.generator._target_=mynets.ResGenerator"],
     "model.generator._target_=mynets.ResGenerator: No module named 'mynets'; Python finds a module of your own "
     "through PYTHONPATH"),
    (["model.generator._target_=mynets.Missing"], "model.generator._target_=mynets.Missing: mynets has no 'Missing'"),
    (["model.generator._target_=mynets.NoLatent"], "model.generator: NoLatent has no in_features attribute"),
    (["model.generator._target_=mynets.WrongShape"],
     "model.generator: WrongShape maps z of shape (2, 4) to (2, 3); gan-run expects (2, 2)"),
    (["model.discriminator._target_=mynets.TwoScores"],
     "model.discriminator: TwoScores scores 2 samples as (2, 2); gan-run expects one raw score per sample"),
])
def test_each_broken_part_of_the_network_contract_is_one_line(user_folder, monkeypatch, overrides, message):
    if "No module" not in message:
        monkeypatch.syspath_prepend(str(user_folder))
    result = run_gan_run_in_process("--config-dir", "myconf", "model=own", *overrides, *SMOKE, "hydra.run.dir=run")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1, result.stderr
    summary = json.loads((user_folder / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"].startswith(message)  # the reason is kept there too

"""A checkpoint written by an earlier gan-run still samples, evaluates and resumes.

tests/fixtures/flat_layout.ckpt was written at commit 6b2d6db, when gan_cli/ was one flat folder
of modules, by ``gan-run`` with the overrides in flat_layout.overrides.yaml (a copy of its run
folder's .hydra/overrides.yaml): a 4-step WGAN with a gradient penalty on the ring, MLPs of one
16-unit layer. Its stored config names the module paths of that time (``gan_cli.networks.MLP``,
``gan_cli.data.ring``, ``gan_cli.losses.WassersteinLoss``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from hydra.utils import get_object
from omegaconf import OmegaConf

from conftest import config_targets
from gan_cli.commands.evaluate import main as evaluate_main
from gan_cli.commands.sample import main as sample_main
from gan_cli.training.checkpoints import read_checkpoint

FIXTURES = Path(__file__).parent / "fixtures"
CHECKPOINT = FIXTURES / "flat_layout.ckpt"
OVERRIDES = [str(o) for o in OmegaConf.load(FIXTURES / "flat_layout.overrides.yaml")]
#: every gan_cli ``_target_`` in conf/'s job configs at 6b2d6db: a checkpoint of then may store any of them
FLAT_LAYOUT_TARGETS = [
    *(f"gan_cli.constraints.{name}" for name in ("Constraint", "DRAGANPenalty", "GradientPenalty", "LipschitzPenalty",
                                                 "R1Penalty", "R2Penalty", "SpectralNormalization", "WeightClipping")),
    "gan_cli.data.Gaussian1D", "gan_cli.data.SwissRoll", "gan_cli.data.grid", "gan_cli.data.ring",
    "gan_cli.digits.mnist5k", "gan_cli.digits.stacked_mnist",
    "gan_cli.images.cifar10", "gan_cli.images.image_folder", "gan_cli.images.mnist", "gan_cli.images.shapes",
    *(f"gan_cli.losses.{name}" for name in ("HingeLoss", "LeastSquaresLoss", "MinimaxGANLoss", "NonSaturatingGANLoss",
                                            "WassersteinGPLoss", "WassersteinLoss")),
    "gan_cli.named_optimizer.named_optimizer",
    "gan_cli.networks.DCGANDiscriminator", "gan_cli.networks.DCGANGenerator", "gan_cli.networks.MLP",
    "gan_cli.networks.PackedMLP", "gan_cli.packed.PackedDCGANDiscriminator",
    "gan_cli.protocol.BatchNormMLP", "gan_cli.protocol.PackedMaxoutMLP", "gan_cli.protocol.grid_training_set",
    "gan_cli.shifted_noise.ShiftedNoise",
]


def test_every_target_in_an_old_checkpoints_config_resolves():
    config = read_checkpoint(CHECKPOINT)["gan_run"]["config"]
    found = config_targets(config)
    assert len(found) == 9  # G, D, loss, constraint, dataset, both optimizers, trainer, logger
    for target in found:
        get_object(target)


def test_every_target_conf_named_before_resolves_when_read_from_a_checkpoint(tmp_path):
    # at every depth of the stored config: in a group, in a nested object, in a list
    config = {"group": [{"_target_": target, "nested": {"_target_": target}} for target in FLAT_LAYOUT_TARGETS]}
    torch.save({"gan_run": {"config": config}, "state_dict": {}}, tmp_path / "old.ckpt")
    read = read_checkpoint(tmp_path / "old.ckpt")["gan_run"]["config"]["group"]
    assert len(read) == len(FLAT_LAYOUT_TARGETS) == 34
    for entry in read:
        assert entry["_target_"] == entry["nested"]["_target_"]
        get_object(entry["_target_"])


def test_gan_sample_draws_from_an_old_checkpoint(tmp_path):
    sample_main([str(CHECKPOINT), "--num", "100", "--out", str(tmp_path / "samples.npy")])
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (100, 2) and np.isfinite(samples).all()


def test_gan_eval_scores_an_old_checkpoint(tmp_path):
    evaluate_main([str(CHECKPOINT), "--out", str(tmp_path / "eval.json")])
    metrics = json.loads((tmp_path / "eval.json").read_text())["metrics"]
    assert {"eval/modes", "eval/wasserstein_exact"} <= metrics.keys()


def test_an_old_checkpoint_resumes_with_the_overrides_of_its_run(gan_run, tmp_path):
    checkpoint = tmp_path / "flat_layout.ckpt"
    shutil.copy(CHECKPOINT, checkpoint)  # the fixture stays as it was written
    assert "steps=4" in OVERRIDES
    kept = [o for o in OVERRIDES if not o.startswith("steps=")]
    result = gan_run(*kept, "steps=6", f"ckpt_path={checkpoint}", "hydra.run.dir=resumed")
    assert result.returncode == 0, result.stderr
    resumed = torch.load(tmp_path / "resumed/checkpoints/last.ckpt", weights_only=True)
    assert resumed["gan_run"]["generator_step"] == 6

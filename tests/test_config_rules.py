"""One declaration per config key: config.RULES is what the pre-torch check and the
constructors both read, so a key's type, range and message exist once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import yaml

from conftest import REPO
from gan_cli import config
from gan_cli.models import networks
from gan_cli.data import images
from gan_cli.errors import GanRunError
from gan_cli.objectives.losses import WassersteinLoss

#: group options whose _target_ is Lightning's own class: users choose them by option, and
#: Lightning checks their arguments (gan-run's keys that feed them, log_every, have rules)
LIGHTNING_GROUPS = {"logger", "trainer"}
#: keys that are not numbers or choices, checked where they are read, with a message naming them
CHECKED_WHERE_READ = {"dataset.path": "gan_cli.data.images._folder: a folder that must exist and hold the data"}


def user_keys(node: dict, prefix: str):
    """Every key a config file sets (what users see with --cfg job and override), with its value."""
    for key, value in node.items():
        if key in ("_target_", "_partial_", "defaults"):
            continue
        if isinstance(value, dict):
            yield from user_keys(value, f"{prefix}.{key}")
        else:
            yield f"{prefix}.{key}", value


def group_files():
    for path in sorted((REPO / "conf").glob("*/*.yaml")):
        group = path.parent.name
        if group in ("experiment", "hparams_search", "hydra") or group in LIGHTNING_GROUPS:
            continue
        node = yaml.safe_load(path.read_text()) or {}
        if "_target_" in yaml.safe_dump(node):
            yield path, group, node


@pytest.mark.parametrize("path,group,node", list(group_files()), ids=lambda x: getattr(x, "stem", ""))
def test_every_key_of_a_target_config_has_a_rule(path, group, node):
    missing = []
    for key, value in user_keys(node, group):
        interpolated = re.fullmatch(r"\$\{([\w.]+)\}", str(value))
        if interpolated and not interpolated.group(1).startswith("hydra:"):
            key = interpolated.group(1)  # the rule is the source key's (optim.lr, model.hidden, steps)
        if key not in config.RULE_FOR and key not in CHECKED_WHERE_READ:
            missing.append(key)
    assert not missing, f"{path.name}: keys without a rule in gan_cli/config.py RULES: {missing}"


def test_choice_rules_name_exactly_what_the_networks_build():
    for net in ("generator", "discriminator"):
        assert set(config.RULE_FOR[f"model.{net}.activation"].choices) == set(networks.ACTIVATIONS)
    assert set(config.RULE_FOR["model.discriminator.norm"].choices) == set(networks.DCGAN_NORMS)


def checked(tmp_path: Path, overrides: list[str]) -> str | None:
    from conftest import compose_config

    try:
        config.check(compose_config(tmp_path, overrides))
    except GanRunError as e:
        return str(e)
    return None


def constructed(build) -> str | None:
    try:
        build()
    except GanRunError as e:
        return str(e)
    return None


def test_dataset_seed_has_one_bound_in_the_check_and_in_the_constructor(tmp_path):
    for seed, ok in ((2**32 - 1, True), (2**32, False), (-1, False)):
        message = checked(tmp_path, ["dataset=shapes", f"dataset.seed={seed}"])
        assert (message is None) == ok, message
        assert constructed(lambda: images.make_shapes(2, 8, 1, seed)) == message


def test_dataset_channels_has_one_rule_and_one_message(tmp_path):
    message = checked(tmp_path, ["dataset=shapes", "dataset.channels=2"])
    assert message and constructed(lambda: images.make_shapes(2, 8, 2, 0)) == message
    assert checked(tmp_path, ["dataset=shapes", "dataset.channels=1"]) is None


def test_clip_value_zero_means_no_clipping_in_the_check_and_in_the_loss(tmp_path):
    assert checked(tmp_path, ["loss=wgan", "loss.clip_value=0"]) is None
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.fill_(3.0)
    WassersteinLoss(clip_value=0).after_discriminator_step(critic)
    assert torch.all(critic.weight == 3.0)  # not clamped to [0, 0]
    message = checked(tmp_path, ["loss=wgan", "loss.clip_value=-1"])
    assert message and constructed(lambda: WassersteinLoss(clip_value=-1)) == message


def test_batch_size_and_pack_are_checked_by_one_function(tmp_path):
    message = checked(tmp_path, ["model=pacgan", "model.pack=3", "batch_size=64"])
    with pytest.raises(GanRunError) as e:
        config.check_batch_splits_into_packs(64, 3)
    assert message == str(e.value)
    assert checked(tmp_path, ["model=pacgan", "model.pack=4", "batch_size=64"]) is None


def test_a_constructor_refuses_a_value_with_the_checks_message(tmp_path):
    message = checked(tmp_path, ["dataset=ring", "dataset.std=0"])
    from gan_cli.data.toy import ring

    assert message and constructed(lambda: ring(std=0)) == message

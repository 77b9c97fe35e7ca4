"""A shared checkpoint never runs code of its author's choosing: gan-sample, gan-eval and a resume
build only allowlisted targets from its stored config (gan_cli/training/stored_config.py), and refuse a
foreign one at any depth in one line naming the key, before anything is called.

The crafted targets are real: ``builtins.open(sentinel, "w")`` would truncate the sentinel file
and ``numpy.save(created, ...)`` would create a file, so "nothing was called" is checked on disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import in_process, run_cli, run_gan_run_in_process

SMOKE = ("trainer=smoke",)

#: every level of the stored config that a command reads, with a foreign target put there
#: (a key path; the last part is replaced, or added, as a ``_target_`` node)
LEVELS = [
    "model.generator",             # the class itself
    "model.generator.hidden",      # nested inside its arguments
    "model.discriminator",
    "model.hidden",                # a group-level value the networks interpolate
    "dataset",
    "dataset.extra",               # a new argument of the dataset
    "loss",
    "constraint",
    "optim.generator",
    "lr_schedule",
    "logger",
    "trainer",
    "eval.extra",
    "model.generator.hidden[0]",   # inside a list
]


def craft(good: Path, out: Path, level: str, sentinel: Path, created: Path, target: str = "builtins.open") -> Path:
    """A copy of ``good`` whose stored config holds a foreign ``_target_`` at ``level``."""
    checkpoint = torch.load(good, map_location="cpu", weights_only=True)
    hostile = ({"_target_": "builtins.open", "file": str(sentinel), "mode": "w"} if target == "builtins.open"
               else {"_target_": target, "file": str(created), "arr": [1, 2, 3]})
    node = checkpoint["gan_run"]["config"]
    *parents, last = level.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    if last.endswith("]"):
        name, index = last[:-1].split("[")
        node[name][int(index)] = hostile
    else:
        node[last] = hostile
    torch.save(checkpoint, out)
    return out


def assert_refused(result: subprocess.CompletedProcess, *must_name: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for text in must_name:
        assert text in lines[0], lines[0]


@pytest.fixture
def sentinel(tmp_path) -> Path:
    path = tmp_path / "sentinel.txt"
    path.write_text("the user's file")
    return path


def assert_nothing_called(sentinel: Path, created: Path) -> None:
    assert sentinel.read_text() == "the user's file"
    assert not created.exists()


def display(level: str) -> str:
    return level if level.endswith("]") else f"{level}._target_"


@pytest.mark.parametrize("level", LEVELS)
def test_gan_sample_and_gan_eval_build_nothing_from_a_foreign_target(small_checkpoint, tmp_path, sentinel, level):
    from gan_cli.commands import evaluate, sample

    created = tmp_path / "created.npy"
    for target in ("builtins.open", "numpy.save"):
        evil = craft(small_checkpoint, tmp_path / "evil.ckpt", level, sentinel, created, target)
        key = display(level)
        assert_refused(in_process(sample.main, str(evil), "--out", str(tmp_path / "s.npy")), key, target)
        assert_refused(in_process(evaluate.main, str(evil), "--out", str(tmp_path / "e.json")), key, target)
        assert_nothing_called(sentinel, created)
        assert not (tmp_path / "s.npy").exists() and not (tmp_path / "e.json").exists()


@pytest.mark.parametrize("level", ["model.generator", "model.generator.hidden", "dataset", "optim.generator",
                                   "lr_schedule", "logger", "model.generator.hidden[0]"])
def test_resuming_a_checkpoint_with_a_foreign_target_calls_nothing(small_checkpoint, tmp_path, sentinel, monkeypatch, level):
    monkeypatch.chdir(tmp_path)
    created = tmp_path / "created.npy"
    evil = craft(small_checkpoint, tmp_path / "evil.ckpt", level, sentinel, created)
    result = run_gan_run_in_process(*SMOKE, "steps=6", f"ckpt_path={evil}", f"hydra.run.dir={tmp_path / 'resumed'}")
    assert_refused(result, "ckpt_path", display(level), "builtins.open")
    assert_nothing_called(sentinel, created)
    assert not (tmp_path / "resumed" / "checkpoints").exists()  # no half-written run that looks complete


def test_the_console_scripts_refuse_a_foreign_target_in_one_line(small_checkpoint, tmp_path, sentinel):
    created = tmp_path / "created.npy"
    evil = craft(small_checkpoint, tmp_path / "evil.ckpt", "model.generator.hidden", sentinel, created)
    for name in ("gan-sample", "gan-eval"):
        result = run_cli(name, str(evil), cwd=tmp_path)
        assert_refused(result, "model.generator.hidden._target_", "GAN_RUN_ALLOW_TARGETS")
    assert_nothing_called(sentinel, created)
    assert not (tmp_path / "samples.npy").exists() and not (tmp_path / "gan_eval.json").exists()


def test_the_allowlist_is_what_the_shipped_configs_put_where_they_put_it():
    from gan_cli.training.stored_config import is_allowed

    assert is_allowed("torch.optim.Adam", "optim") and is_allowed("torch.optim.lr_scheduler.CosineAnnealingLR", "lr_schedule")
    assert is_allowed("gan_cli.models.networks.MLP", "model") and is_allowed("pytorch_lightning.loggers.MLFlowLogger", "logger")
    for target, where in (("builtins.open", "model"), ("numpy.save", "dataset"), ("os.system", "loss"),
                          ("torch.save", "optim"), ("gan_cli.evaluation.figures.save_image", "model"),
                          ("torch.optim.Adam.step", "optim"), ("torch.optim", "optim"), ("pathlib.Path.write_text", "eval"),
                          # a class the shipped configs name, but elsewhere: a logger opens its database when built
                          ("pytorch_lightning.loggers.MLFlowLogger", "model"), ("pytorch_lightning.Trainer", "dataset"),
                          ("torch.optim.Adam", "model")):
        assert not is_allowed(target, where), (target, where)


@pytest.mark.parametrize("level", ["model.generator.bogus", "dataset.bogus"])
def test_an_allowed_class_out_of_its_place_is_refused_before_it_runs(small_checkpoint, tmp_path, level):
    """MLFlowLogger is a logger's target; nested in the generator's arguments Hydra would build it
    (creating its SQLite file) before the generator refused the argument."""
    from gan_cli.commands import evaluate, sample

    checkpoint = torch.load(small_checkpoint, map_location="cpu", weights_only=True)
    node = checkpoint["gan_run"]["config"]
    *parents, last = level.split(".")
    for key in parents:
        node = node[key]
    database = tmp_path / "planted.db"
    node[last] = {"_target_": "pytorch_lightning.loggers.MLFlowLogger", "tracking_uri": f"sqlite:///{database}"}
    torch.save(checkpoint, tmp_path / "evil.ckpt")
    for main in (sample.main, evaluate.main):
        assert_refused(in_process(main, str(tmp_path / "evil.ckpt"), "--out", str(tmp_path / "x.npy")),
                       f"{level}._target_", "MLFlowLogger")
    assert not database.exists()


def test_a_users_own_class_rebuilds_once_allowed(tmp_path, monkeypatch):
    """Trained with model.generator._target_=trustnets.TinyG; gan-sample refuses it until the user
    allows it, by flag or by variable (a module tree with .*)."""
    from gan_cli.commands import sample

    (tmp_path / "trustnets.py").write_text(
        "import torch\n"
        "class TinyG(torch.nn.Module):\n"
        "    def __init__(self, in_features, out_features, output_offset=0.0, hidden=(), activation='relu'):\n"
        "        super().__init__()\n"
        "        self.in_features, self.out_features = in_features, out_features\n"
        "        self.net = torch.nn.Linear(in_features, out_features)\n"
        "    def forward(self, z):\n"
        "        return self.net(z)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    run = run_gan_run_in_process(*SMOKE, "steps=2", "model.generator._target_=trustnets.TinyG",
                                 f"hydra.run.dir={tmp_path / 'run'}")
    assert run.returncode == 0, run.stderr
    ckpt = str(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert_refused(in_process(sample.main, ckpt, "--out", "a.npy"), "model.generator._target_", "trustnets.TinyG")
    assert in_process(sample.main, ckpt, "--out", "a.npy", "--allow-target", "trustnets.TinyG").returncode == 0
    monkeypatch.setenv("GAN_RUN_ALLOW_TARGETS", "otherpkg.X, trustnets.*")
    assert in_process(sample.main, ckpt, "--out", "b.npy", "--num", "7").returncode == 0
    assert np.load(tmp_path / "b.npy").shape == (7, 2)


def _edited(good: Path, out: Path, edit) -> Path:
    checkpoint = torch.load(good, map_location="cpu", weights_only=True)
    edit(checkpoint)
    torch.save(checkpoint, out)
    return out


def _set_nan(checkpoint):
    name = next(k for k in checkpoint["state_dict"] if k.startswith("generator."))
    checkpoint["state_dict"][name][0] = float("nan")


BROKEN = {  # what a file lacks or holds wrongly → what the one line names
    "no stored config": (lambda c: c["gan_run"].pop("config"), "no stored config ('config')"),
    "no model group": (lambda c: c["gan_run"]["config"].pop("model"), "'model' group"),
    "gan_run not a mapping": (lambda c: c.update(gan_run=[1, 2]), "not written by gan-run"),
    "state_dict not a mapping": (lambda c: c.update(state_dict="x"), "no weights"),
    "data section of another type": (lambda c: c["gan_run"].update(data=[2]), "'data' section is list"),
    "negative data dim": (lambda c: c["gan_run"]["data"].update(dim=-2), "data.dim=-2"),
    "image shape that is not three sizes": (lambda c: c["gan_run"]["data"].update(image_shape=[1, 2]),
                                            "data.image_shape=[1, 2]"),
    "NaN generator weights": (_set_nan, "holds NaN or Inf"),
    "interpolation": (lambda c: c["gan_run"]["config"]["model"].update(latent_dim="${oc.env:HOME}"),
                      "an interpolation"),
    "a value breaking gan-run's rules": (lambda c: c["gan_run"]["config"]["model"].update(latent_dim=-1),
                                         "model.latent_dim=-1"),
    "no generator weights": (lambda c: c.update(state_dict={}), "no generator weights"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_checkpoint_missing_or_misshaping_what_gan_run_writes_is_one_line(small_checkpoint, tmp_path, case):
    from gan_cli.commands import sample

    edit, reason = BROKEN[case]
    broken = _edited(small_checkpoint, tmp_path / "broken.ckpt", edit)
    assert_refused(in_process(sample.main, str(broken), "--out", str(tmp_path / "s.npy")), str(broken), reason)
    assert not (tmp_path / "s.npy").exists()


def test_a_resume_from_non_finite_weights_is_refused(small_checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = _edited(small_checkpoint, tmp_path / "nan.ckpt", _set_nan)
    result = run_gan_run_in_process(*SMOKE, "steps=6", f"ckpt_path={broken}", f"hydra.run.dir={tmp_path / 'r'}")
    assert_refused(result, "ckpt_path", "holds NaN or Inf")


def test_gan_sample_console_script_names_non_finite_weights(small_checkpoint, tmp_path):
    broken = _edited(small_checkpoint, tmp_path / "nan.ckpt", _set_nan)
    assert_refused(run_cli("gan-sample", str(broken), cwd=tmp_path), "nan.ckpt", "holds NaN or Inf")
    assert not (tmp_path / "samples.npy").exists()


IMAGES = {  # a .npy given to gan-eval --images → what the one line names
    "NaN": (np.full((4, 1, 32, 32), np.nan, dtype=np.float32), "4096 of its values are NaN or Inf"),
    "Inf": (np.where(np.eye(32)[None, None] > 0, np.inf, 0.0).repeat(3, 0).astype(np.float32), "NaN or Inf"),
    "out of range": (np.full((3, 1, 32, 32), 255.0, dtype=np.float32), "values range over [255, 255]"),
    "integers that are not uint8": (np.zeros((3, 1, 32, 32), dtype=np.int64), "values of type int64"),
    "one image": (np.zeros((1, 1, 32, 32), dtype=np.float32), "1 image(s)"),
    "wrong shape": (np.zeros((3, 3, 8, 8), dtype=np.float32), "images of shape (3, 8, 8)"),
}


@pytest.mark.parametrize("case", sorted(IMAGES))
def test_gan_eval_names_images_it_cannot_measure(tmp_path, case):
    from gan_cli.commands import evaluate

    array, reason = IMAGES[case]
    np.save(tmp_path / "fake.npy", array)
    result = in_process(evaluate.main, "--images", str(tmp_path / "fake.npy"), "dataset=shapes",
                        "dataset.channels=1", "--out", str(tmp_path / "e.json"))
    assert_refused(result, "--images", reason)
    assert not (tmp_path / "e.json").exists()


def test_gan_eval_console_script_names_non_finite_images_and_truncated_arrays(tmp_path):
    np.save(tmp_path / "nan.npy", np.full((4, 1, 32, 32), np.nan, dtype=np.float32))
    assert_refused(run_cli("gan-eval", "--images", "nan.npy", "dataset=shapes", "dataset.channels=1", cwd=tmp_path),
                   "NaN or Inf")
    (tmp_path / "cut.npy").write_bytes((tmp_path / "nan.npy").read_bytes()[:100])
    from gan_cli.commands import evaluate

    result = in_process(evaluate.main, "--images", str(tmp_path / "cut.npy"), "dataset=shapes", "dataset.channels=1")
    assert_refused(result, "cut.npy", "not a readable .npy array")
    assert not (tmp_path / "gan_eval.json").exists()


def test_gan_eval_keeps_the_feature_cache_where_this_machine_says(small_checkpoint, tmp_path, monkeypatch):
    """A checkpoint's stored eval.cache_dir names where its author wanted files written: gan-eval
    uses this machine's ($GAN_RUN_CACHE or ~/.cache/gan-run) instead."""
    from gan_cli.commands.evaluate import checkpoint_config

    planted = _edited(small_checkpoint, tmp_path / "c.ckpt",
                      lambda c: c["gan_run"]["config"]["eval"].update(cache_dir=str(tmp_path / "theirs")))
    monkeypatch.setenv("GAN_RUN_CACHE", str(tmp_path / "mine"))
    assert checkpoint_config(str(planted), []).eval.cache_dir == str(tmp_path / "mine")


@pytest.mark.parametrize("content", ['{"a":', '{"id": 1}', '[1, 2]', '\udcff'])
def test_gan_claims_refuses_an_earlier_report_it_did_not_write_before_running_anything(tmp_path, content):
    from gan_cli.claims import cli

    (tmp_path / "claims.json").write_text(content, errors="surrogateescape")
    result = in_process(cli.main, "--out", str(tmp_path), "--only", "optimal_d_is_js", "--smoke")
    assert_refused(result, "--only", "claims.json")
    assert not (tmp_path / "runs").exists()


def test_summary_sections_of_another_shape_read_as_empty_not_a_crash(tmp_path):
    from gan_cli.sweeps.jobs import metrics_of, read_summary

    (tmp_path / "summary.json").write_text('{"final": [1, 2], "best": {"eval/modes": "many", "eval/kl": 0.5}}')
    summary = read_summary(tmp_path)
    assert metrics_of(summary) == {"best eval/kl": 0.5}
    (tmp_path / "summary.json").write_text('{"final": ')
    assert read_summary(tmp_path) == {} and metrics_of({}) == {}

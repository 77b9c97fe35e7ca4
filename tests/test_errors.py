"""Reliability, run as users run gan-run: every bad input gets one line naming the key and
what is accepted (no traceback, nothing that looks like a finished run), and no fault loses
work: NaN, SIGTERM, Ctrl-C, a kill during a save, a failing job in a sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import console_script, in_process, job_folder, run_cli, run_gan_run_in_process

SMOKE = ("trainer=smoke",)


def summaries(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.rglob("summary.json"))]


def load_ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def assert_clean_error(result: subprocess.CompletedProcess, *must_name: str) -> None:
    """Non-zero exit, no traceback, the message on stderr names what is wrong."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    for text in must_name:
        assert text in result.stderr, result.stderr


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "args, must_name",
    [
        # unknown group option: Hydra's message lists the options
        (["optim=adamw"], ["optim=adamw", "available: adam, named, rmsprop, sgd"]),
        (["-m", "loss=gan,wgan_typo"], ["loss=wgan_typo", "available:"]),
        # unknown key: the nearest key is suggested
        (["lr=1"], ["'lr'", "did you mean optim.lr?"]),
        (["loss.ncritic=3"], ["did you mean loss.n_critic?"]),
        (["optim.learning_rate=1e-3"], ["did you mean optim.lr?"]),  # an abbreviation beside it, not optim.name
        # a + key nothing reads (model is not built: its generator and discriminator are)
        (["+model.dropout=0.1"], ["+model.dropout=0.1: nothing reads model.dropout"]),
        (["++model.dropout=0.1"], ["++model.dropout=0.1: nothing reads model.dropout"]),  # ++ adds it too
        (["++model.pack=4"], ["++model.pack=4: nothing reads model.pack"]),  # model=pacgan's key; model=mlp has none
        (["steps=1e3"], ["steps=1e3 is not accepted", "an integer"]),  # echoed as typed, not 1000.0
        # wrong type
        (["steps=abc"], ["steps='abc'", "an integer"]),
        (["steps=1.5"], ["steps=1.5", "an integer"]),
        # out of range
        (["steps=0"], ["steps=0", ">= 1"]),
        (["batch_size=-4"], ["batch_size=-4"]),
        (["optim.lr=-1"], ["optim.lr=-1", "> 0"]),
        (["optim.lr=nan"], ["optim.lr=nan", "finite float32"]),
        (["optim.betas=[1.5,0.9]"], ["optim.betas", "< 1"]),
        (["optim=sgd", "optim.momentum=-0.5"], ["optim.momentum=-0.5"]),
        (["loss.n_critic=0"], ["loss.n_critic=0"]),
        (["loss=wgan", "loss.clip_value=-0.01"], ["loss.clip_value=-0.01", "or null"]),
        (["loss=wgan_gp", "loss.gp_weight=-10"], ["loss.gp_weight=-10"]),
        (["eval_every=-1"], ["eval_every=-1"]),
        (["log_every=0"], ["log_every=0"]),
        (["objective=loss"], ["objective='loss'", "final.<tag> or best.<tag>"]),
        (["objective_if_failed=abc"], ["objective_if_failed='abc'"]),
        (["dataset=shapes", "dataset.channels=2"], ["dataset.channels=2", "one of 1, 3"]),
        (["model.hidden=[64,0]"], ["model.hidden"]),
        (["dataset.std=0"], ["dataset.std=0"]),
        (["model=pacgan", "batch_size=63"], ["batch_size=63", "model.pack=2"]),
        (["model=pacgan", "model.pack=0"], ["model.pack=0", ">= 1"]),
        (["ema_decay=1"], ["ema_decay=1", "< 1"]),
        (["lr_schedule=linear_decay", "lr_schedule.end_factor=2"], ["lr_schedule.end_factor=2", "<= 1"]),
        (["-m", "--cfg", "job"], ["-m/--multirun and --cfg"]),
        (["dataset=shapes", "dataset.num_images=10"], ["batch_size=64", "10 images"]),
        (["lr_schedule=cosine", "lr_schedule.T_max=0"], ["lr_schedule.T_max=0", ">= 1"]),
        (["channels_last=2"], ["channels_last=2", "true or false, or null"]),
        (["dataset=shapes", "dataset.num_workers=-1"], ["dataset.num_workers=-1", ">= 0"]),
    ],
)
def test_bad_value_gets_one_line_naming_the_key(gan_run, tmp_path, args, must_name):
    result = gan_run(*args, *SMOKE)
    assert_clean_error(result, *must_name)
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one line
    # a run folder, if one was made, is marked failed: it never looks like a finished run
    for summary in summaries(tmp_path):
        assert summary["status"] == "failed" and summary["error"]


def test_force_add_of_a_key_a_config_file_defines_sets_it(gan_run, tmp_path):
    # ++key=value sets a key that exists (only a ++key nothing defines is checked as an addition)
    result = gan_run("++optim.lr=0.0005", "++steps=2", *SMOKE)
    assert result.returncode == 0, result.stderr
    [summary] = summaries(tmp_path)
    assert summary["status"] == "completed" and summary["steps"] == 2


def test_full_traceback_only_with_hydra_full_error(tmp_path):
    quiet = run_cli("gan-run", "steps=0", cwd=tmp_path)
    loud = run_cli("gan-run", "steps=0", cwd=tmp_path, env={"HYDRA_FULL_ERROR": "1"})
    assert "Traceback" not in quiet.stderr and quiet.returncode == 2
    assert "Traceback" in loud.stderr and "GanRunError: steps=0" in loud.stderr and loud.returncode != 0


def test_bad_value_fails_before_any_training_starts(gan_run, tmp_path):
    result = gan_run("optim.lr=-1", *SMOKE)
    assert_clean_error(result, "optim.lr")
    assert not list(tmp_path.rglob("*.ckpt")) and not list(tmp_path.rglob("events.out.*"))


def test_unwritable_output_folder(gan_run, tmp_path):
    (tmp_path / "a_file").write_text("")
    result = gan_run("hydra.run.dir=a_file/run", *SMOKE)
    assert_clean_error(result, "hydra.run.dir=a_file/run", "cannot create the run folder")


@pytest.mark.parametrize("dataset", ["mnist", "cifar10", "image_folder"])
def test_dataset_path_missing_unset_or_not_a_folder(gan_run, tmp_path, dataset):
    assert_clean_error(gan_run(*SMOKE, f"dataset={dataset}"), "dataset.path has no value")
    assert_clean_error(gan_run(*SMOKE, f"dataset={dataset}", "dataset.path=nowhere"), "dataset.path=nowhere")
    (tmp_path / "a_file").write_text("")
    assert_clean_error(gan_run(*SMOKE, f"dataset={dataset}", "dataset.path=a_file"), "dataset.path=a_file")


def test_gpu_trainer_without_cuda(gan_run):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert_clean_error(gan_run("trainer=gpu", "steps=1"), "no CUDA device")


def _bad_checkpoints(folder: Path, good: Path) -> dict[str, tuple[Path, str]]:
    (folder / "junk.ckpt").write_bytes(b"not a checkpoint")
    (folder / "truncated.ckpt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    torch.save({"state_dict": {"w": torch.zeros(1)}}, folder / "foreign.ckpt")
    return {
        "missing": (folder / "nope.ckpt", "no such checkpoint file"),
        "folder": (folder, "is not a file"),
        "junk": (folder / "junk.ckpt", "not a PyTorch checkpoint"),
        "truncated": (folder / "truncated.ckpt", "truncated or corrupted"),
        "foreign": (folder / "foreign.ckpt", "not written by gan-run"),
    }


@pytest.mark.parametrize("case", ["missing", "junk"])
def test_ckpt_path_that_is_not_a_gan_run_checkpoint(gan_run, tmp_path, small_checkpoint, case):
    path, reason = _bad_checkpoints(tmp_path, small_checkpoint)[case]
    assert_clean_error(gan_run(*SMOKE, f"ckpt_path={path}"), "ckpt_path", reason)


def test_ckpt_path_from_another_config_names_the_keys_that_differ(gan_run, small_checkpoint):
    result = gan_run(*SMOKE, "model.hidden=[8]", "optim=rmsprop", f"ckpt_path={small_checkpoint}")
    assert_clean_error(result, "ckpt_path", "model.hidden ([16, 16] → [8])", "optim.")


def test_resuming_a_checkpoint_that_already_reached_steps_is_refused(gan_run, small_checkpoint):
    result = gan_run(*SMOKE, "steps=3", f"ckpt_path={small_checkpoint}")  # it holds 3 steps
    assert_clean_error(result, "steps=3", "already trained 3 generator steps")


@pytest.mark.parametrize("case", ["missing", "truncated"])
def test_gan_sample_rejects_a_bad_checkpoint(tmp_path, small_checkpoint, case):
    path, reason = _bad_checkpoints(tmp_path, small_checkpoint)[case]
    result = run_cli("gan-sample", str(path), cwd=tmp_path)
    assert_clean_error(result, "checkpoint", reason)
    assert not (tmp_path / "samples.npy").exists()


@pytest.mark.parametrize("case", ["missing", "folder", "junk", "truncated", "foreign"])
def test_every_kind_of_bad_checkpoint_file_is_named(tmp_path, small_checkpoint, case):
    # the one reader that gan-run's ckpt_path and gan-sample share, without a process per case
    from gan_cli.training.checkpoints import read_checkpoint
    from gan_cli.errors import GanRunError

    path, reason = _bad_checkpoints(tmp_path, small_checkpoint)[case]
    with pytest.raises(GanRunError, match=reason) as error:
        read_checkpoint(path, key="ckpt_path")
    assert str(error.value).startswith("ckpt_path: ") and "\n" not in str(error.value)


@pytest.mark.parametrize("overrides, must_name", [
    (["eval_sample=100"], ["unknown key 'eval_sample'", "did you mean eval_samples?"]),
    (["loss=wgn"], ["loss=wgn", "available: gan, gan_minimax, hinge"]),
    (["loss=wgan"], ["loss=wgan: the checkpoint's run chose its loss"]),
    (["+model.dropout=0.1"], ["+model.dropout=0.1", "adds and removes none"]),
    (["eval_samples=1e3"], ["eval_samples=1e3 is not accepted"]),
])
def test_gan_eval_refuses_unknown_keys_and_options_as_gan_run_does(tmp_path, small_checkpoint, overrides, must_name):
    from gan_cli.commands import evaluate

    result = in_process(evaluate.main, str(small_checkpoint), *overrides, "--out", str(tmp_path / "e.json"))
    assert_clean_error(result, *must_name)
    assert result.stderr.count("\n") == 1 and not (tmp_path / "e.json").exists()


def test_gan_sample_rejects_a_device_it_does_not_have(tmp_path, small_checkpoint):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert_clean_error(run_cli("gan-sample", str(small_checkpoint), "--device", "cuda", cwd=tmp_path), "--device cuda")


# ---- property: any numeric value is a run or a clean error, never a traceback --------------

NUMERIC_KEYS = ["steps", "batch_size", "log_every", "eval_every", "eval_samples", "checkpoint_every",
                "model.latent_dim", "loss.n_critic", "optim.lr", "optim.discriminator.lr",
                "optim.betas", "dataset.std", "dataset.radius", "seed"]
values = st.one_of(
    st.integers(-3, 8),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["abc", "null", "''", "[]", "[0.5]", "[0.5,0.9]", "true", "1e40"]),
)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("GAN_RUN_PROPERTY_EXAMPLES", 25)), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(NUMERIC_KEYS), value=values)
def test_any_numeric_override_is_a_run_or_a_clean_error(tmp_path, key, value):
    if isinstance(value, float) and value == value and abs(value) < 1e6:
        value = repr(value)  # Hydra reads 1e+38 and 0.5 alike
    run_dir = tmp_path / f"run-{time.monotonic_ns()}"
    # small sizes so that a value that is accepted trains in a fraction of a second
    args = [*SMOKE, "steps=2", "eval_samples=64", f"{key}={value}", f"hydra.run.dir={run_dir}"]
    result = run_gan_run_in_process(*args)
    code, stderr = result.returncode, result.stderr
    assert "Traceback" not in stderr and "Error executing job" not in stderr, stderr
    if code == 0:
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    else:
        assert stderr.strip(), "a failure must say why"
        if (run_dir / "summary.json").is_file():
            assert json.loads((run_dir / "summary.json").read_text())["status"] in ("failed", "diverged")


# ---- faults ---------------------------------------------------------------------------------

def test_divergence_stops_with_the_step_and_quantity_and_keeps_the_last_good_checkpoint(gan_run, tmp_path):
    # LSGAN with SGD at lr 10 overflows within a few generator steps
    result = gan_run("loss=lsgan", "optim=sgd", "optim.lr=10", *SMOKE, "checkpoint_every=1", "hydra.run.dir=run")
    assert result.returncode == 3
    assert_clean_error(result, "diverged at generator step", "last good checkpoint")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "diverged" and "diverged at generator step" in summary["error"]
    ckpt = load_ckpt(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert ckpt["gan_run"]["generator_step"] < summary["steps"]
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


def start_gan_run(cwd: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen([console_script("gan-run"), *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``path`` is (re)written: a new file appears there (os.replace gives a new inode)."""
    before = inode(path)
    deadline = time.monotonic() + timeout
    while inode(path) in (None, before):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("sig, exit_code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_run_saves_a_checkpoint_that_resumes_exactly(gan_run, tmp_path, sig, exit_code):
    """SIGTERM (a cluster pre-empting the job) and Ctrl-C both stop between two generator steps."""
    common = [*SMOKE, "seed=3", "eval_every=0", "log_every=5"]
    process = start_gan_run(tmp_path, *common, "steps=100000", "checkpoint_every=5", "hydra.run.dir=first")
    wait_for(tmp_path / "first" / "checkpoints" / "last.ckpt", process)  # it is training
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr and "interrupted by" in stderr and "ckpt_path=" in stderr

    summary = json.loads((tmp_path / "first" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    stopped_at = summary["steps"]
    ckpt = load_ckpt(tmp_path / "first" / "checkpoints" / "last.ckpt")
    assert ckpt["gan_run"]["generator_step"] == stopped_at  # saved where it stopped, not at the last multiple of 5

    if sig == signal.SIGINT:
        return  # the same checkpoint and resume path as SIGTERM; proven once below
    # re-running with ckpt_path continues; the result equals a run that was never stopped
    resumed = gan_run(*common, f"steps={stopped_at + 3}", "hydra.run.dir=resumed",
                      "ckpt_path=first/checkpoints/last.ckpt")
    straight = gan_run(*common, f"steps={stopped_at + 3}", "hydra.run.dir=straight")
    assert resumed.returncode == 0 and straight.returncode == 0, resumed.stderr + straight.stderr
    a = load_ckpt(tmp_path / "straight" / "checkpoints" / "last.ckpt")["state_dict"]
    b = load_ckpt(tmp_path / "resumed" / "checkpoints" / "last.ckpt")["state_dict"]
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=0, msg=key)


def test_sigterm_while_the_run_is_being_built_ends_it_interrupted_not_running(tmp_path):
    """summary.json says "running" from the start of train(); the data, networks and loggers take
    seconds to build, before Lightning's own SIGTERM handler exists."""
    process = start_gan_run(tmp_path, *SMOKE, "hydra.run.dir=run")
    wait_for(tmp_path / "run" / "summary.json", process)  # train() has started, fit has not yet
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "interrupted"


@pytest.mark.slow
def test_kill_during_checkpointing_never_leaves_a_broken_last_ckpt(tmp_path):
    # a 3 x 256 MLP and a save after every step: most of the run is spent writing checkpoints
    settings = ["trainer=cpu", "checkpoint_every=1", "eval_every=0", "log_every=10", "batch_size=64"]
    args = [*settings, "hydra.run.dir=run"]
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    steps_seen = []
    for kill_after in (0.05, 0.3):  # two points in the save-every-step loop; the second resumes the first
        resume = [f"ckpt_path={last}"] if last.exists() else []
        process = start_gan_run(tmp_path, *args, "steps=100000", *resume)
        wait_for(last, process)
        time.sleep(kill_after)
        process.kill()
        process.wait(timeout=30)
        ckpt = load_ckpt(last)  # always a whole checkpoint: the old one or the new one
        steps_seen.append(ckpt["gan_run"]["generator_step"])
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0], steps_seen
    # the temporary files of killed saves are cleared when the run is resumed
    # in this process: the kills above need a subprocess, this resume does not
    finish = run_gan_run_in_process(*settings, f"hydra.run.dir={tmp_path / 'run'}", f"steps={steps_seen[-1] + 1}",
                                    f"ckpt_path={last}")
    assert finish.returncode == 0, finish.stderr
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.ckpt"]


def test_a_failing_job_does_not_stop_the_sweep(gan_run, tmp_path):
    result = gan_run("-m", *SMOKE, "optim.lr=1e-3,-1,1e30,2e-3", "hydra.sweep.dir=sweep")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: job 1: optim.lr=-1" in result.stderr and "error: job 2: diverged" in result.stderr
    assert "not completed: 1 (failed), 2 (diverged)" in result.stderr
    assert "gan-report sweep" in result.stdout
    statuses = [json.loads((job_folder(tmp_path / "sweep", i) / "summary.json").read_text())["status"]
                for i in range(4)]
    assert statuses == ["completed", "failed", "diverged", "completed"]
    assert (job_folder(tmp_path / "sweep", 3) / "checkpoints" / "last.ckpt").is_file()

    report = run_cli("gan-report", "sweep", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    rows = {line.split("|")[1].strip(): line for line in report.stdout.splitlines()[2:]}
    assert "failed" in rows["1"] and "optim.lr=-1 is not accepted" in rows["1"]
    assert "diverged" in rows["2"] and "diverged at generator step" in rows["2"]
    assert "completed" in rows["0"] and "completed" in rows["3"]


def test_resume_compares_only_settings_the_checkpoint_knows_and_ignores_loader_workers():
    from gan_cli.training.checkpoints import config_differences

    saved = {"model": {"hidden": [8]}, "loss": {"n_critic": 1}, "optim": {"lr": 1e-4},
             "dataset": {"num_images": 64, "num_workers": 2}}  # written before ema_decay existed
    current = {**saved, "dataset": {"num_images": 64, "num_workers": 0}, "ema_decay": 0.0, "lr_schedule": None}
    assert config_differences(saved, current) == []
    assert config_differences(saved, {**current, "optim": {"lr": 1e-3}}) == ["optim.lr (0.0001 → 0.001)"]
    # another loss class: named by its class, without the keys that differ because of it
    gan = {"_target_": "gan_cli.objectives.losses.NonSaturatingGANLoss", "n_critic": 1}
    wgan = {"_target_": "gan_cli.objectives.losses.WassersteinLoss", "n_critic": 5, "clip_value": 0.01}
    assert config_differences({**saved, "loss": gan}, {**current, "loss": wgan}) == [
        "loss (NonSaturatingGANLoss → WassersteinLoss)"]
    # a schedule added to, or dropped from, a run that had none (its checkpoint has no such key)
    cosine = {"_target_": "torch.optim.lr_scheduler.CosineAnnealingLR", "_partial_": True, "T_max": 40}
    assert config_differences({**saved, "ema_decay": 0.0}, {**current, "lr_schedule": cosine}) == [
        "lr_schedule (not set → CosineAnnealingLR)"]
    assert config_differences({**saved, "lr_schedule": cosine}, {**current, "lr_schedule": None}) == [
        "lr_schedule (CosineAnnealingLR → not set)"]
    assert config_differences(saved, {**current, "ema_decay": 0.5}) == ["ema_decay (0.0 → 0.5)"]


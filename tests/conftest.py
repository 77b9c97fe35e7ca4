"""Helpers to run gan-run the way users do (subprocess) or in-process through the same
Hydra composition and the same ``train`` function (for the wide smoke matrices)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(config, items):
    """The tests marked slow (over ~10 s each on the 2-core CI machine) run first. `make test`
    splits the suite over two processes, and a minute-long test started last would leave one
    core idle while it finishes alone. Its --maxschedchunk 1 makes pytest-xdist hand the tests
    out in this order a few at a time, so the slow ones spread over both processes (by default
    each process first takes a quarter of its share as one block: every slow test in one)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: file order otherwise


def console_script(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"console script {name} is not installed"
    return path


def run_cli(name: str, *args: str, cwd: Path, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    # the caller's HYDRA_FULL_ERROR would change what users see; a test may set it on purpose
    full_env = {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}, **(env or {})}
    return subprocess.run(
        [console_script(name), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def run_gan_run_in_process(*args: str) -> subprocess.CompletedProcess:
    """gan-run's console entry point (``gan_cli.commands.run.main``) called in this process, with
    stdout and stderr captured: the same code path as the console script, without paying
    4–8 s of torch and Lightning imports per run (docs/performance.md). Only process-level
    behaviour (signals, DDP launchers, start-up time) needs a real subprocess."""
    import contextlib
    import io

    from gan_cli.commands.run import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["gan-run", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
        shut_down_joblib_workers()
    return subprocess.CompletedProcess(["gan-run", *args], code, out.getvalue(), err.getvalue())


def shut_down_joblib_workers() -> None:
    """Hydra's joblib launcher keeps loky's worker processes for the next sweep of this process,
    and they keep the folder they started in: the next test's relative hydra.sweep.dir would land
    in the last test's folder. A user's gan-run is one sweep per process; a test's must be too."""
    if "joblib" in sys.modules:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)


def in_process(main, *args: str) -> subprocess.CompletedProcess:
    """A console script's ``main`` (gan-eval's, gan-sample's) in this process, its exit code and output captured."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture
def gan_run(tmp_path, monkeypatch):
    """Run gan-run in tmp_path (so outputs/ lands there), in this process."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    return run_gan_run_in_process


@pytest.fixture
def gan_run_process(tmp_path):
    """Run the installed gan-run console script as a subprocess in tmp_path."""

    def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return run_cli("gan-run", *args, cwd=tmp_path, **kwargs)

    return _run


def job_folder(sweep: Path, number: int) -> Path:
    """The folder of job ``number`` of a sweep: ``<number>_<its overrides>`` (gan_cli/sweeps/job_names.py)."""
    (folder,) = [p for p in sweep.iterdir() if p.is_dir() and p.name.partition("_")[0] == str(number)]
    return folder


def compose_config(run_dir: Path, overrides: list[str]):
    """The job config gan-run composes from conf/ with ``overrides``, with Hydra's runtime
    set up as in a gan-run job whose run folder is ``run_dir``."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from gan_cli.commands.run import config_dir
    from gan_cli.training.quiet import silence_third_party_noise

    silence_third_party_noise()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides, return_hydra_config=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def config_targets(node) -> list[str]:
    """Every ``_target_`` in a config (plain dicts and lists), at any depth."""
    if isinstance(node, dict):
        return [t for key, value in node.items() for t in ([value] if key == "_target_" else config_targets(value))]
    if isinstance(node, list):
        return [t for value in node for t in config_targets(value)]
    return []


def compose_and_train(run_dir: Path, overrides: list[str]) -> dict:
    """Compose conf/ with ``overrides`` exactly as gan-run does and call the same train()."""
    from gan_cli.commands.train import train

    return train(compose_config(run_dir, overrides))


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series in the run folder's TensorBoard event files: tag → [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def images(run_dir: Path) -> list[str]:
    """The image tags in the run folder's TensorBoard event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    acc.Reload()
    return acc.Tags()["images"]


@pytest.fixture(autouse=True, scope="session")
def classifier_cache(tmp_path_factory):
    """Image runs train a feature classifier and cache it (gan_cli.evaluation.features): keep that cache in
    a folder of this test session, shared by its tests, never in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("classifier_cache")
    previous = os.environ.get("GAN_RUN_CACHE")
    os.environ["GAN_RUN_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("GAN_RUN_CACHE", None)
    else:
        os.environ["GAN_RUN_CACHE"] = previous


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory) -> Path:
    """A 3-step smoke run's last.ckpt, trained once per test module."""
    root = tmp_path_factory.mktemp("ckpt")
    # in this process: a subprocess would add ~7 s of imports in each pytest worker
    result = run_gan_run_in_process("trainer=smoke", "steps=3", f"hydra.run.dir={root / 'run'}")
    assert result.returncode == 0, result.stderr
    return root / "run" / "checkpoints" / "last.ckpt"

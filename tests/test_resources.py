"""Running out of disk or memory, and settings that only the launcher, the sweeper or Lightning
check: one line naming the file or the key, a non-zero exit, no traceback, nothing half-written
that looks complete. A full disk is simulated in-process: writes to chosen files fail with ENOSPC,
as they do on a full file system."""

from __future__ import annotations

import builtins
import errno
import fnmatch
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
import torch

from gan_cli.resources import memory_failure

SMOKE = ("trainer=smoke",)


def assert_one_line_error(result, *must_contain: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for text in must_contain:
        assert text in errors[0], errors[0]
    return errors[0]


class FullFile:
    """A file opened for writing on a full disk: every write fails with ENOSPC."""

    def __init__(self, f) -> None:
        self._f = f

    def write(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


class FullDisk:
    """Writes to files whose full path matches ``pattern`` fail with ENOSPC, after ``allow``
    such files were opened for writing (so an earlier checkpoint can be written)."""

    def __init__(self, monkeypatch, pattern: str, allow: int = 0) -> None:
        self.pattern, self.allow, self.failed = pattern, allow, []
        real_open = builtins.open

        def open_on_full_disk(file, mode="r", *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            if not any(m in mode for m in "wax") or not isinstance(file, (str, bytes, Path)) \
                    or not fnmatch.fnmatch(str(Path(os.fsdecode(file)).resolve()), self.pattern):
                return f
            if self.allow > 0:
                self.allow -= 1
                return f
            self.failed.append(str(file))
            return FullFile(f)

        monkeypatch.setattr(builtins, "open", open_on_full_disk)
        monkeypatch.setattr(io, "open", open_on_full_disk)


def test_full_disk_during_a_checkpoint_keeps_the_previous_one_and_marks_the_run_failed(gan_run, tmp_path, monkeypatch):
    # Lightning writes a checkpoint through fsspec, into a temporary file moved into place after
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    disk = FullDisk(monkeypatch, f"{spool.resolve()}/*", allow=1)  # the save at step 5 works, at 10 it fails
    result = gan_run(*SMOKE, "eval_every=0", "checkpoint_every=5", "hydra.run.dir=run")
    line = assert_one_line_error(result, "last.ckpt", "No space left on device", "disk /")
    assert disk.failed, "the fault was never injected"
    run = tmp_path / "run"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["gan_run"]["generator_step"] == 5
    assert not list(run.rglob("*.tmp*")) and not [p for p in spool.iterdir() if p.is_file()], "temporary files are left behind"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] in line


def test_full_disk_when_writing_summary_json_names_it_and_leaves_no_tmp_file(gan_run, tmp_path, monkeypatch):
    FullDisk(monkeypatch, "*/summary.json.tmp", allow=1)  # "running" is written, the final status is not
    result = gan_run(*SMOKE, "eval_every=0", "hydra.run.dir=run")
    assert_one_line_error(result, "summary.json", "No space left on device", "disk /")
    run = tmp_path / "run"
    assert json.loads((run / "summary.json").read_text())["status"] == "running"  # never "completed"
    assert not list(run.rglob("*.tmp*"))


def test_full_disk_for_the_event_files_names_the_run_folder(gan_run, tmp_path, monkeypatch):
    FullDisk(monkeypatch, "*/events.out.tfevents.*")
    result = gan_run(*SMOKE, "eval_every=0", "hydra.run.dir=run")
    assert_one_line_error(result, "event files", "No space left on device", "disk /")
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_a_batch_that_cannot_be_allocated_names_batch_size_and_the_bytes(gan_run, tmp_path):
    result = gan_run(*SMOKE, "batch_size=100000000000", "hydra.run.dir=run")
    line = assert_one_line_error(result, "batch_size=100000000000", "out of memory", "needed", "available")
    assert "GB" in line or "TB" in line
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_cuda_out_of_memory_names_batch_size_needed_and_free():
    # the message torch's CUDA caching allocator raises, without a GPU
    e = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
                               "79.19 GiB of which 1.25 GiB is free. Process 1 has 77.9 GiB memory in use.")
    message = str(memory_failure(e, 4096))
    assert message.startswith("batch_size=4096: out of GPU memory")
    assert "2.00 GiB" in message and "1.25 GiB" in message
    assert memory_failure(ValueError("x"), 1) is None


@pytest.mark.parametrize("args, key", [
    (("hydra/launcher=joblib", "hydra.launcher.n_jobs=0"), "hydra.launcher.n_jobs=0"),
    (("hydra/launcher=joblib", "hydra.launcher.backend=threads"), "hydra.launcher.backend=threads"),
    (("hparams_search=optuna", "hydra.sweeper.n_trials=0"), "hydra.sweeper.n_trials=0"),
    (("hparams_search=optuna", "hydra.sweeper.direction=up"), "hydra.sweeper.direction=up"),
    (("hparams_search=optuna", "hydra.sweeper.n_jobs=-2"), "hydra.sweeper.n_jobs=-2"),
    (("hparams_search=optuna", "hydra.sweeper.seeds=0"), "hydra.sweeper.seeds=0"),
    (("hparams_search=optuna", "hydra.sweeper.seeds=3", "seed=4"), "hydra.sweeper.seeds=3"),
])
def test_launcher_and_sweeper_settings_get_one_line_naming_the_key(gan_run, tmp_path, args, key):
    result = gan_run("-m", *args, *SMOKE, "hydra.sweep.dir=sweep")
    assert_one_line_error(result, key, "accepted" if "seed=4" not in args else "seed is also set")
    assert not list((tmp_path / "sweep").rglob("summary.json")), "no job may start"


@pytest.mark.parametrize("args, key", [
    (("trainer=ddp_cpu", "trainer.devices=0"), "trainer.devices"),
    (("+trainer.precision=banana",), "trainer.precision=banana"), (("+trainer.max_time=forever",), "trainer.max_time=forever"),
])
def test_lightning_config_errors_name_the_trainer_key(gan_run, args, key):
    result = gan_run(*SMOKE, *args, "hydra.run.dir=run")
    line = assert_one_line_error(result, key)
    assert "full_key" not in line

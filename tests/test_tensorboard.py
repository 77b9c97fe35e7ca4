"""A real TensorBoard serves a sweep: runs named by their overrides, every tag, the
custom-scalars layout of the comparisons, and an image, read through its HTTP API."""

from __future__ import annotations

import contextlib
import json
import math
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import console_script
from gan_cli.sweeps.job_names import MAX_NAME_BYTES, job_dirname, job_label
from gan_cli.tracking.tensorboard_layout import CATEGORY, LOG_2_TAG, charts_for

RUNS = ("0_loss-gan_trainer-smoke", "1_loss-wgan_trainer-smoke")


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base: str, path: str, **query: str) -> bytes:
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_job_folder_names_carry_the_overrides_within_file_name_limits():
    assert job_dirname(3, "loss=wgan,optim.lr=0.001") == "3_loss-wgan_optim.lr-0.001"
    assert job_dirname(0, "") == "0"
    assert job_dirname(1, "dataset.path=/data/a b") == "1_dataset.path-data-a-b"  # one name, no sub-folder
    # safe to type (no = , [ ] or quotes) and short: floats rounded, the exact values are in the job's config
    assert (job_dirname(2, "model.hidden=[64,64],optim.lr=0.00012345678901,x=-1e-05,y='a,b'")
            == "2_model.hidden-64-64_optim.lr-0.000123_x--1e-05_y-a-b")
    long_a, long_b = job_dirname(7, "x=" + "a" * 400), job_dirname(7, "x=" + "a" * 399 + "b")
    assert len(long_a.encode()) <= MAX_NAME_BYTES and long_a != long_b  # cut, but never the same name
    trial = job_dirname(4, ",".join(f"model.generator.option_{i}=0.0012345" for i in range(8)) + ",seed=2")
    assert len(trial.encode()) <= MAX_NAME_BYTES and trial.startswith("4_seed-2_model.generator.option_0-0.00123")
    assert job_label("12_loss-gan") == "12" and job_label("2026-01-31_12-00-00") == "2026-01-31_12-00-00"
    assert list(charts_for(["critic/real_score", "critic/wasserstein_estimate", "grad_norm/generator"])) == [
        "D(x) vs D(G(z))", "critic estimate vs exact W1", "gradient norms: G vs D"]


def test_a_real_tensorboard_serves_the_runs_tags_layout_and_images_of_a_sweep(gan_run, tmp_path):
    result = gan_run("-m", "loss=gan,wgan", "trainer=smoke", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir()) == list(RUNS)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([console_script("tensorboard"), "--logdir", str(tmp_path / "sweep"), "--host",
                               "127.0.0.1", "--port", str(port), "--load_fast=false", "--reload_interval=1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        tags: dict = {}
        while set(tags) != set(RUNS) or LOG_2_TAG not in tags[RUNS[0]]:
            assert server.poll() is None, "tensorboard exited"
            assert time.monotonic() < deadline, f"tensorboard did not serve both runs in time: {tags}"
            time.sleep(0.5)
            with contextlib.suppress(OSError):
                tags = json.loads(get(base, "/data/plugin/scalars/tags"))
        gan, wgan = (set(tags[run]) for run in RUNS)
        assert {"discriminator/real_score", "discriminator/fake_score", "discriminator/js_estimate", LOG_2_TAG,
                "grad_norm/generator", "grad_norm/discriminator", "eval/wasserstein_exact"} <= gan
        assert {"critic/real_score", "critic/wasserstein_estimate", "eval/wasserstein_exact"} <= wgan
        assert LOG_2_TAG not in wgan
        log_2 = json.loads(get(base, "/data/plugin/scalars/scalars", run=RUNS[0], tag=LOG_2_TAG))
        assert [step for _, step, _ in log_2] == [0, 10] and all(math.isclose(v, math.log(2), rel_tol=1e-6)
                                                                for _, _, v in log_2)

        layout = json.loads(get(base, "/data/plugin/custom_scalars/layout"))
        (category,) = layout["category"]
        assert category["title"] == CATEGORY
        charts = {chart["title"]: chart["multiline"]["tag"] for chart in category["chart"]}
        assert charts == {
            "D(x) vs D(G(z))": ["(discriminator|critic)/real_score", "(discriminator|critic)/fake_score"],
            "JS estimate vs log 2": ["discriminator/js_estimate", LOG_2_TAG],
            "critic estimate vs exact W1": ["critic/wasserstein_estimate", "eval/wasserstein_exact"],
            "gradient norms: G vs D": ["grad_norm/generator", "grad_norm/discriminator"],
        }

        image_tags = json.loads(get(base, "/data/plugin/images/tags"))[RUNS[1]]
        assert image_tags, "no image in the run"
        tag = sorted(image_tags)[0]
        (last, *_) = reversed(json.loads(get(base, "/data/plugin/images/images", run=RUNS[1], tag=tag)))
        png = get(base, "/data/plugin/images/individualImage?" + last["query"].lstrip("?"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    finally:
        server.kill()
        server.wait(timeout=30)

"""bench/gpu_check.py, the one-command GPU check, in its smallest form on the CPU: every stage
runs, and the JSON record says what each measured, so the script cannot rot between GPU loans."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_smoke_form_runs_every_stage_and_records_it(tmp_path):
    out = tmp_path / "check.json"
    result = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--device", "cpu", "--size", "smoke",
                             "--out", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(out.read_text())
    assert record["device"] == "cpu" and record["size"] == "smoke"
    stages = {stage["name"]: stage for stage in record["stages"]}
    assert list(stages) == ["smoke", "throughput", "ddp", "memory"]
    assert all(stage["ok"] and stage["seconds"] > 0 for stage in stages.values())
    assert stages["smoke"]["details"]["wgan_gp"]["status"] == "completed"
    assert stages["smoke"]["details"]["wgan_gp"]["sample_file_bytes"] > 0  # gan-sample reloaded the checkpoint
    mlp = stages["throughput"]["details"]["bf16-mixed"]["cases"]["mlp"]
    assert mlp["gan_run_steps_per_s"] > 0 and mlp["raw_steps_per_s"] > 0
    assert stages["ddp"]["details"]["single"]["status"] == "completed"
    assert stages["memory"]["details"]["peak_memory_mib"]["host_rss"] > 0


def test_gpu_check_records_a_failed_stage_and_runs_the_rest(tmp_path):
    out = tmp_path / "check.json"
    result = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--device", "cpu", "--size", "smoke",
                             "--stages", "smoke,memory", "--stage-timeout", "0.01", "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    record = json.loads(out.read_text())
    assert [(s["name"], s["ok"]) for s in record["stages"]] == [("smoke", False), ("memory", False)]
    assert "timed out" in record["stages"][0]["error"]

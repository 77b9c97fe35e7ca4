"""MLflow and W&B runs read back with their own clients and files, not by trusting that the
logger was called: the same curves as TensorBoard's, against the generator step."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conftest import scalars

TAG = "generator/loss"


def wandb_records(path: Path):
    """The protobuf records of an offline W&B run file (``run-<id>.wandb``): a 7-byte header,
    then LevelDB-log framing (32 KiB blocks; per chunk a CRC, a 2-byte length and a type:
    1 full, 2 first, 3 middle, 4 last)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, pending = 7, 32768, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        pending += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


@pytest.mark.slow
def test_mlflow_and_wandb_record_the_curves_config_and_files_of_a_run(gan_run, tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("wandb")
    from mlflow.tracking import MlflowClient

    result = gan_run("trainer=smoke", "logger=many", "hydra.run.dir=outputs/run")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "outputs" / "run"
    summary = json.loads((run_dir / "summary.json").read_text())
    trackers = summary["trackers"]
    assert set(trackers) == {"tensorboard", "mlflow", "wandb"}
    assert "mlflow ui --backend-store-uri sqlite:///" in result.stdout and "wandb sync " in result.stdout
    tensorboard = {step: value for step, value in scalars(run_dir)[TAG]}
    assert sorted(tensorboard) == list(range(1, 11))  # smoke: 10 generator steps, each logged

    # MLflow: the local SQLite store under outputs/, read through MlflowClient
    mlflow = trackers["mlflow"]
    assert mlflow["tracking_uri"] == f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=mlflow["tracking_uri"])
    run = client.get_run(mlflow["run_id"])
    assert run.info.run_name == "run"
    history = {m.step: m.value for m in client.get_metric_history(mlflow["run_id"], TAG)}
    assert history.keys() == tensorboard.keys()
    assert all(history[s] == pytest.approx(tensorboard[s], rel=1e-6) for s in history)
    assert run.data.params["steps"] == "10" and run.data.params["loss/_target_"] == "gan_cli.objectives.losses.NonSaturatingGANLoss"
    artifacts = {a.path for a in client.list_artifacts(mlflow["run_id"])}
    assert {"summary.json", "figures"} <= artifacts
    assert client.list_artifacts(mlflow["run_id"], "figures")

    # W&B: the offline run folder, read record by record
    wandb = trackers["wandb"]
    assert wandb["mode"] == "offline" and Path(wandb["dir"]).parent == run_dir / "wandb"
    (run_file,) = Path(wandb["dir"]).glob("run-*.wandb")
    rows, config_keys = [], set()
    for record in wandb_records(run_file):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                         for item in record.history.item})
        elif kind == "config":
            config_keys |= {item.key for item in record.config.update}
    logged = {int(row["trainer/global_step"]): row[TAG] for row in rows if TAG in row}
    assert logged.keys() == tensorboard.keys()
    assert all(logged[s] == pytest.approx(tensorboard[s], rel=1e-6) for s in logged)
    assert {"steps", "loss/_target_"} <= config_keys
    assert (Path(wandb["dir"]) / "files" / "summary.json").exists()


def test_a_tracker_whose_package_is_missing_names_the_extra(gan_run, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    result = gan_run("trainer=smoke", "logger=mlflow", "hydra.run.dir=run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("error: logger: MLFlowLogger needs the mlflow package, which is not installed; "
                                     "install it with: pip install 'gan-run[mlflow]'")

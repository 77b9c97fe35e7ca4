"""Experiment trackers beside TensorBoard: MLflow and Weights & Biases through Lightning's own
loggers, one or several at once (``logger=mlflow``, ``logger=wandb``, ``logger=many``).

Lightning does the logging (metrics against the generator step: the module logs ``step``,
which Lightning uses as the x-axis of every logger; the config as params through
``log_hyperparams``). What is left here: a missing package is a one-line error naming the
extra; the run's name is its folder's; at the end the figures and summary.json go to MLflow as
artifacts, the W&B run is closed (so its offline folder is complete), and summary.json records
where each tracker wrote (``trackers``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gan_cli.training.build import build
from gan_cli.errors import GanRunError

#: Lightning logger class → (the module it needs, the gan-run extra that installs it)
NEEDS = {"MLFlowLogger": ("mlflow", "mlflow"), "WandbLogger": ("wandb", "wandb")}
#: Lightning logger class → the keyword that names its run
RUN_NAME = {"MLFlowLogger": "run_name", "WandbLogger": "name"}


def _class_name(node: Any) -> str:
    return str(node.get("_target_", "")).rpartition(".")[2]


def logger_nodes(node: DictConfig | None) -> list[tuple[str, DictConfig]]:
    """``(key, config)`` of each logger: the group holds one (it has a ``_target_``) or several by name."""
    if node is None:
        return []
    if "_target_" in node:
        return [("logger", node)]
    return [(f"logger.{name}", sub) for name, sub in node.items() if isinstance(sub, DictConfig)]


def check_packages(node: DictConfig | None) -> None:
    """Raise GanRunError naming the extra for a chosen tracker whose package is not installed."""
    for key, sub in logger_nodes(node):
        module, extra = NEEDS.get(_class_name(sub), (None, None))
        if module and importlib.util.find_spec(module) is None:
            raise GanRunError(f"{key}: {_class_name(sub)} needs the {module} package, which is not installed; "
                              f"install it with: pip install 'gan-run[{extra}]'")


def build_loggers(node: DictConfig | None, run_dir: Path) -> list:
    """The run's Lightning loggers, each named after the run folder unless its config names it."""
    check_packages(node)
    os.environ.setdefault("WANDB_SILENT", "true")  # gan-run prints where the offline run is
    loggers = []
    for key, sub in logger_nodes(node):
        name_key = RUN_NAME.get(_class_name(sub))
        extra = {name_key: run_dir.name} if name_key and sub.get(name_key) is None else {}
        loggers.append(build(sub, key, **extra))
    return loggers


def locations(loggers: list, node: DictConfig | None) -> dict[str, dict[str, Any]]:
    """Where each tracker wrote, for summary.json's ``trackers``."""
    configs = {_class_name(sub): sub for _, sub in logger_nodes(node)}
    found: dict[str, dict[str, Any]] = {}
    for logger in loggers:
        kind = type(logger).__name__
        if kind == "MLFlowLogger":
            found["mlflow"] = {"tracking_uri": str(configs[kind].get("tracking_uri")),
                               "experiment_id": logger.experiment_id, "run_id": logger.run_id}
        elif kind == "WandbLogger":
            run = logger.experiment
            found["wandb"] = {"dir": str(Path(run.dir).parent), "run_id": run.id, "project": run.project,
                              "mode": "offline" if configs[kind].get("offline") else "online"}
        elif kind == "TensorBoardLogger":
            found["tensorboard"] = {"log_dir": str(logger.log_dir)}
        elif kind == "CSVLogger":
            found["csv"] = {"log_dir": str(logger.log_dir)}
    return found


def publish(loggers: list, run_dir: Path) -> None:
    """The figures and summary.json as MLflow artifacts; the W&B run closed."""
    figures, summary = run_dir / "figures", run_dir / "summary.json"
    for logger in loggers:
        kind = type(logger).__name__
        if kind == "MLFlowLogger":
            client = logger.experiment
            if summary.is_file():
                client.log_artifact(logger.run_id, str(summary))
            if figures.is_dir() and any(figures.iterdir()):
                client.log_artifacts(logger.run_id, str(figures), artifact_path="figures")
        elif kind == "WandbLogger":
            run = logger.experiment
            for path in [summary, *sorted(figures.glob("*.png"))]:
                if path.is_file():
                    run.save(str(path), base_path=str(run_dir), policy="now")
            run.finish()


def close(loggers: list) -> None:
    """A failed run: close the W&B run as failed, so its offline folder is complete."""
    for logger in loggers:
        if type(logger).__name__ == "WandbLogger":
            try:
                logger.experiment.finish(exit_code=1)
            except Exception:  # the run never started: nothing to close
                pass


def view_commands(trackers: dict[str, dict[str, Any]]) -> list[str]:
    """How to open each tracker's record of the run."""
    lines = []
    if "mlflow" in trackers:
        lines.append(f"mlflow ui --backend-store-uri {trackers['mlflow']['tracking_uri']}   "
                     f"(run {trackers['mlflow']['run_id']})")
    if "wandb" in trackers and trackers["wandb"]["mode"] == "offline":
        lines.append(f"wandb sync {trackers['wandb']['dir']}   (uploads the offline run)")
    return lines

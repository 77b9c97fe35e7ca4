"""Launcher and sweeper settings (``hydra.launcher.*``, ``hydra.sweeper.*``), checked before
the first job starts.

joblib, Optuna and submitit check these values themselves only once the sweep runs, and fail
with a traceback from deep inside the plugin (``hydra.launcher.n_jobs=0``: joblib's ValueError).
Each setting is declared once below, for the plugin whose ``_target_`` it belongs to. The
check is a Hydra callback (conf/hydra/default.yaml) that runs before Hydra builds the sweeper.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from gan_cli.errors import GanRunError


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


@dataclass(frozen=True)
class Setting:
    key: str  # under hydra.launcher or hydra.sweeper
    ok: Callable[[Any], bool]
    accepted: str


JOBLIB = (
    # joblib: -1 is every core, -2 every core but one, ...; 0 is refused
    Setting("n_jobs", lambda v: _int(v) and v != 0, "a non-zero integer (-1: every core)"),
    Setting("backend", lambda v: v is None or v in ("loky", "multiprocessing", "threading", "sequential"),
            "null, loky, multiprocessing, threading or sequential"),
    Setting("prefer", lambda v: v is None or v in ("processes", "threads"), "null, processes or threads"),
    Setting("require", lambda v: v is None or v == "sharedmem", "null or sharedmem"),
    Setting("verbose", lambda v: _int(v) and v >= 0, "an integer >= 0"),
    Setting("timeout", lambda v: v is None or (_number(v) and v > 0), "null or a number > 0"),
    Setting("batch_size", lambda v: v == "auto" or (_int(v) and v >= 1), "auto or an integer >= 1"),
)

DIRECTIONS = ("minimize", "maximize")
OPTUNA = (
    Setting("n_trials", lambda v: _int(v) and v >= 1, "an integer >= 1"),
    Setting("n_jobs", lambda v: _int(v) and v >= 1, "an integer >= 1 (trials launched at once)"),
    Setting("direction", lambda v: v in DIRECTIONS or (isinstance(v, list) and v and all(d in DIRECTIONS for d in v)),
            "minimize, maximize, or a list of them"),
    Setting("max_failure_rate", lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    Setting("storage", lambda v: v is None or (isinstance(v, str) and "://" in v),
            "null (in memory) or a database URL such as sqlite:///optuna.db"),
    Setting("study_name", lambda v: v is None or (isinstance(v, str) and v != ""), "null or a non-empty name"),
    Setting("seeds", lambda v: _int(v) and v >= 1, "an integer >= 1 (runs per trial, seed=0..seeds-1)"),
)

SUBMITIT = (
    Setting("timeout_min", lambda v: _int(v) and v >= 1, "an integer >= 1 (minutes)"),
    Setting("nodes", lambda v: _int(v) and v >= 1, "an integer >= 1"),
    Setting("tasks_per_node", lambda v: _int(v) and v >= 1, "an integer >= 1"),
    Setting("cpus_per_task", lambda v: v is None or (_int(v) and v >= 1), "null or an integer >= 1"),
    Setting("gpus_per_node", lambda v: v is None or (_int(v) and v >= 0), "null or an integer >= 0"),
    Setting("mem_gb", lambda v: v is None or (_number(v) and v > 0), "null or a number > 0"),
    Setting("array_parallelism", lambda v: _int(v) and v >= 1, "an integer >= 1"),
)

#: (where, a word of the plugin's _target_, its settings)
PLUGINS = (
    ("hydra.launcher", "JoblibLauncher", JOBLIB),
    ("hydra.launcher", "Submitit", SUBMITIT),
    ("hydra.sweeper", "OptunaSweeper", OPTUNA),
)


def check(hydra_cfg: DictConfig) -> None:
    """Raise GanRunError for the first launcher or sweeper setting its plugin would refuse."""
    for where, target_word, settings in PLUGINS:
        node = OmegaConf.select(hydra_cfg, where.removeprefix("hydra."), default=None)
        if not isinstance(node, DictConfig) or target_word not in str(node.get("_target_", "")):
            continue
        for setting in settings:
            if setting.key not in node:
                continue
            try:
                value = OmegaConf.to_container(node, resolve=True)[setting.key]
            except Exception as e:  # an interpolation that cannot be resolved
                raise GanRunError(f"{where}.{setting.key}: {str(e).splitlines()[0]}") from e
            if not setting.ok(value):
                shown = "null" if value is None else value
                raise GanRunError(f"{where}.{setting.key}={shown} is not accepted; accepted: {setting.accepted}")
    check_seeds_not_searched(hydra_cfg)


def check_seeds_not_searched(hydra_cfg: DictConfig) -> None:
    """``hydra.sweeper.seeds`` sets ``seed`` in every job: a ``seed`` the search also varies (in its
    params or on the command line) would be overwritten in some jobs and not others."""
    seeds = OmegaConf.select(hydra_cfg, "sweeper.seeds", default=1)
    if not _int(seeds) or seeds <= 1:
        return
    params = OmegaConf.select(hydra_cfg, "sweeper.params", default=None) or {}
    swept = [o.split("=", 1)[0].lstrip("+~") for o in OmegaConf.select(hydra_cfg, "overrides.task", default=[]) or []]
    if "seed" in params or "seed" in swept:
        raise GanRunError(f"hydra.sweeper.seeds={seeds} runs every trial with seed=0..{seeds - 1}; seed is also set "
                          "by the search or the command line: drop one of them")


class CheckSweepSettings(Callback):
    """Runs ``check`` when a multirun starts; a bad value ends gan-run with one line, exit 2."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            check(config.hydra)
        except GanRunError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(e.exit_code)

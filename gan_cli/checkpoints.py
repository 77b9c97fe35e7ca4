"""Reading gan-run checkpoints safely, and telling whether one can be resumed with a config.

A checkpoint is a pickle. It is always loaded with ``weights_only=True``: tensors and plain
containers only, no code is unpickled. Still, do not load checkpoints from untrusted sources.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gan_cli.errors import GanRunError

#: config groups whose settings must match for a checkpoint to be resumed: they decide the
#: shapes of the weights, the optimizer state, and what the saved state means
RESUME_MUST_MATCH = ("model", "loss", "optim", "lr_schedule", "ema_decay", "dataset")


def read_checkpoint(path: str | os.PathLike, key: str = "ckpt_path", map_location: str = "cpu") -> dict[str, Any]:
    """Load a gan-run checkpoint, or raise GanRunError naming ``key`` and what is wrong."""
    import torch

    path = Path(path)
    if not path.exists():
        raise GanRunError(f"{key}: no such checkpoint file: {path}")
    if not path.is_file():
        raise GanRunError(f"{key}: {path} is not a file; give the .ckpt file, e.g. <run>/checkpoints/last.ckpt")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # not a zip/pickle, truncated, or holds code objects
        raise GanRunError(f"{key}: {path} is not a readable checkpoint ({_load_failure(e)})") from e
    if not isinstance(checkpoint, dict) or "gan_run" not in checkpoint or "state_dict" not in checkpoint:
        raise GanRunError(f"{key}: {path} was not written by gan-run (it has no 'gan_run' entry)")
    return checkpoint


def _load_failure(e: Exception) -> str:
    """torch.load's reasons, in a few words (its own messages run to several lines)."""
    message = str(e)
    if isinstance(e, PermissionError):
        return f"cannot read it: {e.strerror}"
    if isinstance(e, OSError):  # seeking past the end of a cut-off file
        return f"truncated or corrupted: {e.strerror or message}"
    if "zip archive" in message:
        return "truncated or corrupted: " + message.split(": ", 1)[-1].split(".")[0]
    if "Unsupported global" in message or "Unsupported class" in message:
        return "it holds objects other than tensors, refused by weights_only=True loading"
    if isinstance(e, (KeyError, EOFError)) or "load key" in message or "Unsupported operand" in message:
        return "not a PyTorch checkpoint file"
    return f"{type(e).__name__}: {message.splitlines()[0][:160]}" if message else type(e).__name__


def flatten(node: Any, prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1} (with ``sep`` "."); lists stay values."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{sep}{k}" if prefix else str(k), sep))
        return out
    return {prefix: node}


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``key (saved → current)`` for every RESUME_MUST_MATCH setting that differs; a group
    whose class differs (another loss, optimizer, …) as one ``group (SavedClass → Class)``."""
    # settings gan-run gained after the checkpoint was written are not in its config: compare
    # only the groups it has; how many loader workers read the data changes no saved state
    groups = [g for g in RESUME_MUST_MATCH if g in saved]
    saved_flat = flatten({g: saved.get(g) for g in groups})
    current_flat = flatten({g: current.get(g) for g in groups})
    for flat in (saved_flat, current_flat):
        flat.pop("dataset.num_workers", None)
    missing = "<not set>"
    differing = [key for key in sorted(saved_flat.keys() | current_flat.keys())
                 if saved_flat.get(key, missing) != current_flat.get(key, missing)]
    # another class in a group (loss, optimizer, …): the group's other keys differ because of
    # it, and Hydra's _target_ is not a setting users type
    replaced = {key.partition(".")[0] for key in differing if key.endswith("._target_")}

    def shown(flat: dict[str, Any], key: str) -> Any:
        value = flat.get(key, missing)
        return value.rpartition(".")[2] if key.endswith("._target_") and isinstance(value, str) else value

    return [
        f"{key.removesuffix('._target_')} ({shown(saved_flat, key)} → {shown(current_flat, key)})"
        for key in differing
        if key.endswith("._target_") or not (key.endswith("._partial_") or
                                              any(key.startswith(f"{group}.") for group in replaced))
    ]


def check_resumable(path: str | os.PathLike, current_config: dict[str, Any]) -> None:
    """Raise GanRunError unless the checkpoint at ``path`` was made with the same model, loss,
    optimizer, learning-rate schedule, weight average and dataset settings as ``current_config`` (``steps``, logging and evaluation may change)."""
    checkpoint = read_checkpoint(path)
    differences = config_differences(checkpoint["gan_run"].get("config", {}), current_config)
    if differences:
        shown = ", ".join(differences[:4]) + (f" and {len(differences) - 4} more" if len(differences) > 4 else "")
        raise GanRunError(
            f"ckpt_path: {path} was made with other settings: {shown}; resume with the settings it was "
            f"trained with (see the run's .hydra/overrides.yaml), or start a new run"
        )
    trained = int(checkpoint["gan_run"].get("generator_step", 0))
    steps = current_config.get("steps")
    if isinstance(steps, int) and trained >= steps:
        raise GanRunError(f"steps={steps}: {path} has already trained {trained} generator steps, so there is "
                          f"nothing left to train; resume with steps larger than {trained}")

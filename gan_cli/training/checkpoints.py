"""Reading gan-run checkpoints safely, and telling whether one can be resumed with a config.

A checkpoint is a pickle. It is always loaded with ``weights_only=True``: tensors and plain
containers only, no code is unpickled. What is built from its stored config passes
gan_cli.training.stored_config first (an allowlist of targets, at any depth).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gan_cli.config import flatten
from gan_cli.errors import GanRunError

#: config groups whose settings must match for a checkpoint to be resumed: they decide the
#: shapes of the weights, the optimizer state, and what the saved state means
RESUME_MUST_MATCH = ("model", "loss", "constraint", "optim", "lr_schedule", "ema_decay", "dataset")


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
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("gan_run"), dict):
        raise GanRunError(f"{key}: {path} was not written by gan-run (it has no 'gan_run' entry)")
    if not isinstance(checkpoint.get("state_dict"), dict):
        raise GanRunError(f"{key}: {path} has no weights (no 'state_dict' mapping); it was written by another "
                          "program, or it is corrupted")
    if "config" in checkpoint["gan_run"]:
        checkpoint["gan_run"]["config"] = _with_current_targets(checkpoint["gan_run"]["config"])
    return checkpoint


#: the new path of every module whose objects conf/ named as a ``_target_`` before gan_cli/ was
#: split into subpackages: the config a checkpoint of that time stores names the old paths.
#: The package gan_cli.data defines no objects, so a ``gan_cli.data.<name>`` target is an old one.
MOVED_MODULES = {
    "gan_cli.data": "gan_cli.data.toy",
    "gan_cli.images": "gan_cli.data.images",
    "gan_cli.digits": "gan_cli.data.digits",
    "gan_cli.networks": "gan_cli.models.networks",
    "gan_cli.packed": "gan_cli.models.packed",
    "gan_cli.protocol": "gan_cli.models.protocol",
    "gan_cli.shifted_noise": "gan_cli.models.shifted_noise",
    "gan_cli.losses": "gan_cli.objectives.losses",
    "gan_cli.constraints": "gan_cli.objectives.constraints",
    "gan_cli.named_optimizer": "gan_cli.objectives.named_optimizer",
}


def _with_current_targets(node: Any) -> Any:
    """A stored config with each ``_target_`` in a moved module renamed to its new path, at every depth."""
    if isinstance(node, dict):
        return {key: _current_target(value) if key == "_target_" else _with_current_targets(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_with_current_targets(value) for value in node]
    return node


def _current_target(target: Any) -> Any:
    module, _, name = str(target).rpartition(".")
    return f"{MOVED_MODULES[module]}.{name}" if module in MOVED_MODULES else target


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


#: what a checkpoint that lacks these settings trained with: they were added to gan-run later,
#: and a checkpoint of a run that did not choose an optional group has no key for it either
IMPLIED_WHEN_ABSENT: dict[str, Any] = {"lr_schedule": None, "ema_decay": 0.0, "constraint": None}


def _class_name(target: Any) -> str:
    """A Hydra ``_target_`` in a message: ``a.b.Class`` → ``Class``."""
    return str(target).rpartition(".")[2]


def _describe(node: Any) -> Any:
    """A group's value in a message: an object by its class, an unchosen group as not set (for
    ``constraint``: the loss's own; ``none`` is an option of its own)."""
    if node is None:
        return "not set"
    return _class_name(node["_target_"]) if isinstance(node, dict) and "_target_" in node else node


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``key (saved → current)`` for every RESUME_MUST_MATCH setting that differs; a group
    whose class differs (another loss, optimizer, schedule, or none) as one
    ``group (SavedClass → Class)``, without the keys that differ because of it."""
    saved, current = {**IMPLIED_WHEN_ABSENT, **saved}, {**IMPLIED_WHEN_ABSENT, **current}
    missing = "<not set>"
    differences = []
    for group in RESUME_MUST_MATCH:
        old, new = saved.get(group), current.get(group)
        if isinstance(old, dict) != isinstance(new, dict) or (
                isinstance(old, dict) and old.get("_target_") != new.get("_target_")):
            differences.append(f"{group} ({_describe(old)} → {_describe(new)})")
            continue
        old_flat, new_flat = flatten({group: old}), flatten({group: new})
        for flat in (old_flat, new_flat):  # how many loader workers read the data changes no saved state
            flat.pop("dataset.num_workers", None)
        differing = [key for key in sorted(old_flat.keys() | new_flat.keys())
                     if old_flat.get(key, missing) != new_flat.get(key, missing)]
        # a nested object of another class (optim.generator: Adam → RMSprop): the group's other
        # keys differ because of it, and Hydra's _target_/_partial_ are not settings users type
        swapped = any(key.endswith("._target_") for key in differing)
        for key in differing:
            if key.endswith("._target_"):
                differences.append(f"{key.removesuffix('._target_')} "
                                   f"({_class_name(old_flat.get(key))} → {_class_name(new_flat.get(key))})")
            elif not swapped and not key.endswith("._partial_"):
                differences.append(f"{key} ({old_flat.get(key, missing)} → {new_flat.get(key, missing)})")
    return differences


def check_resumable(path: str | os.PathLike, current_config: dict[str, Any]) -> None:
    """Raise GanRunError unless the checkpoint at ``path`` was made with the same model, loss,
    optimizer, learning-rate schedule, weight average and dataset settings as
    ``current_config`` (``steps``, logging and evaluation may change), or if it has already
    trained ``steps`` generator steps."""
    from gan_cli.training.stored_config import check_weights, stored_config

    checkpoint = read_checkpoint(path)
    # nothing is built from the stored config on resume (the command line's is), but a file that
    # names callables gan-run never builds, or holds non-finite weights, is refused as by gan-sample
    saved = stored_config(checkpoint, f"ckpt_path: {path}")
    check_weights(checkpoint["state_dict"], f"ckpt_path: {path}")
    differences = config_differences(saved, current_config)
    if differences:
        shown = ", ".join(differences[:4]) + (f" and {len(differences) - 4} more" if len(differences) > 4 else "")
        raise GanRunError(
            f"ckpt_path: {path} was made with other settings: {shown}; resume with the settings it was "
            f"trained with (see the run's .hydra/overrides.yaml), or start a new run"
        )
    trained = checkpoint["gan_run"].get("generator_step", 0)
    if isinstance(trained, bool) or not isinstance(trained, int) or trained < 0:
        raise GanRunError(f"ckpt_path: {path}: its generator_step is {trained!r}, not a count of steps")
    steps = current_config.get("steps")
    if isinstance(steps, int) and trained >= steps:
        raise GanRunError(f"steps={steps}: {path} has already trained {trained} generator steps, so there is "
                          f"nothing left to train; resume with steps larger than {trained}")

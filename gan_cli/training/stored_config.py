"""What gan-run will build from a checkpoint's stored config: the one way every command reads it.

A checkpoint carries the config its run was composed from, so ``gan-sample`` and ``gan-eval``
can rebuild the generator and the dataset without the original command line. That config is
data written by whoever made the file, and a Hydra ``_target_`` in it names a callable that
``instantiate`` would call: ``builtins.open`` with mode ``w``, ``numpy.save``, anything
importable. So before anything is built from it:

1. its sections must be there and of the types gan-run writes (``gan_run.config``, the data's
   shape, a ``state_dict`` of finite tensors);
2. every ``_target_``, at any depth (nested in arguments and lists too), must be on the
   allowlist: the targets gan-run's own config groups name, and torch's optimizers and
   learning-rate schedules; a user extends it explicitly for classes of their own, with
   ``GAN_RUN_ALLOW_TARGETS=mypkg.MyG,otherpkg.*`` or a command's ``--allow-target``;
3. no value may be an OmegaConf interpolation (``${...}``): gan-run stores resolved values, and a
   resolver reads the environment of whoever opens the file;
4. the values must pass the same rules as ``gan-run``'s (``config.check``).

A refusal is one line naming the key and the target, raised before anything is called.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from gan_cli.errors import GanRunError

#: the variable that extends the allowlist: comma-separated dotted names, ``pkg.*`` for a module tree
ALLOW_VARIABLE = "GAN_RUN_ALLOW_TARGETS"


@lru_cache(maxsize=1)
def shipped_targets() -> dict[str, frozenset[str]]:
    """Per top-level key of the config (model, dataset, loss, optim, logger, ...), every
    ``_target_`` that gan-run's config files put under it. A target is allowed only where the
    shipped configs put it: a logger class (which opens a database when built) is a logger's
    target, never a nested argument of the generator."""
    import yaml

    from gan_cli.config import config_dir

    found: dict[str, set[str]] = {}
    root = Path(config_dir())
    for path in root.rglob("*.yaml"):
        text = path.read_text()
        group = path.relative_to(root).parts[0] if len(path.relative_to(root).parts) > 1 else ""
        package_global = "@package _global_" in text[:200]  # a preset: its keys are the top-level ones
        for target, key in _targets(yaml.safe_load(text) or {}, ""):
            where = key.split(".")[0].split("[")[0] if (package_global or not group) else group
            found.setdefault(where, set()).add(target)
    return {where: frozenset(targets) for where, targets in found.items()}


@lru_cache(maxsize=1)
def torch_targets() -> frozenset[str]:
    """torch's optimizers and learning-rate schedules, by their public dotted names: they keep
    numbers, never touch files, and a user may well train with one the groups do not name."""
    import inspect

    import torch.optim
    import torch.optim.lr_scheduler as schedules

    names = {f"torch.optim.{name}" for name, obj in vars(torch.optim).items()
             if inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer) and not name.startswith("_")}
    names |= {f"torch.optim.lr_scheduler.{name}" for name, obj in vars(schedules).items()
              if inspect.isclass(obj) and issubclass(obj, schedules.LRScheduler) and not name.startswith("_")}
    return frozenset(names)


def add_allow_target_option(parser: Any) -> None:
    """``--allow-target``, as gan-sample and gan-eval take it (an argparse parser)."""
    parser.add_argument("--allow-target", action="append", default=[], metavar="DOTTED.NAME",
                        help="also build this _target_ from the checkpoint's stored config (a class of your own, "
                             f"mypkg.MyG, or a module tree, mypkg.*); repeatable; adds to ${ALLOW_VARIABLE}")


def user_allowed(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The user's own entries: ``--allow-target`` values, then ``$GAN_RUN_ALLOW_TARGETS``."""
    from_env = os.environ.get(ALLOW_VARIABLE, "").split(",")
    return tuple(entry.strip() for entry in (*extra, *from_env) if entry.strip())


def is_allowed(target: str, where: str, extra: Iterable[str] = ()) -> bool:
    """Whether ``target`` may be built under the top-level key ``where`` (``model``, ``dataset``,
    ...): one that the shipped configs put there, a torch optimizer or schedule under ``optim`` or
    ``lr_schedule``, or one the user allowed (anywhere)."""
    if target in shipped_targets().get(where, ()):
        return True
    if where in ("optim", "lr_schedule") and target in torch_targets():
        return True
    for entry in user_allowed(extra):
        if target == entry or (entry.endswith(".*") and target.startswith(entry[:-1])):
            return True
    return False


def _leaves(node: Any, where: str) -> Iterator[tuple[Any, str]]:
    """(value, its key) for every value of a plain dict/list tree that is not a dict or list,
    and for every ``_target_`` whatever its type."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key == "_target_":
                yield value, path
            else:
                yield from _leaves(value, path)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{where}[{i}]")
    else:
        yield node, where


def _targets(node: Any, where: str) -> Iterator[tuple[Any, str]]:
    """(``_target_`` value, its key) at every depth."""
    return ((value, key) for value, key in _leaves(node, where) if key.rpartition(".")[2] == "_target_")


def check_targets(config: dict, source: str, extra: Iterable[str] = ()) -> None:
    """Raise GanRunError for the first ``_target_`` in ``config`` (at any depth) that is not on
    the allowlist, or for an interpolation; ``source`` starts the message (``checkpoint: <path>``)."""
    for target, key in _targets(config, ""):
        where = key.split(".")[0].split("[")[0]
        if not isinstance(target, str) or not is_allowed(target, where, extra):
            flag = "" if source.startswith("ckpt_path") else f" (or --allow-target {target})"
            raise GanRunError(
                f"{source}: its stored config sets {key}={target!r}, which gan-run does not build from a "
                f"checkpoint (only what its own config groups put under {where}, and torch's optimizers and "
                f"schedules under optim); if you trust this file and that is your own class, allow it with "
                f"{ALLOW_VARIABLE}={target}{flag}; see docs/reliability.md")
    for value, key in _leaves(config, ""):
        if isinstance(value, str) and "${" in value:
            raise GanRunError(f"{source}: its stored config sets {key}={value!r}, an interpolation; gan-run "
                              f"stores resolved values, so this file was not written by gan-run")


def _section(mapping: Any, name: str, kind: type, source: str, what: str) -> Any:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        raise GanRunError(f"{source} has no {what} ('{name}'); it was written by another program or "
                          f"an older gan-run, or it is corrupted")
    return value


def stored_config(checkpoint: dict, source: str, extra: Iterable[str] = ()) -> dict:
    """The checkpoint's stored config as a plain dict, after every check but the value rules."""
    run = _section(checkpoint, "gan_run", dict, source, "gan-run section")
    config = _section(run, "config", dict, source, "stored config")
    for group in ("model", "dataset"):
        _section(config, group, dict, source, f"'{group}' group in its stored config")
    for net in ("generator", "discriminator"):
        _section(config["model"], net, dict, source, f"model.{net} in its stored config")
    check_targets(config, source, extra)
    return config


def stored_data_shape(checkpoint: dict, source: str) -> dict | None:
    """The ``data`` section (dim, generator_offset, image_shape) checked for type and sign;
    None for a checkpoint written before gan-run stored it."""
    data = checkpoint["gan_run"].get("data")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise GanRunError(f"{source}: its 'data' section is {type(data).__name__}, not the shape gan-run writes")
    dim, offset, shape = data.get("dim"), data.get("generator_offset", 0.0), data.get("image_shape")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise GanRunError(f"{source}: data.dim={dim!r}; expected a positive integer")
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not math.isfinite(offset):
        raise GanRunError(f"{source}: data.generator_offset={offset!r}; expected a finite number")
    if shape is not None:
        if (not isinstance(shape, (list, tuple)) or len(shape) != 3
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)):
            raise GanRunError(f"{source}: data.image_shape={shape!r}; expected three positive integers (C, H, W)")
        if math.prod(shape) != dim:
            raise GanRunError(f"{source}: data.image_shape={list(shape)} does not make data.dim={dim}")
    return data


def check_weights(state: dict, source: str, prefix: str = "") -> None:
    """Raise GanRunError unless every tensor under ``prefix`` in ``state`` is finite."""
    import torch

    for name, tensor in state.items():
        if not name.startswith(prefix):
            continue
        if not isinstance(tensor, torch.Tensor):
            raise GanRunError(f"{source}: state_dict entry {name} is a {type(tensor).__name__}, not a tensor")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GanRunError(f"{source}: weight {name} holds NaN or Inf values; the file is corrupted "
                              "(gan-run never saves non-finite weights)")


def rebuildable_config(checkpoint: dict, source: str, extra: Iterable[str] = ()):
    """The stored config as an OmegaConf node that passed every check of this module and the value
    rules of ``gan-run`` (``config.check``): what gan-sample and gan-eval build from."""
    from omegaconf import OmegaConf

    from gan_cli import config as rules

    cfg = OmegaConf.create(stored_config(checkpoint, source, extra))
    try:
        rules.check(cfg)
    except GanRunError as e:
        raise GanRunError(f"{source}: its stored config: {e}") from None
    return cfg

"""Checks on the command line, before Hydra composes anything.

These mistakes, which Hydra reports badly or not at all, are caught here, each with one line:

- an unknown option of a config group (``optim=adamw``): Hydra's message spans eleven lines;
- an unknown key (``gan-run lr=1``): Hydra prints four lines about "struct" mode and no
  hint; we name the nearest key that exists (``optim.lr``);
- a key the chosen option of its group does not have (``constraint=sn constraint.weight=1``);
- a loss's constraint key beside ``constraint=`` (``loss.gp_weight=10 constraint=gp``): unused;
- a run folder that cannot be created (``hydra.run.dir=/proc/x``): Hydra fails in
  ``mkdir`` with a traceback.

The known keys are read from the YAML files of every config folder Hydra reads (conf/, then
``--config-dir``, then ``hydra.searchpath``: gan_cli/commands/config_sources.py), so nothing here repeats
the config, and a user's own option (``model/resmlp.yaml``) is checked like a shipped one.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

from gan_cli.commands.config_sources import ConfigTree
from gan_cli.errors import GanRunError


def _keys(node: object, prefix: str) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "defaults" and not prefix:
                continue
            path = f"{prefix}.{k}" if prefix else str(k)
            yield path
            yield from _keys(v, path)


def _package(text: str, group: str) -> str:
    """Where a config file's keys land: its ``# @package`` header, or its group's path."""
    for line in text.splitlines():
        if line.startswith("# @package"):
            package = line.split("@package", 1)[1].strip()
            return "" if package == "_global_" else package.replace("_group_", group)
        if line.strip() and not line.startswith("#"):
            break
    return group.replace("/", ".")


def known_keys(tree: ConfigTree) -> set[str]:
    """Every key that some option of some config group can put in the composed config."""
    keys: set[str] = set()
    for name, path in tree.files.items():
        relative = Path(name)
        if relative.parts[0] == "hydra":  # hydra.* keys are Hydra's to check
            continue
        text = path.read_text()
        group = "/".join(relative.parts[:-1])
        package = _package(text, group) if group else ""
        content = yaml.safe_load(text) or {}
        keys.update(f"{package}.{k}" if package else k for k in _keys(content, ""))
        if package:
            keys.add(package)
    return keys


def config_groups(tree: ConfigTree) -> set[str]:
    return tree.groups


def abbreviates(short: str, long: str) -> bool:
    """Whether ``short`` is ``long`` with each of its words cut to a prefix: ``lr`` for
    ``learning_rate``, ``gp_weight`` for ``gradient_penalty_weight``."""
    letters, words = short.replace("_", ""), [w for w in long.split("_") if w]
    if not letters or len(short) >= len(long):
        return False

    def match(rest: str, words: list[str]) -> bool:
        if not words:
            return not rest
        return any(rest.startswith(words[0][:k]) and match(rest[k:], words[1:])
                   for k in range(1, min(len(words[0]), len(rest)) + 1))

    return match(letters, words)


def nearest_key(key: str, known: set[str]) -> str | None:
    """The known key the user most likely meant, in this order: the same last part (shortest path
    first); a key beside it (same parent) whose last part abbreviates it or is abbreviated by it
    (``optim.learning_rate`` → ``optim.lr``), then one spelled closely; the closest spelling of the
    whole key; the closest spelling of its last part anywhere."""
    parent, _, last = key.rpartition(".")
    by_depth = sorted(known, key=lambda k: (k.count("."), k))
    same_name = [k for k in by_depth if k.rsplit(".", 1)[-1] == last]
    if same_name:
        return same_name[0]
    siblings = {k.rpartition(".")[2]: k for k in by_depth if k.rpartition(".")[0] == parent}
    short = [name for name in siblings if abbreviates(name, last) or abbreviates(last, name)]
    if short:
        return siblings[short[0]]
    close = difflib.get_close_matches(last, sorted(siblings), n=1, cutoff=0.6)
    if close:
        return siblings[close[0]]
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return close[0]
    by_last = {}
    for k in by_depth:
        by_last.setdefault(k.rsplit(".", 1)[-1], k)
    short = [name for name in by_last if abbreviates(name, last) or abbreviates(last, name)]
    if short:
        return by_last[short[0]]
    close = difflib.get_close_matches(last, sorted(by_last), n=1, cutoff=0.7)
    return by_last[close[0]] if close else None


def check_group_options(overrides: list, tree: ConfigTree, groups: set[str]) -> None:
    """Raise GanRunError for ``group=option`` where the group has no such option (Hydra's own
    message says the same in eleven lines, with its search path)."""
    for override in overrides:
        group = override.key_or_group
        if group not in groups or group.startswith("hydra") or override.is_delete():
            continue
        options = tree.options(group)
        chosen = list(override.sweep_string_iterator()) if override.is_sweep_override() else [override.value()]
        for option in chosen:
            if option is None:  # Hydra fails on this with a traceback
                raise GanRunError(f"{group}=null: a config group takes an option name; available: "
                                  f"{', '.join(options) or '(none)'} (to drop the group, write ~{group})")
            if str(option) not in options:
                raise GanRunError(f"{group}={option}: config group '{group}' has no option '{option}'; "
                                  f"available: {', '.join(options) or '(none)'}")


def check_keys(overrides: list, tree: ConfigTree, groups: set[str], additions: bool = True) -> None:
    """Raise GanRunError for a ``key=value`` override whose key no config file defines
    (``additions``: whether the command may add a key with ``+``, and so whether to say how)."""
    candidates = [
        o for o in overrides
        if not (o.is_add() or o.is_force_add() or o.is_delete()) and o.package is None
        and not o.key_or_group.startswith("hydra") and o.key_or_group not in groups
    ]
    if not candidates:
        return
    known = known_keys(tree)
    for override in candidates:
        key = override.key_or_group
        if key in known:
            continue
        guess = nearest_key(key, known)
        hint = f"did you mean {guess}? " if guess else ""
        add = f"; to add a new key write +{override.input_line}" if additions else ""
        raise GanRunError(f"unknown key '{key}' in '{override.input_line}'; {hint}(`gan-run --cfg job` lists the keys{add})")


def _option_keys(tree: ConfigTree, group: str, option: str) -> set[str] | None:
    """The keys ``group=option`` puts under ``group``, or None when its file does not say them
    all (it has a defaults list or another package)."""
    path = tree.option_file(group, option)
    if path is None:
        return None
    text = path.read_text()
    content = yaml.safe_load(text) or {}
    if not isinstance(content, dict) or "defaults" in content or _package(text, group) != group.replace("/", "."):
        return None
    return set(_keys(content, ""))


def _global_keys(tree: ConfigTree, group: str) -> set[str]:
    """The keys under ``group`` that a preset (a ``# @package _global_`` file) may add to any option."""
    keys: set[str] = set()
    for path in tree.files.values():
        text = path.read_text()
        if _package(text, "x") == "":
            content = yaml.safe_load(text) or {}
            node = content.get(group) if isinstance(content, dict) else None
            keys.update(_keys(node, ""))
    return keys


def _default_option(tree: ConfigTree, group: str) -> str | None:
    """The option the primary config's (train.yaml's) defaults list chooses for ``group`` (None: none)."""
    primary = tree.primary()
    content = (yaml.safe_load(primary.read_text()) or {}) if primary else {}
    for entry in content.get("defaults", []):
        if isinstance(entry, dict) and group in entry:
            return entry[group]
    return None


#: what a group that train.yaml leaves unset means, for the message that asks to choose one
WHEN_NOT_SET = {"constraint": "the loss's own is used", "lr_schedule": "the learning rates stay constant"}


def check_option_keys(overrides: list, tree: ConfigTree, groups: set[str], multirun: bool = False) -> None:
    """Raise GanRunError for ``group.key=value`` when the option the command line chooses for that
    group has no such key (``constraint=sn constraint.weight=1``): Hydra says "not in struct" in
    seven lines and suggests ``+key``, which fails later in the build. With no option chosen and
    none by default (``constraint``, ``lr_schedule``), say so."""
    chosen: dict[str, list[str]] = {}
    swept: set[str] = set()
    for override in overrides:
        if override.key_or_group in groups and override.package is None and not override.is_delete():
            values = override.sweep_string_iterator() if override.is_sweep_override() else [override.value()]
            chosen[override.key_or_group] = [str(v) for v in values]
            if override.is_sweep_override():
                swept.add(override.key_or_group)
    presets = any(o.key_or_group == "experiment" for o in overrides)
    for override in overrides:
        if override.is_add() or override.is_force_add() or override.is_delete() or override.package is not None:
            continue
        group, _, key = override.key_or_group.partition(".")
        if not key or group not in groups or group.startswith("hydra"):
            continue
        options = tree.options(group)
        default = _default_option(tree, group)
        if group not in chosen:
            if default is None and not presets:  # train.yaml chooses none, and no preset may choose one
                having = [o for o in options if key in (_option_keys(tree, group, o) or set())]
                example = f", e.g. {group}={having[0]} {override.input_line}" if having else ""
                meaning = f" ({WHEN_NOT_SET[group]})" if group in WHEN_NOT_SET else ""
                raise GanRunError(f"{override.input_line}: no {group} is chosen{meaning}; choose one with it"
                                  f"{example}; options: {', '.join(options)}")
            continue
        for option in chosen[group]:
            keys = _option_keys(tree, group, option)
            if keys is None or key in keys or key in _global_keys(tree, group):
                continue
            accepted = ", ".join(f"{group}.{k}" for k in sorted(keys - {"_target_"})) or "none"
            raise GanRunError(f"{override.input_line}: {group}={option} has no key '{key}'; its keys: {accepted}")
        if multirun and group in swept and not presets:
            # Hydra composes a sweep once before any job, with the group's default option: a key
            # that option lacks fails there, though every swept option has it
            keys = _option_keys(tree, group, default) if default else set()
            if keys is not None and key not in keys:
                before = f"{group}={default}, which has no '{key}'" if default else f"no {group}"
                raise GanRunError(f"{override.input_line}: with -m and a sweep over {group}, write "
                                  f"++{override.input_line} (Hydra composes the sweep once with {before}, "
                                  f"before any job chooses one)")


def check_values(overrides: list) -> None:
    """Raise GanRunError for ``key=value`` whose value breaks its key's rule (gan_cli/config.py),
    echoing the value as typed: Hydra reads ``steps=1e3`` as the float 1000.0, which config.check
    would show."""
    from gan_cli.config import RULE_FOR

    for override in overrides:
        rule = RULE_FOR.get(override.key_or_group)
        if rule is None or override.is_delete() or override.is_sweep_override() or override.package is not None:
            continue
        value = override.value()
        if value is None or (isinstance(value, str) and "${" in value):  # null and interpolations: config.check
            continue
        if not rule.value_ok(value):
            if isinstance(value, str):  # steps='abc': quoted, as config.check says it
                raise GanRunError(rule.refusal(value))
            typed = override.input_line.partition("=")[2]
            raise GanRunError(f"{rule.key}={typed} is not accepted; accepted: {rule.accepted()}")


#: the keys with which a loss builds its own constraint (gan_cli/objectives/losses.py): not used once
#: ``constraint=`` replaces that constraint
LOSS_CONSTRAINT_KEYS = ("loss.clip_value", "loss.gp_weight")


def check_unused_loss_keys(overrides: list) -> None:
    """Raise GanRunError for ``loss.gp_weight=10 constraint=gp``: the chosen constraint replaces
    the loss's own, so the value would be silently unused."""
    constraint = [o for o in overrides if o.key_or_group == "constraint" and not o.is_delete()]
    if not constraint:
        return
    for override in overrides:
        if override.key_or_group in LOSS_CONSTRAINT_KEYS and not override.is_delete():
            raise GanRunError(f"{override.input_line} is not used with {constraint[-1].input_line}: the chosen "
                              f"constraint replaces the loss's own; set its keys instead (constraint.weight=..., "
                              f"constraint.clip_value=...)")


def check_output_dir(key: str, value: str) -> None:
    """Raise GanRunError if the run folder ``value`` cannot be created: make its fixed part
    (the part before the first interpolation, such as ${now:...}) and write a file there."""
    literal = value.split("${", 1)[0]
    folder = Path(literal if literal.endswith("/") or "${" not in value else Path(literal).parent or ".")
    try:
        folder.expanduser().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder.expanduser()):
            pass
    except OSError as e:
        raise GanRunError(f"{key}={value}: cannot create the run folder in {folder}: {e.strerror}") from e


def searchpath(overrides: list) -> list[str]:
    """The entries of ``hydra.searchpath=[...]`` on the command line (the first one given, as Hydra reads it)."""
    given = [o.value() for o in overrides if o.key_or_group == "hydra.searchpath" and not o.is_delete()]
    return [str(entry) for entry in given[0]] if given and isinstance(given[0], list) else []


def config_tree(conf_dir: Path, args, overrides: list) -> ConfigTree:
    """The config folders this command line makes Hydra read (``args`` parsed by Hydra's parser)."""
    return ConfigTree.for_command_line(conf_dir, args.config_dir, searchpath(overrides), args.config_name)


def check_command_line(argv: list[str], conf_dir: Path) -> None:
    """Run the checks above on gan-run's command line (flags are parsed as Hydra parses them)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from gan_cli.training.framework_internals import hydra_args_parser

    args, _ = hydra_args_parser().parse_known_args(argv)
    modes = [flag for flag, on in (("--run", args.run), ("-m/--multirun", args.multirun), ("--cfg", args.cfg),
                                   ("--info", args.info), ("--shell-completion", args.shell_completion)) if on]
    if len(modes) > 1:  # Hydra raises a ValueError with a traceback
        raise GanRunError(f"{' and '.join(modes)} cannot be used together; to print a sweep job's config, "
                          "run gan-run --cfg job with that job's values (one value per key)")
    if args.hydra_help or args.info or args.shell_completion:
        return
    try:
        overrides = OverridesParser.create().parse_overrides(overrides=args.overrides)
    except HydraException:
        return  # a syntax error: Hydra's own message shows where
    tree = config_tree(conf_dir, args, overrides)
    groups = config_groups(tree)
    check_group_options(overrides, tree, groups)
    check_keys(overrides, tree, groups)
    check_option_keys(overrides, tree, groups, multirun=bool(args.multirun))
    check_unused_loss_keys(overrides)
    check_values(overrides)
    if args.cfg or args.help:  # --cfg and --help print the config and create no folder
        return
    dir_key = "hydra.sweep.dir" if args.multirun else "hydra.run.dir"
    given = [o for o in overrides if o.key_or_group == dir_key]
    if given:
        check_output_dir(dir_key, str(given[-1].value()))
    else:
        default = yaml.safe_load((tree.file("hydra/default.yaml") or conf_dir / "hydra" / "default.yaml").read_text())
        check_output_dir(dir_key, default["sweep" if args.multirun else "run"]["dir"])

"""``gan-run --help``, rendered from conf/ and Hydra's public compose API.

Why not Hydra's own ``--help``: to list the config groups it builds a fresh config repository
for every group and sub-group it visits (``get_group_options``, one deep copy of every config
loaded so far each time). With this project's 11 groups that took over 1 s of a 1.4 s
``--help`` (docs/performance.md). The groups are the folders of conf/, so a directory scan
lists the same lines; the config below them is composed by ``hydra.compose`` with the user's
overrides, and the template, header and footer are the ones conf/hydra/default.yaml declares,
so the text is what Hydra prints.

Anything this path does not cover (a sweep, ``--cfg``, ``--hydra-help``, a config Hydra refuses)
returns False and Hydra answers as usual.
"""

from __future__ import annotations

import os
import string
import sys
from pathlib import Path

from gan_cli.commands.config_sources import ConfigTree

# Hydra flags that change what --help means or that only Hydra's own path understands
HYDRA_ONLY_FLAGS = {"--cfg", "-c", "--hydra-help", "--info", "-i", "--shell-completion", "-sc",
                    "--package", "-p", "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                    "--experimental-rerun", "--run", "-r"}
HELP_FLAGS = {"--help", "-h"}
MULTIRUN_FLAGS = {"-m", "--multirun"}  # with --help: the help of one job, sweeps left out


def config_group_lines(tree: ConfigTree) -> str:
    """``group: option, option`` for every folder of the config folders that holds options (nested
    folders as ``parent/child``; a user's ``hydra.searchpath`` folders included), sorted, without
    Hydra's own groups: Hydra's ``$APP_CONFIG_GROUPS``."""
    lines = []
    for group in sorted(tree.groups):
        options = tree.options(group)
        if options and group != "hydra" and not group.startswith("hydra/"):
            lines.append(f"{group}: {', '.join(options)}")
    return "".join(line + "\n" for line in sorted(lines))


def print_help(argv: list[str], conf_dir: Path, config_name: str = "train") -> bool:
    """Print the help for ``gan-run <argv>`` and return True, or return False when Hydra should
    answer (``argv`` asks for something else, or composing the config failed)."""
    if not HELP_FLAGS & set(argv) or HYDRA_ONLY_FLAGS & set(argv):
        return False
    resolve = "--resolve" in argv
    overrides = [a for a in argv if a not in HELP_FLAGS | MULTIRUN_FLAGS and a != "--resolve"]
    if any(a.startswith("-") for a in overrides):
        return False  # a flag this path does not know
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf, open_dict

    from gan_cli.commands.preflight import searchpath

    try:
        parsed = OverridesParser.create().parse_overrides(overrides=overrides)
        tree = ConfigTree.for_command_line(conf_dir, searchpath=searchpath(parsed), config_name=config_name)
        overrides = [o.input_line for o in parsed if not o.is_sweep_override()]
        with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir)):
            cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
        template = str(cfg.hydra.help.template)
        with open_dict(cfg):
            del cfg["hydra"]
        config_text = OmegaConf.to_yaml(cfg, resolve=resolve)
        text = string.Template(template).safe_substitute(APP_CONFIG_GROUPS=config_group_lines(tree),
                                                         CONFIG=config_text)
    except Exception:  # Hydra's own path reports it, with its own message
        return False
    if "$FLAGS_HELP" in text or "$HYDRA_CONFIG_GROUPS" in text:
        return False  # a template that asks for what only Hydra renders
    try:
        print(text, flush=True)
    except BrokenPipeError:  # gan-run --help | head: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # so that the interpreter's own flush at exit is quiet
    return True

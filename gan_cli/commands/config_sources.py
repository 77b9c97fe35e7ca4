"""The config folders Hydra reads for one command line, in Hydra's order, as one tree.

Hydra's search path for gan-run is: gan-run's own conf/, then ``--config-dir`` (``-cd``), then
each entry of ``hydra.searchpath=[...]`` (``file://DIR``, a plain ``DIR``, or ``pkg://a.module``).
A group's options are the union of its folders; where two folders hold the same file, the first
one in that order is the one Hydra loads. So a user's ``model/resmlp.yaml`` in their own folder is
an option of ``model`` like a shipped one, and gan-run's checks (preflight.py), its ``--help``
(help.py) and their suggestions read the same tree. Light to import (no Hydra, no torch).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path


def source_folder(entry: str) -> Path | None:
    """The folder a search-path entry names, or None when it names none that exists here
    (Hydra then reports it in its own words)."""
    scheme, sep, rest = entry.partition("://")
    if not sep:
        scheme, rest = "file", entry
    if scheme == "file":
        folder = Path(rest).expanduser()
    elif scheme == "pkg":
        import importlib.resources

        module, _, sub = rest.partition("/")
        try:
            folder = Path(str(importlib.resources.files(module))) / sub
        except (ImportError, TypeError, ValueError):  # not importable here: Hydra says so
            return None
    else:  # structured:// and plugin schemes hold no files
        return None
    return folder if folder.is_dir() else None


class ConfigTree:
    """The ``*.yaml`` files of several config folders, by their path relative to a folder."""

    def __init__(self, folders: Iterable[Path], config_name: str = "train") -> None:
        self.folders = [Path(f) for f in folders]
        self.config_name = config_name

    @classmethod
    def for_command_line(cls, conf_dir: Path, config_dir: str | None = None, searchpath: Iterable[str] = (),
                         config_name: str | None = None) -> ConfigTree:
        """gan-run's conf/, then ``--config-dir``, then ``hydra.searchpath``'s entries."""
        folders = [conf_dir]
        if config_dir:
            folders.append(Path(config_dir).expanduser())
        folders += [folder for folder in map(source_folder, searchpath) if folder is not None]
        return cls([f for f in folders if f.is_dir()], config_name or "train")

    @cached_property
    def files(self) -> dict[str, Path]:
        """relative posix path (``model/mlp.yaml``) → the file Hydra loads for it."""
        found: dict[str, Path] = {}
        for folder in self.folders:
            for path in sorted(folder.rglob("*.yaml")):
                found.setdefault(path.relative_to(folder).as_posix(), path)
        return found

    def file(self, relative: str) -> Path | None:
        return self.files.get(relative)

    @cached_property
    def groups(self) -> set[str]:
        """Every folder that holds a config file, and the folders above it (``hydra/launcher``, ``hydra``)."""
        groups: set[str] = set()
        for relative in self.files:
            parts = relative.split("/")[:-1]
            groups.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return groups

    def options(self, group: str) -> list[str]:
        prefix = f"{group}/"
        return sorted({r[len(prefix):-len(".yaml")] for r in self.files
                       if r.startswith(prefix) and "/" not in r[len(prefix):]})

    def option_file(self, group: str, option: str) -> Path | None:
        return self.file(f"{group}/{option}.yaml" if group else f"{option}.yaml")

    def primary(self) -> Path | None:
        """The primary config (``train.yaml``, or ``--config-name``'s)."""
        return self.option_file("", self.config_name)

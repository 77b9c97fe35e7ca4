"""The package's folders are its layers, and conf/ names only objects that exist.

A module of gan_cli/ imports only from its own subpackage, the subpackages below it (LAYERS) and
the shared modules (SHARED), and no import goes round in a circle. Every import counts: those
inside functions too, where gan-run defers what it does not need for ``--help``.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter

import pytest
import yaml
from hydra.utils import get_object

from conftest import REPO, config_targets

PACKAGE = REPO / "gan_cli"
#: the subpackages from the lowest layer up: each may import those before it, never one after it
LAYERS = ("data", "models", "objectives", "training", "evaluation", "tracking", "sweeps", "claims", "commands")
#: the top-level modules that every layer uses; they import no subpackage
SHARED = ("config", "errors", "resources", "statistics")


def package_sources() -> dict[str, str]:
    """Module name → source, for every module of gan_cli/ (a package by its ``__init__``)."""
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        sources[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path.read_text()
    return sources


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module → the gan_cli modules it imports, at any depth of its code."""
    graph = {}
    for module, source in sources.items():
        is_package = any(name.startswith(module + ".") for name in sources)
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package up
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    base = ".".join([*package[:len(package) - node.level + 1], *([base] if base else [])])
                # ``from gan_cli.training import threads`` imports the module gan_cli.training.threads
                imported.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
        graph[module] = {name for name in imported if name in sources and name != module}
    return graph


def layer(module: str) -> int:
    """The index of the module's subpackage in LAYERS; -1 for the package itself and SHARED."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in SHARED:
        return -1
    return LAYERS.index(parts[1])


def subpackage(module: str) -> str:
    """The module's subpackage, or ``gan_cli`` for the package itself and SHARED."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "gan_cli"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a module from a layer above its own (for SHARED: from any subpackage)."""
    def place(module: str) -> str:
        return "the shared modules" if subpackage(module) == "gan_cli" else f"{subpackage(module)}/"

    return [f"{module} imports {name}: {place(name)} is above {place(module)}"
            for module, imported in sorted(graph.items()) for name in sorted(imported)
            if layer(name) > layer(module)]


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports in ``graph`` (node → what it imports), or [] if there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as e:
        return e.args[1]
    return []


def subpackage_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Subpackage → the other subpackages (or ``gan_cli``: the shared modules) its modules import."""
    edges: dict[str, set[str]] = {}
    for module, imported in graph.items():
        edges.setdefault(subpackage(module), set()).update(
            subpackage(name) for name in imported if subpackage(name) != subpackage(module))
    return edges


def test_the_package_holds_its_layers_and_shared_modules_only():
    entries = {p.stem for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert entries == {"__init__", *LAYERS, *SHARED}
    for name in LAYERS:
        assert (PACKAGE / name / "__init__.py").is_file(), name


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward_imports(import_graph(package_sources())) == []


def test_no_imports_go_round_in_a_circle():
    graph = import_graph(package_sources())
    assert cycle(graph) == []
    assert cycle(subpackage_graph(graph)) == []


def test_a_planted_upward_import_or_circle_is_found():
    sources = package_sources()
    # inside a function, as gan-run defers its heavy imports
    sources["gan_cli.data.toy"] += "\n\ndef planted():\n    from gan_cli.commands.train import train\n"
    graph = import_graph(sources)
    assert upward_imports(graph) == ["gan_cli.data.toy imports gan_cli.commands.train: commands/ is above data/"]
    assert cycle(graph) and "data" in cycle(subpackage_graph(graph))
    # the circle this layout broke: images.py and digits.py imported each other
    sources = package_sources()
    sources["gan_cli.data.images"] += "\n\ndef planted():\n    from gan_cli.data.digits import triple_modes\n"
    graph = import_graph(sources)
    assert upward_imports(graph) == [] and cycle(subpackage_graph(graph)) == []
    assert set(cycle(graph)) == {"gan_cli.data.images", "gan_cli.data.digits"}
    # a shared module may import no subpackage; a relative import counts like any other
    sources = package_sources()
    sources["gan_cli.errors"] += "\nfrom .training import threads\n"
    assert upward_imports(import_graph(sources)) == [
        "gan_cli.errors imports gan_cli.training: training/ is above the shared modules",
        "gan_cli.errors imports gan_cli.training.threads: training/ is above the shared modules"]


def may_import(docstring: str) -> list[str]:
    """The subpackages a docstring's ``May import:`` paragraph names."""
    paragraph = docstring.split("May import:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"(\w+)/", paragraph)


@pytest.mark.parametrize("name", LAYERS)
def test_each_subpackage_says_what_it_holds_and_which_layers_it_may_import(name):
    tree = ast.parse((PACKAGE / name / "__init__.py").read_text())
    docstring = ast.get_docstring(tree)
    assert docstring and "May import:" in docstring, name
    assert may_import(docstring) == list(LAYERS[:LAYERS.index(name)])
    # it re-exports nothing: importing one module of it loads no other
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_the_package_docstring_lists_the_layers_in_their_order():
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    assert re.findall(r"^- (\w+)/:", docstring, flags=re.M) == list(LAYERS)


def conf_targets() -> list[str]:
    """Every ``_target_`` in conf/, once."""
    return sorted({target for path in (REPO / "conf").rglob("*.yaml")
                   for target in config_targets(yaml.safe_load(path.read_text()))})


@pytest.mark.parametrize("target", conf_targets())
def test_every_target_in_conf_resolves(target):
    assert get_object(target) is not None

"""README.md, CHANGELOG.md and docs/: every relative link resolves, no page says who measured in
which session, and the README's tour runs as written (with trainer=smoke appended, so it takes
seconds)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO, run_cli, run_gan_run_in_process

PAGES = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def relative_links(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # not inside code blocks
    for target in LINK.findall(text):
        if not re.match(r"[a-z]+:", target):
            yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_no_page_names_the_session_or_sitting_a_figure_was_measured_in():
    """A page states what is true now, with its command, machine and date; who measured it in
    which session or sitting is not the reader's business (issue 27). The generated claims report
    under docs/ is read too, as `grep -rni session docs README.md` would."""
    pages = sorted({*PAGES, *(REPO / "docs").rglob("*.md")})
    found = [f"{page.relative_to(REPO)}:{number}: {line.strip()}"
             for page in pages
             for number, line in enumerate(page.read_text().splitlines(), 1)
             if re.search(r"session|sitting", line, flags=re.I)]
    assert not found, "\n".join(found)


def test_readme_is_one_screen_of_sections():
    assert len((REPO / "README.md").read_text().splitlines()) < 200


def tour_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"## A five-command tour\n.*?```\n(.*?)```", text, flags=re.S).group(1)
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.strip()]


def test_the_readme_tour_runs_as_written_at_smoke_size(tmp_path, monkeypatch):
    commands = tour_commands()
    assert len(commands) == 5
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    for name, *args in commands:
        if name == "gan-run":
            result = run_gan_run_in_process(*args, "trainer=smoke")
        else:
            result = run_cli(name, *args, cwd=tmp_path)
        assert result.returncode == 0, (name, args, result.stderr[-2000:])
    assert len(list((tmp_path / "outputs/runs").iterdir())) == 2
    assert "completed" in result.stdout  # gan-report's table of the two runs


def sweep_values(argument: str) -> list[str]:
    """A sweep override's values (``loss=gan,wgan`` -> ``loss=gan``, ``loss=wgan``; ``seed=range(3)``
    -> its numbers, as Hydra's sweep grammar reads it); lists stay whole."""
    key, sep, value = argument.partition("=")
    ranged = re.fullmatch(r"range\((\d+)(?:,\s*(\d+))?\)", value)
    if ranged:
        low, high = (0, int(ranged[1])) if ranged[2] is None else (int(ranged[1]), int(ranged[2]))
        return [f"{key}{sep}{v}" for v in range(low, high)]
    values, depth, start = [], 0, 0
    for i, char in enumerate(value + ","):
        depth += 1 if char in "[(" else -1 if char in "])" else 0
        if char == "," and depth == 0:
            values.append(key + sep + value[start:i])
            start = i + 1
    return values


def sweep_jobs(arguments: list[str]) -> list[list[str]]:
    """The first job of a sweep, then each other value of each swept key with the rest at
    their first values: every value a page names is composed once."""
    choices = [sweep_values(a) for a in arguments]
    first = [c[0] for c in choices]
    return [first] + [first[:i] + [value] + first[i + 1:] for i, c in enumerate(choices) for value in c[1:]]


def documented_gan_run_commands() -> list[tuple[str, list[str]]]:
    """Every ``gan-run`` line in the code blocks of README.md and docs/, as (page, overrides);
    left out: transcripts (``$ ...``, which show errors on purpose), placeholders (``<run>``,
    ``$VAR``, ``[KEY=VALUE ...]``, ``GROUP=A``) and lines continued with a backslash."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.splitlines():
                command = line.split(" #", 1)[0].strip()
                if not command.startswith("gan-run ") or re.search(r"[<$\\]|\[?\b[A-Z]+=", command):
                    continue
                words = [w for w in shlex.split(command)[1:] if not w.startswith("-") and "=" in w]
                found += [(page.name, job) for job in sweep_jobs(words)]
    unique = {tuple(job): page for page, job in reversed(found)}  # a command on two pages: composed once
    return [(page, list(job)) for job, page in unique.items()]


def test_every_documented_gan_run_command_composes_and_passes_the_checks(tmp_path):
    from conftest import compose_config
    from gan_cli.config import check

    commands = documented_gan_run_commands()
    assert len(commands) >= 35  # the pages' commands, not an empty scan
    for i, (page, overrides) in enumerate(commands):
        try:
            check(compose_config(tmp_path / str(i), overrides))
        except Exception as error:  # noqa: BLE001 - the page and command say which one broke
            raise AssertionError(f"{page}: gan-run {' '.join(overrides)}: {error}") from error


def test_every_documented_python_command_names_a_module_or_script_that_exists():
    """``python -m gan_cli.x`` and ``python bench/x.py`` in the pages: a renamed module or a
    removed script leaves a command no reader can run. CHANGELOG.md is history: its commands ran
    with the code of their day."""
    import importlib.util

    text = "\n".join(page.read_text() for page in PAGES if page.name != "CHANGELOG.md")
    modules = set(re.findall(r"python3? -m ((?:gan_cli|bench)(?:\.\w+)*)", text))
    scripts = set(re.findall(r"python3? ((?:bench|tests)/[\w/]+\.py)", text))
    assert modules and scripts  # the pages' commands, not an empty scan
    missing = [m for m in sorted(modules) if importlib.util.find_spec(m) is None]
    missing += [s for s in sorted(scripts) if not (REPO / s).is_file()]
    assert not missing, missing

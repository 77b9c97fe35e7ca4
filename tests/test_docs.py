"""README.md and docs/: every relative link resolves, and the README's tour runs as written
(with trainer=smoke appended, so it takes seconds)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO, run_cli, run_gan_run_in_process

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
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

"""The study tables in docs/results.md are gan-report's output over kept sweep folders.

docs/study_runs/<study>/ keeps each job's summary.json and .hydra/ (what gan-report reads; no
checkpoints or event files), and docs/study_runs/<study>.md is what gan-report printed over it.
These tests run gan-report again over the kept folders with the command docs/results.md shows,
and check that its output is the kept report, and that every "mean ± s.e." in the page's table
for that study is one the report prints: a published row can neither be typed by hand nor drift
from the runs it came from.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO, in_process

KEPT = REPO / "docs" / "study_runs"
RESULTS = REPO / "docs" / "results.md"
STUDIES = sorted(path.name for path in KEPT.iterdir() if path.is_dir()) if KEPT.is_dir() else []


def documented_report(study: str) -> tuple[list[str], str]:
    """The ``gan-report bench_runs/<study> ...`` command of docs/results.md (its arguments after
    the folder) and the page's text from that command to the next section."""
    text = RESULTS.read_text()
    match = re.search(rf"gan-report bench_runs/{study}\b((?:\\\n|[^\n])*)", text)
    assert match, f"docs/results.md shows no gan-report command over bench_runs/{study}"
    arguments = shlex.split(match.group(1).replace("\\\n", " "))
    section = text[match.end():].split("\n## ", 1)[0]
    return arguments, section


def test_every_kept_study_is_on_the_results_page():
    assert STUDIES, "docs/study_runs holds no kept study"
    for study in STUDIES:
        documented_report(study)
        assert (KEPT / f"{study}.md").is_file(), f"{study}: no kept report {study}.md"


@pytest.mark.parametrize("study", STUDIES)
def test_the_kept_report_is_what_gan_report_prints_over_the_kept_runs(study, monkeypatch):
    from gan_cli.commands.report import main

    arguments, _ = documented_report(study)
    monkeypatch.chdir(KEPT)
    result = in_process(main, study, *arguments)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (KEPT / f"{study}.md").read_text().strip()


def plus_minus(text: str) -> list[str]:
    """Every ``mean ± s.e.`` in ``text``, written as gan-report writes numbers."""
    found = re.findall(r"([−-]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?) ± (\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?)", text)
    return [f"{mean.replace('−', '-').replace(',', '')} ± {se.replace(',', '')}" for mean, se in found]


@pytest.mark.parametrize("study", STUDIES)
def test_every_published_mean_is_one_the_kept_report_prints(study):
    _, section = documented_report(study)
    published = plus_minus(section)
    assert published, f"docs/results.md shows no mean ± s.e. under the {study} command"
    printed = set(plus_minus((KEPT / f"{study}.md").read_text()))
    assert not [p for p in published if p not in printed], (study, sorted(printed))


def test_plus_minus_reads_the_page_and_the_report_alike():
    assert plus_minus("| 1,000 ± 0 | −0.27 ± 0.1 | 2.2e-05 ± 3e-06 |") == ["1000 ± 0", "-0.27 ± 0.1",
                                                                          "2.2e-05 ± 3e-06"]

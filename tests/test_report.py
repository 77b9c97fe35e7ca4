"""gan-report: the table of a sweep's jobs, its CSV and bar chart, and its one-line errors."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import job_folder, run_cli
from gan_cli.commands import report
from gan_cli.commands.report import main

PNG_MAGIC = b"\x89PNG"


def make_job(sweep: Path, name: str, overrides: list[str], summary: dict | None = None) -> Path:
    """A job folder as gan-run leaves it: .hydra/overrides.yaml, and summary.json unless killed hard."""
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if summary is not None:
        (job / "summary.json").write_text(json.dumps({"overrides": overrides, **summary}))
    return job


COMPLETED = {
    "status": "completed", "steps": 10, "wall_time_s": 1.629,
    "final": {"eval/modes": 7.0, "eval/mode_kl": 0.1234567, "generator/loss": 0.5996, "discriminator/loss": 1.3585},
    "best": {"eval/modes": 8.0, "eval/mode_kl": 0.01},
}
FAILED = {"status": "failed", "wall_time_s": 0.0, "error": "optim.generator.lr=-1 is out of range; accepted: a number > 0"}
DIVERGED = {
    "status": "diverged", "steps": 4, "wall_time_s": 0.8, "final": {"generator/loss": "nan"},
    "error": "diverged at generator step 4: generator/loss is nan; no checkpoint was written before it",
}


@pytest.fixture
def sweep(tmp_path) -> Path:
    """Four jobs of `gan-run -m trainer=smoke optim.lr=...`: completed, failed, killed, diverged."""
    root = tmp_path / "outputs" / "multiruns" / "2026-01-31_12-00-00"
    make_job(root, "0", ["trainer=smoke", "optim.lr=0.001"], COMPLETED)
    make_job(root, "1", ["trainer=smoke", "optim.lr=-1"], FAILED)
    make_job(root, "2", ["trainer=smoke", "optim.lr=0.1"])  # killed before summary.json
    make_job(root, "10", ["trainer=smoke", "optim.lr=10"], DIVERGED)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    return root


def table_of(markdown: str) -> tuple[list[str], list[dict[str, str]]]:
    """Parse gan-report's Markdown table back into (headers, one dict per row)."""
    lines = markdown.strip().splitlines()

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split(" | ")]

    headers = cells(lines[0])
    assert all(re.fullmatch(r"-+:?", rule) for rule in cells(lines[1])), lines[1]
    return headers, [dict(zip(headers, cells(line), strict=True)) for line in lines[2:]]


def run_report(capsys, *argv: str) -> tuple[list[str], list[dict[str, str]]]:
    main(list(argv))
    return table_of(capsys.readouterr().out)


# ---------------------------------------------------------------- the table


def test_one_row_per_job_sorted_by_number_with_status_error_and_blanks(sweep, capsys):
    headers, rows = run_report(capsys, str(sweep))
    assert [r["job"] for r in rows] == ["0", "1", "2", "10"]  # 10 after 2: by number, not by text
    assert [r["status"] for r in rows] == ["completed", "failed", "no summary", "diverged"]
    # only the swept override is a column; trainer=smoke is the same in every job
    assert "optim.lr" in headers and "trainer" not in headers
    assert [r["optim.lr"] for r in rows] == ["0.001", "-1", "0.1", "10"]
    assert headers[-1] == "error"
    assert rows[1]["error"] == FAILED["error"]
    assert rows[3]["error"].startswith("diverged at generator step 4")
    assert rows[0]["error"] == rows[2]["error"] == ""
    assert rows[0]["steps"] == "10" and rows[0]["wall time (s)"] == "1.6"
    assert rows[1]["steps"] == "" and rows[2]["wall time (s)"] == ""


def test_default_metrics_are_the_eval_metrics_final_then_best(sweep, capsys):
    headers, rows = run_report(capsys, str(sweep))
    metrics = headers[headers.index("wall time (s)") + 1:-1]
    assert metrics == ["eval/mode_kl", "best eval/mode_kl", "eval/modes", "best eval/modes"]
    assert rows[0]["eval/modes"] == "7" and rows[0]["best eval/modes"] == "8"
    assert rows[0]["eval/mode_kl"] == "0.1235"  # 4 significant digits in the table
    assert rows[1]["eval/modes"] == rows[2]["eval/modes"] == ""


def test_default_falls_back_to_every_metric_when_no_job_has_eval_metrics(tmp_path, capsys):
    make_job(tmp_path, "0", ["loss=gan"], {**COMPLETED, "final": {"generator/loss": 0.6}, "best": {}})
    make_job(tmp_path, "1", ["loss=wgan"], {**COMPLETED, "final": {"critic/loss": -0.2}, "best": {}})
    headers, rows = run_report(capsys, str(tmp_path))
    assert headers == ["job", "status", "loss", "steps", "wall time (s)", "critic/loss", "generator/loss"]
    assert rows[0]["critic/loss"] == "" and rows[1]["critic/loss"] == "-0.2"


def test_metrics_patterns_choose_the_columns(sweep, capsys):
    headers, rows = run_report(capsys, str(sweep), "--metrics", "*/loss,best eval/modes")
    metrics = headers[headers.index("wall time (s)") + 1:-1]
    assert metrics == ["discriminator/loss", "generator/loss", "best eval/modes"]  # in the patterns' order
    assert rows[3]["generator/loss"] == "nan"  # a diverged curve shows its value, not a blank

    headers, _ = run_report(capsys, str(sweep), "--metrics", "eval/modes,eval/mode_kl,eval/*")
    assert headers[headers.index("wall time (s)") + 1:-1] == ["eval/modes", "eval/mode_kl"]

    headers, _ = run_report(capsys, str(sweep), "--metrics", "*")
    assert {"eval/modes", "best eval/modes", "generator/loss", "discriminator/loss"} <= set(headers)


def test_a_single_job_shows_all_its_overrides_and_no_error_column(tmp_path, capsys):
    make_job(tmp_path, "0", ["loss=wgan", "optim=rmsprop"], COMPLETED)
    headers, rows = run_report(capsys, str(tmp_path))
    assert headers[:4] == ["job", "status", "loss", "optim"]
    assert rows == [{**rows[0], "loss": "wgan", "optim": "rmsprop"}]
    assert "error" not in headers


def test_a_folder_of_single_runs_is_reported_the_same_way(tmp_path, capsys):
    runs = tmp_path / "outputs" / "runs"
    make_job(runs, "2026-01-31_12-00-00", ["loss=gan"], COMPLETED)
    make_job(runs, "2026-01-31_13-00-00", ["loss=wgan"], FAILED)
    (runs / "not_a_run").mkdir()  # neither summary.json nor .hydra/: not a job
    _, rows = run_report(capsys, str(runs))
    assert [(r["job"], r["status"], r["loss"]) for r in rows] == [
        ("2026-01-31_12-00-00", "completed", "gan"), ("2026-01-31_13-00-00", "failed", "wgan")]


def test_an_unreadable_summary_is_listed_not_fatal(tmp_path, capsys):
    make_job(tmp_path, "0", ["seed=1"], COMPLETED)
    (make_job(tmp_path, "1", ["seed=2"]) / "summary.json").write_text('{"status": "compl')
    _, rows = run_report(capsys, str(tmp_path))
    assert rows[1]["status"] == "unreadable summary" and rows[1]["seed"] == "2"
    assert rows[1]["error"].startswith("summary.json:")


def test_a_pipe_in_an_error_message_does_not_break_the_markdown_row(tmp_path, capsys):
    make_job(tmp_path, "0", ["seed=1"], {**FAILED, "error": "bad value a|b"})
    make_job(tmp_path, "1", ["seed=2"], COMPLETED)
    main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "bad value a\\|b" in out
    assert len({line.count(" | ") for line in out.splitlines()}) == 1


# ---------------------------------------------------------------- CSV and plot


def test_csv_has_the_same_rows_and_columns_with_full_precision(sweep, tmp_path, capsys):
    out = tmp_path / "reports" / "jobs.csv"  # a missing folder is made
    headers, rows = run_report(capsys, str(sweep), "--csv", str(out))
    with out.open(newline="") as f:
        records = list(csv.DictReader(f))
    assert list(records[0]) == headers
    assert [r["job"] for r in records] == [r["job"] for r in rows]
    assert records[0]["eval/mode_kl"] == "0.1234567"
    assert records[1]["error"] == FAILED["error"] and records[1]["eval/modes"] == ""


def test_plot_keeps_a_labelled_empty_slot_for_jobs_without_a_value(sweep, tmp_path, monkeypatch, capsys):
    from gan_cli.commands import report_plot

    drawn = {}
    real_bar_chart = report_plot.bar_chart

    def spy(path, labels, heights, notes, **kwargs):
        drawn.update(labels=labels, heights=heights, notes=notes)
        real_bar_chart(path, labels, heights, notes, **kwargs)

    monkeypatch.setattr(report_plot, "bar_chart", spy)
    out = tmp_path / "modes.png"
    main([str(sweep), "--plot", str(out), "--metric", "eval/mode_kl"])
    assert out.read_bytes()[:4] == PNG_MAGIC
    assert drawn["labels"] == ["job 0\noptim.lr=0.001", "job 1\noptim.lr=-1", "job 2\noptim.lr=0.1", "job 10\noptim.lr=10"]
    assert drawn["heights"] == [0.1234567, None, None, None]
    assert drawn["notes"] == ["", "failed", "no summary", "diverged"]
    assert "Traceback" not in capsys.readouterr().err


def test_plot_of_a_nan_metric_says_nan_in_the_empty_slot(sweep, tmp_path, monkeypatch):
    from gan_cli.commands import report_plot

    drawn = {}
    monkeypatch.setattr(report_plot, "bar_chart", lambda path, labels, heights, notes, **kw: drawn.update(notes=notes))
    main([str(sweep), "--plot", str(tmp_path / "g.png"), "--metric", "generator/loss"])
    assert drawn["notes"] == ["", "failed", "no summary", "nan"]


def test_importing_gan_report_loads_neither_torch_nor_matplotlib():
    code = "import sys, gan_cli.commands.report; print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_explains_the_default_metrics(tmp_path):
    result = run_cli("gan-report", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert report.DEFAULT_METRICS in result.stdout and "best eval/" in result.stdout


# ---------------------------------------------------------------- a real sweep


@pytest.mark.slow
def test_report_of_a_real_sweep_with_one_failed_job(tmp_path):
    sweep_run = run_cli("gan-run", "-m", "trainer=smoke", "optim.lr=1e-3,-1", cwd=tmp_path)
    # the exit code is gan-run's business (1 or 2 for a sweep with a failed job); the folders are ours
    sweeps = list((tmp_path / "outputs" / "multiruns").iterdir())
    assert len(sweeps) == 1, sweep_run.stderr

    result = run_cli("gan-report", str(sweeps[0]), "--csv", "jobs.csv", "--plot", "modes.png",
                     "--metric", "eval/modes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    headers, rows = table_of(result.stdout)
    assert [r["job"] for r in rows] == ["0", "1"]
    assert [r["optim.lr"] for r in rows] == ["0.001", "-1"]
    completed, failed = rows
    assert completed["status"] == "completed" and completed["steps"] == "10"
    for name in ("eval/modes", "best eval/modes", "eval/wasserstein_exact"):
        float(completed[name])  # a number, not a blank
    assert failed["status"] == "failed"
    # the message is whatever gan-run wrote (its wording is gan-run's business); it names the value
    written = json.loads((job_folder(sweeps[0], 1) / "summary.json").read_text())["error"]
    assert failed["error"] == written and "lr" in written
    assert failed["eval/modes"] == ""

    with (tmp_path / "jobs.csv").open(newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["completed", "failed"]
    assert (tmp_path / "modes.png").read_bytes()[:4] == PNG_MAGIC


# ---------------------------------------------------------------- bad input


@pytest.fixture
def one_job_sweep(tmp_path) -> Path:
    root = tmp_path / "sweep"
    make_job(root, "0", ["seed=1"], COMPLETED)
    make_job(root, "1", ["seed=2"], FAILED)
    (tmp_path / "a_file").write_text("")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_folder").mkdir()
    return root


@pytest.mark.parametrize(
    "args, must_name",
    [
        (["missing"], "missing: no such folder"),
        (["a_file"], "a_file is not a folder"),
        (["empty"], "holds no job folders"),
        (["sweep/0"], "it is itself one job"),
        ([".", "--csv", "x.csv"], "it holds sweep folders"),
        (["sweep", "--plot", "x.png"], "--plot needs --metric"),
        (["sweep", "--metric", "eval/modes"], "add --plot"),
        (["sweep", "--plot", "x", "--metric", "eval/modes"], "has no extension"),
        (["sweep", "--plot", "x.png", "--metric", "eval/mode"], "--metric eval/mode: no job has this metric; available: discriminator/loss, eval/mode_kl"),
        (["sweep", "--metrics", "eval/mode"], "--metrics eval/mode matches no metric"),
        (["sweep", "--csv", "a_folder"], "--csv a_folder is a folder"),
        (["sweep", "--csv", "a_file/x.csv"], "a_file is a file, not a folder"),
        (["sweep", "--plot", "a_file/x.png", "--metric", "eval/modes"], "a_file is a file, not a folder"),
        (["sweep", "--plot", "x.xyz", "--metric", "eval/modes"], "Format 'xyz' is not supported"),
    ],
)
def test_bad_input_gets_a_one_line_error_and_exit_code_2(one_job_sweep, tmp_path, args, must_name):
    result = run_cli("gan-report", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert must_name in result.stderr
    assert result.stdout == ""  # no half report
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.png").exists()


def test_a_swept_steps_override_and_the_steps_trained_get_distinct_headers(tmp_path, capsys):
    make_job(tmp_path, "0", ["steps=10"], COMPLETED)
    make_job(tmp_path, "1", ["steps=4"], DIVERGED)
    headers, rows = run_report(capsys, str(tmp_path))
    assert headers.count("steps") == 1 and "steps done" in headers
    assert [(r["steps"], r["steps done"]) for r in rows] == [("10", "10"), ("4", "4")]


"""bench/: every script at least compiles under the interpreter the project runs on, and the
cheapest ones run. The benchmarks are run by hand (make bench), so without this a script can
break unseen; bench/stacked_mnist.py once held an f-string only Python 3.12 accepts."""

from __future__ import annotations

import json
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "bench").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bench_script_compiles(script, tmp_path):
    py_compile.compile(str(script), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_eval_cost_times_every_part_of_an_image_evaluation(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "bench" / "eval_cost.py"), "--samples", "64", "--repeats", "1",
                             "--", "model=dcgan", "model.width=8", "dataset=shapes", "dataset.num_images=256",
                             "eval.classifier_steps=5", f"eval.cache_dir={tmp_path}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("| 64 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 8 and all(float(c.split()[0]) >= 0 for c in cells[1:])
    assert "extractor: classifier" in result.stdout


def bench_module(name: str):
    """A bench/ script imported as a module (its own imports resolve next to it)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(REPO / "bench"))


def run_bench(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "bench" / script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.slow
def test_lipschitz_bench_runs_a_constraint_and_tabulates_it(tmp_path):
    result = run_bench("lipschitz.py", "--constraints", "clip", "--datasets", "ring", "--jobs", "1",
                       "--out", str(tmp_path / "runs"), "--", "trainer=smoke", "eval_every=5", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("| clip")]
    assert "n/a" not in row.split("|")[3]  # the measured Lipschitz constant was read back


#: after a trial's overrides, so they win over its widths and batch size: the plumbing, not the preset's cost
TINY = ("model.hidden=[16,16]", "batch_size=64")


@pytest.mark.slow
def test_grid_search_bench_runs_a_trial_and_reports_it(tmp_path, capsys):
    result = run_bench("grid_search.py", "--trials", "1", "--trial-seeds", "1", "--jobs", "1",
                       "--out", str(tmp_path / "runs"), "--", "trainer=smoke", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("trial.json")]
    assert record["overrides"][:1] == ["constraint=r1"] and record["value"] is not None  # trial 0: the preset
    grid_search = bench_module("grid_search")  # --no-run's table, in this process (no optuna import)
    grid_search.report(tmp_path / "runs")
    printed = capsys.readouterr().out
    assert "1 trials (1 completed" in printed and "| 0 |" in printed


def test_grid_search_stops_a_seed_over_its_cpu_budget_and_fails_the_trial(tmp_path):
    result = run_bench("grid_search.py", "--trials", "1", "--trial-seeds", "1", "--jobs", "1",
                       "--seed-cpu-minutes", "0.01", "--out", str(tmp_path / "runs"), "--", "trainer=smoke", *TINY,
                       cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "over 1 CPU s, stopped" in result.stderr
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("trial.json")]
    assert record["over_budget"] == [True] and record["value"] is None
    assert "1 over the CPU budget" in result.stdout


def completed_summary(run_dir: Path, overrides: list[str], status: str = "completed") -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps({
        "status": status, "overrides": overrides, "cpu_time_s": 12.0, "wall_time_s": 13.0,
        "final": {"eval/modes": 8, "eval/high_quality_pct": 95.5, "eval/mode_kl": 0.01}}))


def test_grid_search_keep_reads_back_a_completed_trial_instead_of_training(tmp_path):
    grid_search = bench_module("grid_search")
    overrides = grid_search.suggest(fixed_trial(grid_search.PRESET))  # trial 0 draws the preset
    completed_summary(tmp_path / "runs" / "trial_000" / "seed_0",
                      ["experiment=grid_benchmark", "seed=0", *overrides, "steps=7"])
    result = run_bench("grid_search.py", "--trials", "1", "--trial-seeds", "1", "--jobs", "1", "--keep",
                       "--out", str(tmp_path / "runs"), "--", "steps=7", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "started:" not in result.stderr and "(seeds 0 read back (--keep))" in result.stdout
    record = json.loads((tmp_path / "runs" / "trial_000" / "trial.json").read_text())
    assert record["scores"] == [95.5 - 10 * (25 - 8)] and record["cpu_s"] == [12.0]  # the kept summary's numbers


def test_grid_search_keep_reads_a_finished_trial_back_and_refuses_one_with_other_settings(tmp_path):
    grid_search = bench_module("grid_search")
    trial = tmp_path / "runs" / "trial_000"
    trial.mkdir(parents=True)
    # a failed trial (a seed over the CPU budget) is read back as failed, not re-run until it passes
    recorded = {"overrides": grid_search.suggest(fixed_trial(grid_search.PRESET)), "extra_overrides": ["steps=7"],
                "scores": [None], "value": None, "cpu_s": [601.0], "over_budget": [True]}
    (trial / "trial.json").write_text(json.dumps(recorded))
    args = ["--trials", "1", "--trial-seeds", "1", "--jobs", "1", "--keep", "--out", str(tmp_path / "runs")]
    result = run_bench("grid_search.py", *args, "--", "steps=7", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "started:" not in result.stderr and "trial 0: None from seeds [None] (trial.json read back" in result.stdout
    other = run_bench("grid_search.py", *args, "--", "steps=8", cwd=tmp_path)  # other extra overrides
    assert other.returncode == 1 and "records other settings than trial 0 draws now" in other.stderr
    assert "started:" not in other.stderr and json.loads((trial / "trial.json").read_text()) == recorded


def test_toy_quality_keeps_a_seed_that_completed_with_the_same_overrides(tmp_path):
    # a run folder as a search trial leaves it: toy_quality --keep tabulates it and starts nothing
    completed_summary(tmp_path / "runs" / "ring" / "seed_0", ["experiment=ring_benchmark", "seed=0", "steps=7"])
    result = run_bench("toy_quality.py", "--seeds", "1", "--jobs", "1", "--datasets", "ring", "--keep",
                       "--out", str(tmp_path / "runs"), "--", "steps=7", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not re-run (--keep): ring seed 0" in result.stdout and "started:" not in result.stderr
    assert "| gan-run, 1 of 1 seeds completed | 8.00 ± 0.00 | 95.50 ± 0.00 |" in result.stdout


def test_lipschitz_keep_tabulates_a_completed_run_without_training(tmp_path):
    completed_summary(tmp_path / "runs" / "clip" / "ring" / "seed_0",
                      ["experiment=lipschitz", "constraint=clip", "dataset=ring", "seed=0", "steps=7"])
    result = run_bench("lipschitz.py", "--constraints", "clip", "--datasets", "ring", "--jobs", "1", "--keep",
                       "--out", str(tmp_path / "runs"), "--", "steps=7", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not re-run (--keep): 1 of 1 runs" in result.stdout and "started:" not in result.stderr
    assert "| clip | n/a | n/a | n/a | 8 ± 0 |" in result.stdout  # the kept summary's numbers


def test_toy_quality_reruns_a_seed_whose_folder_holds_another_run(tmp_path):
    toy_quality = bench_module("toy_quality")
    Job, completed_with = toy_quality.Job, toy_quality.completed_with
    command = ["gan-run", "experiment=ring_benchmark", "seed=0", "steps=7", f"hydra.run.dir={tmp_path}/x"]
    completed_summary(tmp_path / "same", command[1:4])
    completed_summary(tmp_path / "other", ["experiment=ring_benchmark", "seed=0", "steps=8"])
    completed_summary(tmp_path / "failed", command[1:4], status="failed")
    assert completed_with(Job("ring", 0, tmp_path / "same", command))
    assert not completed_with(Job("ring", 0, tmp_path / "other", command))
    assert not completed_with(Job("ring", 0, tmp_path / "failed", command))
    assert not completed_with(Job("ring", 0, tmp_path / "never_ran", command))


def fixed_trial(params: dict):
    """What optuna.trial.FixedTrial(params) answers, without importing optuna (3 s)."""

    class Fixed:
        def suggest_categorical(self, name, choices):
            assert params[name] in choices
            return params[name]

        def suggest_float(self, name, low, high, log=False):
            assert low <= params[name] <= high
            return params[name]

    return Fixed()


def test_grid_search_trial_zero_is_exactly_the_preset(tmp_path):
    from conftest import compose_config

    grid_search = bench_module("grid_search")
    preset = compose_config(tmp_path / "a", ["experiment=grid_benchmark"])
    trial = compose_config(tmp_path / "b", ["experiment=grid_benchmark",
                                            *grid_search.suggest(fixed_trial(grid_search.PRESET))])
    drop = {"hydra"}
    assert {k: v for k, v in preset.items() if k not in drop} == {k: v for k, v in trial.items() if k not in drop}
    # the local space's trial 0 is the preset too, its schedule's length included
    local = compose_config(tmp_path / "c", ["experiment=grid_benchmark",
                                            *grid_search.suggest_local(fixed_trial(grid_search.LOCAL_FIRST))])
    assert {k: v for k, v in preset.items() if k not in drop} == {k: v for k, v in local.items() if k not in drop}
    assert preset["lr_schedule"]["T_max"] == preset["steps"]  # the cosine decay spans the run


def test_grid_misses_bands_follow_the_distances_and_the_spread_its_modes():
    import torch

    grid_misses = bench_module("grid_misses")
    centres = torch.tensor([[0.0, 0.0], [100.0, 0.0]])
    # around the first centre (σ = 1): 3σ exactly (high quality, as eval/high_quality_pct counts
    # it), 4σ, 8σ, 20σ away, and a sample that is not finite (beyond every band)
    samples = torch.tensor([[3.0, 0.0], [0.0, 4.0], [-8.0, 0.0], [0.0, 20.0], [float("nan"), 0.0]])
    distances, modes = grid_misses.nearest_mode(samples, centres)
    assert grid_misses.band_shares(distances, std=1.0) == [20.0, 20.0, 20.0, 40.0]
    # the spread counts the two samples within 6σ of mode 0: offsets (3, 0) and (0, 4)
    spread = grid_misses.mode_spread(samples, centres, distances, modes, std=1.0)
    assert spread == pytest.approx(torch.tensor([[3.0, 0.0], [0.0, 4.0]]).std(dim=0).mean().item())


def test_grid_misses_splits_a_trained_runs_samples_as_the_evaluation_counts_them(gan_run, tmp_path, capsys):
    import torch

    from gan_cli.data.toy import grid
    from gan_cli.evaluation.generate import generate
    from gan_cli.evaluation.metrics import mode_coverage
    from gan_cli.commands.sample import load_generator

    assert gan_run("dataset=grid", "trainer=smoke", "hydra.run.dir=run").returncode == 0
    bench_module("grid_misses").main([str(tmp_path / "run"), "--num", "20000"])
    table = [line.strip("|").split("|") for line in capsys.readouterr().out.splitlines()
             if line.startswith("| ") and "---" not in line]
    assert [cells[0].strip() for cells in table] == ["run", str(tmp_path / "run"), "the data itself"]
    run, data = ([float(c) for c in cells[1:]] for cells in table[1:])
    # the run's first band is the metric gan-run's evaluation reports, on the same 20,000 samples
    generator, _ = load_generator(tmp_path / "run" / "checkpoints" / "last.ckpt")
    torch.manual_seed(0)
    fake = generate(generator, torch.randn(20000, generator.in_features), 4096)
    dataset = grid()
    assert run[0] == pytest.approx(mode_coverage(fake, dataset.centres, dataset.std)["high_quality_pct"], abs=0.01)
    assert sum(run[:4]) == pytest.approx(100, abs=0.05)
    # a 2-D Gaussian mode holds 1 − exp(−9/2) = 98.89 % of its mass within 3σ (20,000 draws: s.e. 0.07)
    assert data[0] == pytest.approx(98.89, abs=0.3) and data[2] == data[3] == 0 and data[4] == pytest.approx(1, abs=0.05)


def test_grid_misses_refuses_a_run_that_is_not_on_the_ring_or_the_grid(gan_run, tmp_path, capsys):
    assert gan_run("dataset=gaussian1d", "trainer=smoke", "hydra.run.dir=run").returncode == 0
    with pytest.raises(SystemExit) as stop:
        bench_module("grid_misses").main([str(tmp_path / "run")])
    assert "dataset gan_cli.data.toy.Gaussian1D" in str(stop.value.code) and "accepted: ring, grid" in str(stop.value.code)
    assert capsys.readouterr().out == ""  # refused before any table


def test_grid_misses_names_a_folder_without_a_checkpoint(tmp_path):
    result = run_bench("grid_misses.py", str(tmp_path / "nothing_here"), cwd=tmp_path)
    assert result.returncode == 2 and "no checkpoints/last.ckpt in:" in result.stderr and "Traceback" not in result.stderr

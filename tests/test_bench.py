"""bench/: every script at least compiles under the interpreter the project runs on, and the
cheapest ones run. The benchmarks are run by hand (make bench), so without this a script can
break unseen; a bench script once held an f-string only Python 3.12 accepts."""

from __future__ import annotations

import json
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest
import torch

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


def test_sn_operator_norm_is_the_dense_matrix_norm_of_the_convolution():
    sn = bench_module("sn_operator_norm")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(2, 3, 4, 2, 1, bias=False)
    shape = (2, 6, 6)
    dense = torch.autograd.functional.jacobian(lambda x: conv(x.reshape(1, *shape)).flatten(), torch.zeros(72))
    assert sn.operator_norm(conv, shape) == pytest.approx(float(torch.linalg.matrix_norm(dense, ord=2)), rel=1e-4)

"""gan-report --by: a study's aggregates and tests match scipy's, unlike runs are refused, failed
replicates are counted, and a real sweep is reported end to end; the comparison rule's error rate
under no effect is simulated."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from conftest import run_cli, run_gan_run_in_process
from gan_cli.commands.report import main
from gan_cli.statistics import compare, describe, holm, verdict

from test_report import make_job

PNG_MAGIC = b"\x89PNG"


def completed(modes: float, kl: float = 0.5, **extra) -> dict:
    return {"status": "completed", "steps": 10, "wall_time_s": 1.0,
            "final": {"eval/modes": modes, "eval/mode_kl": kl, **extra}}


def study_sweep(root: Path, groups: dict[str, dict[int, dict]], extra: tuple[str, ...] = ()) -> Path:
    """Job folders of `gan-run -m loss=... seed=...`: {loss: {seed: summary}}."""
    number = 0
    for loss, by_seed in groups.items():
        for seed, summary in by_seed.items():
            make_job(root, str(number), [*extra, f"loss={loss}", f"seed={seed}"], summary)
            number += 1
    return root


def run_study(tmp_path: Path, capsys, *args: str) -> tuple[str, dict]:
    main([*args, "--json", str(tmp_path / "study.json")])
    return capsys.readouterr().out, json.loads((tmp_path / "study.json").read_text())


GAN = [4.0, 6.0, 5.0, 9.0, 3.0]
WGAN = [17.0, 20.0, 16.0, 21.0, 18.0]


def test_groups_are_described_and_compared_as_scipy_does_paired_by_seed(tmp_path, capsys):
    root = study_sweep(tmp_path / "s", {"gan": {s: completed(v) for s, v in enumerate(GAN)},
                                        "wgan_gp": {s: completed(v) for s, v in enumerate(WGAN)}})
    out, result = run_study(tmp_path, capsys, str(root), "--by", "loss", "--baseline", "loss=gan")
    block = result["metrics"]["eval/modes"]
    for label, values in (("loss=gan", GAN), ("loss=wgan_gp", WGAN)):
        g = block["groups"][label]
        low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
        assert g["n"] == 5 and g["mean"] == pytest.approx(np.mean(values))
        assert g["se"] == pytest.approx(stats.sem(values))
        assert (g["ci_low"], g["ci_high"]) == pytest.approx((low, high))
        assert (g["minimum"], g["maximum"]) == (min(values), max(values))
    (c,) = block["comparisons"]
    expected = stats.ttest_rel(WGAN, GAN)
    interval = expected.confidence_interval()
    assert c["paired"] and c["test"].startswith("paired t-test")
    assert c["difference"] == pytest.approx(np.mean(WGAN) - np.mean(GAN))
    assert c["p_value"] == pytest.approx(expected.pvalue) and c["p_holm"] == pytest.approx(expected.pvalue)
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((interval.low, interval.high))
    assert c["verdict"] == "better"  # more modes, declared higher-is-better
    kl = result["metrics"]["eval/mode_kl"]["comparisons"][0]
    assert kl["verdict"] == "no test" or kl["p_value"] == 1.0  # every KL 0.5: no difference at all
    assert "loss=wgan_gp − loss=gan" in out and "paired t-test (n = 5 pairs by replicate)" in out


def test_a_failed_replicate_is_counted_and_the_rest_compared_unpaired(tmp_path, capsys):
    gan = {s: completed(v) for s, v in enumerate(GAN)}
    gan[2] = {"status": "diverged", "steps": 4, "final": {"eval/modes": 3.0}, "error": "diverged at step 4"}
    gan[3] = {"status": "failed", "error": "bad value"}
    root = study_sweep(tmp_path / "s", {"gan": gan, "wgan_gp": {s: completed(v) for s, v in enumerate(WGAN)}})
    out, result = run_study(tmp_path, capsys, str(root), "--by", "loss")
    outcomes = {g["label"]: g["outcomes"] for g in result["groups"]}
    assert outcomes["loss=gan"] == {"completed": 3, "diverged": 1, "failed": 1, "interrupted": 0, "other": 0}
    kept = [GAN[0], GAN[1], GAN[4]]  # the diverged job's eval value is not a replicate
    block = result["metrics"]["eval/modes"]
    assert block["groups"]["loss=gan"]["n"] == 3
    (c,) = block["comparisons"]  # every pair: gan against wgan_gp, in order of appearance
    expected = stats.ttest_ind(kept, WGAN, equal_var=False)
    assert not c["paired"] and c["test"].startswith("Welch's t-test")
    assert c["p_value"] == pytest.approx(expected.pvalue)
    assert c["verdict"] == "worse"
    (completion,) = result["completion"]
    assert completion["p_value"] == pytest.approx(stats.fisher_exact([[3, 2], [5, 0]]).pvalue)
    assert "| loss=gan     |    5 |         3 |        1 |      1 |" in out


def test_a_constant_metric_has_zero_standard_error_and_a_permutation_test(tmp_path, capsys):
    """[25, 25, 25] against [24, 24, 24]: t is undefined; the exact permutation test cannot go
    below 2/2³ with three pairs, so one mode is not a win."""
    root = study_sweep(tmp_path / "s", {"a": {s: completed(25.0) for s in range(3)},
                                        "b": {s: completed(24.0) for s in range(3)}})
    _, result = run_study(tmp_path, capsys, str(root), "--by", "loss")
    block = result["metrics"]["eval/modes"]
    assert block["groups"]["loss=a"]["se"] == 0.0 and block["groups"]["loss=a"]["ci_low"] == 25.0
    (c,) = block["comparisons"]
    assert c["test"].startswith("exact sign-flip permutation test") and c["p_value"] == pytest.approx(0.25)
    assert c["ci_low"] is None  # no interval from zero spread
    assert c["verdict"] == "not separated"


def test_unlike_runs_duplicate_replicates_and_unknown_keys_are_refused(tmp_path, capsys):
    mixed = tmp_path / "mixed"
    make_job(mixed, "0", ["loss=gan", "seed=0", "optim=adam"], completed(5))
    make_job(mixed, "1", ["loss=gan", "seed=1", "optim=rmsprop"], completed(6))
    make_job(mixed, "2", ["loss=wgan", "seed=0", "optim=adam"], completed(7))
    twice = study_sweep(tmp_path / "twice", {"gan": {0: completed(1), 1: completed(2)}})
    cases = [
        ([str(mixed), "--by", "loss"], "optim differs between the jobs (optim=adam in jobs 0, 2; optim=rmsprop in job 1)"),
        ([str(twice), str(twice), "--by", "loss"], "are both seed=0"),
        ([str(mixed), "--by", "dataset"], "--by dataset: no job sets it"),
        ([str(mixed), "--by", "loss,optim", "--baseline", "loss=adam"], "--baseline loss=adam matches no group"),
        ([str(mixed), "--by", "loss,optim", "--baseline", "optim=rmsprop"], "no group optim=rmsprop, loss=wgan"),
        ([str(twice), "--by", "loss", "--baseline", "seed=0"], "give KEY=VALUE of the --by keys (loss)"),
        ([str(mixed), "--by", "loss,optim", "--alpha", "1.5"], "--alpha=1.5 is not accepted"),
        ([str(mixed), "--baseline", "loss=gan"], "--baseline belongs to a study"),
        ([str(mixed), "--by", "seed"], "--by and --replicate share seed"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and message in err and err.count("\n") == 1, err


def test_outputs_are_markdown_csv_json_and_a_plot(tmp_path, capsys):
    root = study_sweep(tmp_path / "s", {"gan": {s: completed(v) for s, v in enumerate(GAN)},
                                        "wgan_gp": {s: completed(v) for s, v in enumerate(WGAN)}})
    main([str(root), "--by", "loss", "--csv", str(tmp_path / "s.csv"), "--plot", str(tmp_path / "s.png")])
    with (tmp_path / "s.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    groups = [r for r in rows if r["row"] == "group" and r["metric"] == "eval/modes"]
    assert [(r["group"], float(r["mean"])) for r in groups] == [("loss=gan", np.mean(GAN)), ("loss=wgan_gp", np.mean(WGAN))]
    assert any(r["row"] == "comparison" and r["verdict"] == "worse" for r in rows)  # gan − wgan_gp, all pairs
    assert (tmp_path / "s.png").read_bytes()[:4] == PNG_MAGIC


def test_several_folders_read_as_one_study(tmp_path, capsys):
    first = study_sweep(tmp_path / "a", {"gan": {0: completed(4), 1: completed(6)}})
    later = study_sweep(tmp_path / "b", {"gan": {2: completed(5)}, "wgan_gp": {0: completed(18), 1: completed(20),
                                                                              2: completed(19)}})
    _, result = run_study(tmp_path, capsys, str(first), str(later), "--by", "loss")
    assert result["metrics"]["eval/modes"]["groups"]["loss=gan"]["n"] == 3
    assert result["metrics"]["eval/modes"]["comparisons"][0]["paired"]  # seeds 0-2 in both


def test_a_baseline_naming_some_keys_is_matched_on_the_others(tmp_path, capsys):
    """--by dataset,constraint --baseline constraint=clip: each constraint against clip on its own dataset."""
    root = tmp_path / "s"
    number = 0
    for dataset in ("ring", "grid"):
        for constraint, shift in (("clip", 0.0), ("gp", 5.0), ("sn", 1.0)):
            for seed in range(3):
                make_job(root, str(number), [f"dataset={dataset}", f"constraint={constraint}", f"seed={seed}"],
                         completed(10.0 + shift + seed))
                number += 1
    _, result = run_study(tmp_path, capsys, str(root), "--by", "dataset,constraint", "--baseline", "constraint=clip")
    pairs = [(c["group"], c["against"]) for c in result["metrics"]["eval/modes"]["comparisons"]]
    assert pairs == [("dataset=ring, constraint=gp", "dataset=ring, constraint=clip"),
                     ("dataset=ring, constraint=sn", "dataset=ring, constraint=clip"),
                     ("dataset=grid, constraint=gp", "dataset=grid, constraint=clip"),
                     ("dataset=grid, constraint=sn", "dataset=grid, constraint=clip")]


def test_groups_trained_on_different_datasets_are_described_but_not_compared(tmp_path, capsys):
    """--by experiment over ring_benchmark and grid_benchmark: 8 modes against 25 is no finding."""
    root = tmp_path / "s"
    for number, (experiment, dataset, modes) in enumerate([("ring_benchmark", "ring", 8.0), ("ring_benchmark", "ring", 7.0),
                                                            ("grid_benchmark", "grid", 25.0), ("grid_benchmark", "grid", 24.0)]):
        job = make_job(root, str(number), [f"experiment={experiment}", f"seed={number % 2}"], completed(modes))
        (job / ".hydra" / "hydra.yaml").write_text(f"hydra:\n  runtime:\n    choices:\n      dataset: {dataset}\n")
    out, result = run_study(tmp_path, capsys, str(root), "--by", "experiment")
    (c,) = result["metrics"]["eval/modes"]["comparisons"]
    assert c["test"] == "none (different datasets: ring and grid)" and c["p_value"] is None and c["verdict"] == "no test"
    assert result["metrics"]["eval/modes"]["groups"]["experiment=grid_benchmark"]["mean"] == 24.5
    # the same through a dataset override, and --by dataset itself
    root = study_sweep(tmp_path / "d", {"gan": {0: completed(8), 1: completed(7)}})
    for number, modes in ((2, 25.0), (3, 24.0)):
        make_job(root, str(number), ["dataset=grid", "loss=gan", f"seed={number - 2}"], completed(modes))
    for job in ("0", "1"):
        (root / job / ".hydra" / "overrides.yaml").write_text(f"- dataset=ring\n- loss=gan\n- seed={job}\n")
        summary = json.loads((root / job / "summary.json").read_text())
        (root / job / "summary.json").write_text(json.dumps({**summary, "overrides": ["dataset=ring", "loss=gan", f"seed={job}"]}))
    _, result = run_study(tmp_path, capsys, str(root), "--by", "dataset")
    assert result["metrics"]["eval/modes"]["comparisons"][0]["verdict"] == "no test"


def test_a_setting_left_at_its_default_equals_the_same_value_given_explicitly(tmp_path, capsys):
    """One sweep left optim at its default (adam), a later one set optim=adam: one setting, not two."""
    first = study_sweep(tmp_path / "a", {"gan": {0: completed(4), 1: completed(6)}})
    for job in first.iterdir():
        (job / ".hydra" / "hydra.yaml").write_text("hydra:\n  runtime:\n    choices:\n      optim: adam\n      loss: gan\n")
    later = study_sweep(tmp_path / "b", {"wgan": {0: completed(9), 1: completed(11)}}, extra=("optim=adam",))
    _, result = run_study(tmp_path, capsys, str(first), str(later), "--by", "loss")
    assert [g["label"] for g in result["groups"]] == ["loss=gan", "loss=wgan"]
    other = study_sweep(tmp_path / "c", {"wgan": {0: completed(9)}}, extra=("optim=rmsprop",))
    with pytest.raises(SystemExit):
        main([str(first), str(other), "--by", "loss"])
    assert "optim differs between the jobs (optim=adam in jobs a/0, a/1; optim=rmsprop in job c/0)" in capsys.readouterr().err


def test_holm_matches_its_definition():
    p = [0.01, 0.04, None, 0.03, 0.2]
    # sorted 0.01, 0.03, 0.04, 0.2 with m = 4: 0.04, 0.09, 0.09 (monotone), 0.2
    assert holm(p) == pytest.approx([0.04, 0.09, None, 0.09, 0.2])


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("n, discrete", [(3, False), (5, False), (5, True), (10, True)])
def test_under_no_effect_the_verdict_says_better_or_worse_at_most_alpha(paired, n, discrete):
    """2,000 simulated studies of two groups drawn from one distribution (normal, or mode counts
    with ties): the share called better or worse at α = 0.05 is not above 5 % (a one-sided
    binomial test at 0.001 allows for the simulation's own noise)."""
    rng = np.random.default_rng(n * 2 + paired + 10 * discrete)
    calls = 0
    studies = 2000
    for _ in range(studies):
        if discrete:
            a, b = rng.binomial(25, 0.8, n).astype(float), rng.binomial(25, 0.8, n).astype(float)
        else:
            a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
        ids_b = range(n) if paired else range(n, 2 * n)
        c = compare(dict(zip(map(str, range(n)), a)), dict(zip(map(str, ids_b), b)))
        calls += verdict(c.difference, c.p_value, 0.05, True) in ("better", "worse")
    assert stats.binomtest(calls, studies, 0.05, alternative="greater").pvalue > 0.001, calls / studies


def test_describe_of_one_and_no_values():
    assert describe([3.0]).se is None and describe([3.0]).mean == 3.0
    assert describe([]).n == 0


@pytest.mark.slow
def test_a_real_sweep_answers_a_question_in_two_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = run_gan_run_in_process("-m", "loss=gan,wgan_gp", "seed=range(3)", "trainer=smoke", "steps=20",
                                   "eval_every=20", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert sweep.returncode == 0, sweep.stderr
    result = run_cli("gan-report", "sweep", "--by", "loss", "--baseline", "loss=gan", "--metrics", "eval/modes",
                     "--json", "study.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    study = json.loads((tmp_path / "study.json").read_text())
    block = study["metrics"]["eval/modes"]
    assert [g["n"] for g in block["groups"].values()] == [3, 3]
    (c,) = block["comparisons"]
    assert c["group"] == "loss=wgan_gp" and c["against"] == "loss=gan" and c["paired"]
    assert c["verdict"] in ("better", "worse", "not separated")
    assert "### eval/modes (higher is better)" in result.stdout

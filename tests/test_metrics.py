import itertools
import math

import numpy as np
import pytest
import torch

from gan_cli.data.toy import grid, ring
from gan_cli.evaluation.metrics import mode_coverage, wasserstein_exact

# ---------------------------------------------------------------- mode_coverage (THEORY.md §4)


def test_samples_at_every_ring_centre_recover_all_8_modes():
    r = ring()
    samples = r.centres.repeat(10, 1)  # 80 samples, 10 exactly on each centre
    out = mode_coverage(samples, r.centres, r.std)
    assert out["modes"] == 8 and isinstance(out["modes"], int)
    assert out["high_quality_pct"] == pytest.approx(100.0)
    assert out["mode_kl"] == pytest.approx(0.0, abs=1e-12)
    assert all(isinstance(v, float) for v in (out["high_quality_pct"], out["mode_kl"]))


def test_real_ring_samples_are_high_quality_and_cover_every_mode():
    torch.manual_seed(0)
    r = ring()
    out = mode_coverage(r.sample(2500), r.centres, r.std)
    assert out["modes"] == 8
    assert out["high_quality_pct"] > 98.0  # P(‖N(0, σ²I₂)‖ ≤ 3σ) = 1 - e^{-4.5} ≈ 98.9 %
    assert out["mode_kl"] < 0.01


def test_collapse_onto_one_mode_gives_one_mode_and_kl_log8():
    torch.manual_seed(0)
    r = ring()
    samples = r.centres[3].expand(100, 2) + 0.5 * r.std * torch.randn(100, 2)
    out = mode_coverage(samples, r.centres, r.std)
    assert out["modes"] == 1
    assert out["high_quality_pct"] == pytest.approx(100.0)
    assert out["mode_kl"] == pytest.approx(math.log(8))


def test_samples_far_from_every_mode_recover_nothing():
    r = ring()
    samples = torch.zeros(50, 2)  # the ring's centre: distance 1 = 100σ from every mode
    out = mode_coverage(samples, r.centres, r.std)
    assert out["modes"] == 0
    assert out["high_quality_pct"] == 0.0
    assert out["mode_kl"] == pytest.approx(math.log(8))  # documented convention: no HQ sample


def test_high_quality_threshold_is_three_sigma_from_the_nearest_centre():
    c = torch.tensor([[0.0, 0.0]])
    inside = mode_coverage(torch.tensor([[0.0299, 0.0]]), c, 0.01)
    outside = mode_coverage(torch.tensor([[0.0301, 0.0]]), c, 0.01)
    assert inside["high_quality_pct"] == 100.0 and inside["modes"] == 1
    assert outside["high_quality_pct"] == 0.0 and outside["modes"] == 0


def test_linspace_trap_gives_only_7_modes():
    # Some reference code builds the ring with linspace(0, 2π, 8): the angle 2π repeats angle 0,
    # so it has 7 distinct modes and is not the 8-mode ring of the protocol.
    angles = np.linspace(0, 2 * np.pi, 8)
    linspace_centres = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert len(np.unique(linspace_centres.round(6), axis=0)) == 7

    r = ring()
    samples = r.centres.repeat(10, 1)  # every one of the 8 correct centres, 10 times
    wrong = mode_coverage(samples, linspace_centres, r.std)
    right = mode_coverage(samples, r.centres, r.std)
    assert wrong["modes"] <= 7  # in fact 1: only angle 0 is shared by the two rings
    assert right["modes"] == 8


def test_grid_samples_recover_25_modes():
    torch.manual_seed(0)
    g = grid()
    out = mode_coverage(g.sample(2500), g.centres, g.std)
    assert out["modes"] == 25
    assert out["high_quality_pct"] > 98.0
    assert out["mode_kl"] < 0.02

    exact = mode_coverage(g.centres, g.centres, g.std)
    assert exact["modes"] == 25 and exact["mode_kl"] == pytest.approx(0.0, abs=1e-12)


def test_mode_kl_matches_a_hand_computed_histogram():
    r = ring()
    # HQ counts per mode [2, 1, 1, 0, 0, 0, 0, 0], plus one sample far off (not HQ)
    samples = torch.cat([r.centres[[0, 0, 1, 2]], torch.zeros(1, 2)])
    out = mode_coverage(samples, r.centres, r.std)
    p = np.array([2, 1, 1]) / 4
    expected = float(np.sum(p * np.log(8 * p)))  # 0·log 0 = 0 for the 5 empty modes
    assert expected == pytest.approx(0.5 * math.log(4) + 2 * 0.25 * math.log(2))
    assert out["mode_kl"] == pytest.approx(expected)
    assert out["modes"] == 3
    assert out["high_quality_pct"] == pytest.approx(80.0)


def test_mode_coverage_accepts_numpy_and_1d_data():
    r = ring()
    np_out = mode_coverage(r.centres.numpy(), r.centres.numpy(), r.std)
    assert np_out["modes"] == 8
    # Gaussian1D-style: one centre in 1-D, samples of shape (n,) or (n, 1)
    assert mode_coverage(np.array([0.1, 2.9, 3.1]), np.array([[0.0]]), 1.0)["high_quality_pct"] == pytest.approx(
        200 / 3
    )
    with pytest.raises(ValueError, match="2-D"):
        mode_coverage(torch.zeros(4, 3), r.centres, r.std)


# ---------------------------------------------------------------- wasserstein_exact


def test_w1_between_two_point_masses_is_their_distance():
    assert wasserstein_exact(torch.full((7,), 2.0), torch.full((7,), -1.5)) == pytest.approx(3.5)
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([4.0, -2.0])
    assert wasserstein_exact(a.expand(6, 2), b.expand(6, 2)) == pytest.approx(5.0)


def test_w1_of_a_shifted_1d_gaussian_is_the_shift():
    torch.manual_seed(0)
    x = torch.randn(1000, 1, dtype=torch.float64)
    for delta in (0.0, 0.3, -2.5):
        assert wasserstein_exact(x, x + delta) == pytest.approx(abs(delta), abs=1e-12)
    # 1-D as (n,) and (n, 1) mix freely
    assert wasserstein_exact(x[:, 0], x + 1.0) == pytest.approx(1.0, abs=1e-12)


def test_w1_of_a_2d_permutation_is_zero():
    torch.manual_seed(0)
    x = torch.randn(200, 2)
    y = x[torch.randperm(200)]
    assert wasserstein_exact(x, y) == pytest.approx(0.0, abs=1e-12)


def test_w1_in_2d_matches_brute_force_over_all_permutations():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)) + 1.0
        cost = np.linalg.norm(x[:, None] - y[None], axis=2)
        brute = min(cost[np.arange(5), list(perm)].mean() for perm in itertools.permutations(range(5)))
        assert wasserstein_exact(x, y) == pytest.approx(brute, rel=1e-12)
        assert wasserstein_exact(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(brute, rel=1e-12)


def test_w1_is_symmetric_and_returns_a_float():
    torch.manual_seed(0)
    x, y = torch.randn(50, 2), torch.randn(50, 2) + 1
    w = wasserstein_exact(x, y)
    assert isinstance(w, float) and w == pytest.approx(wasserstein_exact(y, x))


def test_w1_rejects_mismatched_sizes_and_dims():
    with pytest.raises(ValueError, match="same number of points"):
        wasserstein_exact(torch.zeros(5, 2), torch.zeros(6, 2))
    with pytest.raises(ValueError, match="same number of points"):
        wasserstein_exact(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="same dimension"):
        wasserstein_exact(torch.zeros(5, 2), torch.zeros(5, 3))

"""Sample-quality metrics for the toy distributions: mode coverage and exact Wasserstein-1.

- ``mode_coverage``: the public mode-collapse protocol of PacGAN (Lin et al. 2018, Table 1)
  and VEEGAN (Srivastava et al. 2017, Table 1); THEORY.md §4.
- ``wasserstein_exact``: the W1 distance of THEORY.md §2 between two empirical distributions,
  computed exactly (the quantity the WGAN critic only estimates, up to its Lipschitz constant).

Both are pure functions: they take torch tensors or numpy arrays (any device, any float dtype),
compute in float64 numpy on the host, and return Python floats and ints.
"""

from __future__ import annotations

import math

import numpy as np
import torch

ArrayLike = torch.Tensor | np.ndarray


def _as_numpy(a: ArrayLike) -> np.ndarray:
    """A float64 host copy of ``a`` (tensor on any device, or anything numpy accepts)."""
    if isinstance(a, torch.Tensor):
        return a.detach().to("cpu", torch.float64).numpy()
    return np.asarray(a, dtype=np.float64)


def _as_points(a: ArrayLike, name: str) -> np.ndarray:
    """``a`` as an (n, d) array of n points; a 1-D array of shape (n,) is n points in 1-D."""
    x = _as_numpy(a)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got {tuple(x.shape)}")
    return x


def mode_coverage(samples: ArrayLike, centres: ArrayLike, std: float) -> dict:
    """Modes recovered, % high-quality samples and mode KL (PacGAN / VEEGAN Table 1, THEORY.md §4).

    With K centres c_1..c_K and n samples x_i, let k(i) = argmin_k ‖x_i - c_k‖ be the nearest
    centre of x_i. Then

    - x_i is *high quality* (HQ) if ‖x_i - c_k(i)‖ ≤ 3·std;
    - mode k is *recovered* if at least one HQ sample has k(i) = k;
    - p_k = #{HQ i : k(i) = k} / #{HQ i} is the mode histogram of the HQ samples, and
      mode_kl = KL(p ‖ U_K) = Σ_k p_k log(K p_k) = log K - H(p), with 0·log 0 = 0.
      It is 0 when the HQ samples spread evenly over the modes and log K when they all fall on
      one mode. If there is no HQ sample, p is undefined; we report the maximum, log K, as if
      all the mass sat on one mode, so a total failure never scores better than a collapse.

    Returns ``{"modes": int, "high_quality_pct": float in [0, 100], "mode_kl": float}``.
    ``samples`` is (n, d) (or (n,) for 1-D data) and ``centres`` is (K, d), e.g.
    ``ring().centres`` with ``ring().std``. The protocol evaluates n = 2,500 samples.
    """
    x = _as_points(samples, "samples")
    c = _as_points(centres, "centres")
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples are {x.shape[1]}-D but centres are {c.shape[1]}-D")
    if len(x) == 0:
        raise ValueError("mode_coverage needs at least one sample")
    if len(c) == 0:
        raise ValueError("mode_coverage needs at least one centre")
    if not float(std) > 0:
        raise ValueError(f"std must be > 0, got {std}")

    n_modes = len(c)
    distances = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=2)  # (n, K)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(x)), nearest] <= 3.0 * float(std)

    counts = np.bincount(nearest[high_quality], minlength=n_modes)
    n_hq = int(counts.sum())
    if n_hq == 0:
        mode_kl = math.log(n_modes)
    else:
        p = counts[counts > 0] / n_hq  # 0·log 0 = 0: empty modes contribute nothing
        mode_kl = float(np.sum(p * np.log(n_modes * p)))
    return {
        "modes": int((counts > 0).sum()),
        "high_quality_pct": 100.0 * n_hq / len(x),
        "mode_kl": max(mode_kl, 0.0),  # KL ≥ 0; clamp float round-off below 0
    }


def wasserstein_exact(x: ArrayLike, y: ArrayLike) -> float:
    """Exact W1(μ, ν) between μ = (1/n) Σ δ_{x_i} and ν = (1/n) Σ δ_{y_j}, Euclidean cost.

    W1(μ, ν) = min over couplings γ of Σ_ij γ_ij ‖x_i - y_j‖ (THEORY.md §2). With equal n and
    uniform weights the couplings are the doubly stochastic matrices / n, whose extreme points
    are the permutation matrices (Birkhoff–von Neumann), so

        W1 = min over permutations σ of (1/n) Σ_i ‖x_i - y_σ(i)‖.

    - 1-D data (shape (n,) or (n, 1)): the sorted matching is optimal,
      W1 = (1/n) Σ_i |x_(i) - y_(i)| = mean(|sort(x) - sort(y)|), in O(n log n).
    - d ≥ 2: the network-simplex solver of POT (``ot.emd2``) on the (n, n) Euclidean cost
      matrix with uniform weights. The cost matrix is O(n²) in memory, so keep n around
      ≤ 2,500 (the protocol's sample count) on CPU.

    Raises ValueError if x and y have different numbers of points or dimensions.
    """
    a = _as_points(x, "x")
    b = _as_points(y, "y")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"wasserstein_exact needs the same number of points in x and y (uniform weights), "
            f"got {a.shape[0]} and {b.shape[0]}"
        )
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]}-D and {b.shape[1]}-D")
    if a.shape[0] == 0:
        raise ValueError("wasserstein_exact needs at least one point")

    if a.shape[1] == 1:
        return float(np.mean(np.abs(np.sort(a[:, 0]) - np.sort(b[:, 0]))))

    import ot  # POT, Python Optimal Transport
    from scipy.spatial.distance import cdist

    cost = cdist(a, b)  # Euclidean ‖x_i - y_j‖
    # POT's network simplex, not scipy's linear_sum_assignment: an order of magnitude faster
    # on these cases (docs/performance.md, Evaluation)
    weights = np.full(a.shape[0], 1.0 / a.shape[0])
    return float(ot.emd2(weights, weights, cost, numItermax=10_000_000))

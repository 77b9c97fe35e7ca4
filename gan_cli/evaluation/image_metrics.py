"""Distances between two sets of feature vectors: FID, KID and precision/recall/density/coverage.

All take (n, d) arrays (torch tensors or numpy), compute in float64 numpy on the host and
return Python floats. They know nothing about images: the features come from
``gan_cli.evaluation.features`` (image data) or are the raw coordinates themselves (toy data).

- ``frechet_distance`` (FID, Heusel et al. 2017): the Fréchet distance between the Gaussians
  fitted to the two sets,
      FID = ‖μ_r - μ_g‖² + Tr(Σ_r + Σ_g - 2 (Σ_r Σ_g)^{1/2}).
- ``kernel_distance`` (KID, Bińkowski et al. 2018): the unbiased MMD² with the cubic
  polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets (mean and std).
- ``prdc`` (Naeem et al. 2020, k-NN manifolds with k = 5): precision, recall, density, coverage.

Implemented here rather than through torchmetrics or the ``prdc`` package: the formulas are a
few lines each, and this keeps the image metrics free of optional dependencies (torchmetrics'
own FID defaults to torch-fidelity's Inception, which needs torchvision). ``tests/test_image_metrics``
checks FID and KID against torchmetrics' implementations where torchmetrics is installed.
"""

from __future__ import annotations

import numpy as np

from gan_cli.evaluation.metrics import ArrayLike, _as_points

KID_SUBSET_SIZE = 1000  # Bińkowski et al.'s subsets (torchmetrics' default too)
KID_SUBSETS = 100
PRDC_K = 5  # Naeem et al. 2020's recommended k


def _pair(real: ArrayLike, fake: ArrayLike, least: int) -> tuple[np.ndarray, np.ndarray]:
    r, g = _as_points(real, "real"), _as_points(fake, "fake")
    if r.shape[1] != g.shape[1]:
        raise ValueError(f"real and fake features differ in dimension: {r.shape[1]} and {g.shape[1]}")
    if min(len(r), len(g)) < least:
        raise ValueError(f"need at least {least} real and {least} fake vectors, got {len(r)} and {len(g)}")
    return r, g


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (via eigh)."""
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(real: ArrayLike, fake: ArrayLike) -> float:
    """FID = ‖μ_r - μ_g‖² + Tr Σ_r + Tr Σ_g - 2 Tr (Σ_r Σ_g)^{1/2}, with unbiased covariances.

    Tr (Σ_r Σ_g)^{1/2} = Σ_i √λ_i, λ the eigenvalues of the symmetric PSD matrix
    Σ_r^{1/2} Σ_g Σ_r^{1/2}, which has the same spectrum as Σ_r Σ_g; this avoids scipy's
    ``sqrtm`` of a non-symmetric matrix and its complex round-off.
    """
    r, g = _pair(real, fake, 2)
    mu_r, mu_g = r.mean(0), g.mean(0)
    cov_r, cov_g = np.cov(r, rowvar=False, ddof=1), np.cov(g, rowvar=False, ddof=1)
    cov_r, cov_g = np.atleast_2d(cov_r), np.atleast_2d(cov_g)
    root = _sqrt_psd(cov_r)
    cross = np.linalg.eigvalsh(root @ cov_g @ root)
    trace_sqrt = float(np.sqrt(np.clip(cross, 0.0, None)).sum())
    fid = float(((mu_r - mu_g) ** 2).sum() + np.trace(cov_r) + np.trace(cov_g) - 2.0 * trace_sqrt)
    return max(fid, 0.0)  # ≥ 0; clamp round-off


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (aᵀb / d + 1)³:
    (1/(m(m-1))) Σ_{i≠j} [k(x_i, x_j) + k(y_i, y_j)] - (2/m²) Σ_{i,j} k(x_i, y_j)."""
    m, d = len(x), x.shape[1]
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    off = lambda k: k.sum() - np.trace(k)  # noqa: E731 -- the sum over i ≠ j
    return float((off(k_xx) + off(k_yy)) / (m * (m - 1)) - 2.0 * k_xy.mean())


def kernel_distance(real: ArrayLike, fake: ArrayLike, subsets: int = KID_SUBSETS,
                    subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """KID: (mean, std) of the unbiased MMD² over ``subsets`` random subsets of
    ``min(subset_size, n_real, n_fake)`` vectors from each set, drawn without replacement
    within a subset (Bińkowski et al. 2018). Can be slightly negative (unbiased)."""
    r, g = _pair(real, fake, 2)
    m = min(int(subset_size), len(r), len(g))
    rng = np.random.default_rng(seed)
    values = [_mmd2_unbiased(r[rng.choice(len(r), m, replace=False)], g[rng.choice(len(g), m, replace=False)])
              for _ in range(int(subsets))]
    return float(np.mean(values)), float(np.std(values))


def _rows(a: np.ndarray, b: np.ndarray, chunk: int = 1024):
    """Euclidean distance rows ‖a_i - b_j‖ for a chunk of a's rows at a time (bounded memory)."""
    b2 = (b * b).sum(1)
    for start in range(0, len(a), chunk):
        x = a[start:start + chunk]
        d2 = (x * x).sum(1)[:, None] + b2[None, :] - 2.0 * x @ b.T
        yield start, np.sqrt(np.clip(d2, 0.0, None))


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each x_i to its k-th nearest neighbour among the other points of x."""
    radii = np.empty(len(x))
    for start, d in _rows(x, x):
        radii[start:start + len(d)] = np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself
    return radii


def prdc(real: ArrayLike, fake: ArrayLike, k: int = PRDC_K) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020, eqs. 1-4), k-NN balls.

    With r_i the distance from real X_i to its k-th nearest real neighbour, B(X_i, r_i) the
    open ball around it (‖x − X_i‖ < r_i), and likewise s_j for fake Y_j among the fakes
    (N real, M fake):

    - precision = (1/M) Σ_j 1[Y_j ∈ ∪_i B(X_i, r_i)]   (fakes that land on the real manifold)
    - recall    = (1/N) Σ_i 1[X_i ∈ ∪_j B(Y_j, s_j)]   (reals that the fake manifold covers)
    - density   = (1/(kM)) Σ_j Σ_i 1[Y_j ∈ B(X_i, r_i)]   (can exceed 1)
    - coverage  = (1/N) Σ_i 1[min_j ‖X_i - Y_j‖ < r_i]

    The balls are open, as in Naeem et al.'s reference code (the ``prdc`` package): a ball holds
    its centre and the k − 1 neighbours strictly inside it, so identical sets give 1 for all four,
    and duplicated (memorised) samples are counted as the reference counts them.
    """
    r, g = _pair(real, fake, int(k) + 1)
    k = int(k)
    real_radii, fake_radii = _knn_radii(r, k), _knn_radii(g, k)
    in_ball_count = np.zeros(len(g))  # per fake: the real balls holding it
    nearest_fake = np.empty(len(r))  # per real: distance to its nearest fake
    recalled = np.zeros(len(r), dtype=bool)
    for start, d in _rows(r, g):  # d[i, j] = ‖X_i - Y_j‖
        rows = slice(start, start + len(d))
        in_ball_count += (d < real_radii[rows, None]).sum(0)
        nearest_fake[rows] = d.min(1)
        recalled[rows] = (d < fake_radii[None, :]).any(1)
    return {
        "precision": float((in_ball_count > 0).mean()),
        "recall": float(recalled.mean()),
        "density": float(in_ball_count.sum() / (k * len(g))),
        "coverage": float((nearest_fake < real_radii).mean()),
    }

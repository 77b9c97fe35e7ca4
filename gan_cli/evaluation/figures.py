"""Figures that say more than a number (matplotlib, Agg backend: no display needed).

- 2-D data: real and generated samples over a contour of the discriminator/critic output,
  the picture of the WGAN-GP reference toy code.
- 1-D data: the real and generated densities with the D(x) curve, as in Fig. 1 of the GAN paper.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402


def _on(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """D's score for each point of ``x`` (a packed D scores each point as a pack of copies)."""
    device = next(module.parameters()).device
    score = getattr(module, "score_each", module)
    with torch.no_grad():
        return score(torch.as_tensor(x, dtype=torch.float32, device=device)).float().cpu().numpy()


def samples_over_critic(
    real: Tensor, fake: Tensor, discriminator: nn.Module, output: Callable[[Tensor], Tensor], label: str, title: str
):
    """Scatter of real vs generated 2-D samples over a contour of ``output(D(x))``."""
    real, fake = real.float().cpu().numpy(), fake.float().cpu().numpy()
    both = np.concatenate([real, fake])
    lo, hi = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
    pad = 0.15 * (hi - lo).max() + 0.1
    lo, hi = lo - pad, hi + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    scores = output(torch.as_tensor(_on(discriminator, grid))).numpy().reshape(gx.shape)

    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    contour = ax.contourf(gx, gy, scores, levels=20, cmap="RdBu_r", alpha=0.6)
    fig.colorbar(contour, ax=ax, label=label)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="black", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:orange", alpha=0.5, label="generated")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def densities_1d(
    real: Tensor, fake: Tensor, discriminator: nn.Module, output: Callable[[Tensor], Tensor], label: str, title: str
):
    """Histograms of real and generated 1-D samples, with the D/critic output on a second axis."""
    real, fake = real.float().cpu().numpy().ravel(), fake.float().cpu().numpy().ravel()
    lo, hi = min(real.min(), fake.min()), max(real.max(), fake.max())
    pad = 0.1 * (hi - lo) + 0.5
    xs = np.linspace(lo - pad, hi + pad, 400)
    bins = np.linspace(lo - pad, hi + pad, 80)

    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
    ax.hist(real, bins=bins, density=True, alpha=0.5, color="black", label="real  p_r")
    ax.hist(fake, bins=bins, density=True, alpha=0.5, color="tab:orange", label="generated  p_g")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    twin = ax.twinx()
    twin.plot(xs, output(torch.as_tensor(_on(discriminator, xs[:, None]))).numpy().ravel(), color="tab:blue")
    twin.set_ylabel(label, color="tab:blue")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def image_grid(samples: Tensor, image_shape: tuple[int, int, int], columns: int = 8, padding: int = 2) -> np.ndarray:
    """Flattened images in [-1, 1] (n × C·H·W) as one H×W×C uint8 picture, ``columns`` per row,
    with a ``padding``-pixel border between them (torchvision's make_grid, which has no CPU
    build here)."""
    c, h, w = image_shape
    images = ((samples.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    images = images.reshape(-1, c, h, w).transpose(0, 2, 3, 1)  # n × H × W × C
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = padding + (i // columns) * (h + padding), padding + (i % columns) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def save_image(picture: np.ndarray, path) -> None:
    """An H×W×C uint8 array as a PNG (one channel: grey)."""
    from PIL import Image

    Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(path)

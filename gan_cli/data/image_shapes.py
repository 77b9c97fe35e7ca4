"""Procedural images (discs, squares, triangles) that need no files: ``dataset=shapes``."""

from __future__ import annotations

import numpy as np

from gan_cli.config import require
from gan_cli.data.image_formats import _check_channels, _check_resolution

def make_shapes(n: int, resolution: int = 32, channels: int = 3, seed: int = 0,
                with_labels: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic images as uint8 N×C×resolution×resolution, the same for the same seed.

    Each image holds one shape on a dark background (each channel in 0..39): a disc, an
    axis-aligned square or an upward triangle (equal thirds on average), of half-size 15-35 %
    of the side, placed uniformly so it lies inside the image, in a bright colour (each
    channel 64..255; grey images use its luminance). Rendered with numpy in chunks, so memory
    stays bounded. ``with_labels``: also return the shape drawn in each image (0 disc,
    1 square, 2 triangle), the classes that the evaluation's feature classifier learns
    (gan_cli.evaluation.features).
    """
    resolution, channels = _check_resolution(resolution), _check_channels(channels)
    require("dataset.num_images", n)
    require("dataset.seed", seed)
    rng = np.random.default_rng(seed)
    # every random draw happens here, before rendering, so the chunk size cannot change the result
    kind = rng.integers(0, 3, n)
    half = rng.uniform(0.15, 0.35, n) * resolution
    cx = rng.uniform(half, resolution - half)
    cy = rng.uniform(half, resolution - half)
    colour = rng.integers(64, 256, (n, 3)).astype(np.float32)
    background = rng.integers(0, 40, (n, 3)).astype(np.float32)
    if channels == 1:  # ITU-R 601 luminance, as Pillow's convert("L")
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        colour, background = colour @ weights[:, None], background @ weights[:, None]

    centres = np.arange(resolution, dtype=np.float32) + 0.5  # pixel centres
    out = np.empty((n, channels, resolution, resolution), dtype=np.uint8)
    chunk = max(1, 2**20 // (resolution * resolution))
    for start in range(0, n, chunk):
        s = slice(start, start + chunk)
        dx = centres[None, None, :] - cx[s, None, None].astype(np.float32)
        dy = centres[None, :, None] - cy[s, None, None].astype(np.float32)
        h = half[s, None, None].astype(np.float32)
        k = kind[s, None, None]
        disc = dx * dx + dy * dy <= h * h
        square = (np.abs(dx) <= h) & (np.abs(dy) <= h)
        # apex at (cx, cy - h), base from (cx - h, cy + h) to (cx + h, cy + h)
        triangle = (dy <= h) & (np.abs(dx) <= (dy + h) / 2)
        mask = np.where(k == 0, disc, np.where(k == 1, square, triangle))
        image = np.where(mask[:, None], colour[s, :, None, None], background[s, :, None, None])
        out[s] = np.rint(image).astype(np.uint8)
    return (out, kind.astype(np.int64)) if with_labels else out

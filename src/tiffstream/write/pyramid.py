"""Reduced-resolution levels for SubIFD pyramids and thumbnails, computed a band of rows at a time.

A level is a lazy array-like (``shape``, ``dtype``, ``[y0:y1, x0:x1]``) over the image above it: the
writer reads it one band of chunks at a time, so a pyramid of a slide larger than memory is written
with memory for a few bands only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Downsampled", "downsample_mean", "levels"]


def downsample_mean(image: np.ndarray, factor: int = 2) -> np.ndarray:
    """``(h, w, s)`` image -> ``(h // factor, w // factor, s)``: the mean of each block, rounded for integers."""
    height, width = image.shape[0] // factor, image.shape[1] // factor
    if height == 0 or width == 0:
        raise ValueError(f"a {image.shape[0]}x{image.shape[1]} image is too small to reduce by {factor}")
    blocks = image[: height * factor, : width * factor].reshape(height, factor, width, factor, -1)
    mean = blocks.mean(axis=(1, 3), dtype=np.float64)
    if image.dtype.kind in "iub":
        mean = np.rint(mean)
    return mean.astype(image.dtype)


class Downsampled:
    """``source`` (an ``(h, w, s)`` array-like) reduced by ``factor``; rows and columns read on demand."""

    def __init__(self, source: Any, factor: int = 2, reduce: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        height, width, samples = source.shape
        if height // factor == 0 or width // factor == 0:
            raise ValueError(f"a {height}x{width} image is too small to reduce by {factor}")
        self.source = source
        self.factor = factor
        self.reduce = reduce
        self.shape = (height // factor, width // factor, samples)
        self.dtype = np.dtype(source.dtype)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        y0, y1, _ = rows.indices(self.shape[0])
        x0, x1, _ = cols.indices(self.shape[1])
        f = self.factor
        band = np.asarray(self.source[y0 * f : y1 * f, x0 * f : x1 * f])
        if band.ndim == 2:
            band = band[:, :, np.newaxis]
        if self.reduce is not None and f == 2:
            return _samples_last(self.reduce(band))
        return downsample_mean(band, f)


def _samples_last(image: np.ndarray) -> np.ndarray:
    return image[:, :, np.newaxis] if image.ndim == 2 else image


def levels(image: Any, count: int, downsample: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Any]:
    """``count`` successively halved levels of ``image`` (level 1 first), each read lazily from the last."""
    result: list[Any] = []
    current = image
    for _ in range(count):
        current = Downsampled(current, 2, downsample)
        result.append(current)
    return result

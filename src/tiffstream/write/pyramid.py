"""Reduced-resolution levels for SubIFD pyramids and thumbnails: block means (or any given function)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["downsample_mean", "levels"]


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


def levels(
    image: np.ndarray, count: int, downsample: Callable[[np.ndarray], np.ndarray] | None = None
) -> list[np.ndarray]:
    """``count`` successively halved levels of ``image`` (level 1 first)."""
    reduce = downsample or downsample_mean
    result = []
    current = image
    for _ in range(count):
        current = reduce(current)
        if current.ndim == 2:
            current = current[:, :, np.newaxis]
        result.append(current)
    return result

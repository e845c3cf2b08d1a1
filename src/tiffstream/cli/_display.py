"""Pictures for people: decoded samples as the gray or RGB image a viewer shows, and area resizing.

Palette images are looked up, CMYK and YCbCr converted, MinIsWhite inverted, extra samples dropped (the
decoder's sRGB rules); floats and signed integers are scaled by their own range (not clipped to [0, 1]
or at zero), booleans become 0/255. Unsigned 16-bit gray or RGB stays 16-bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..color import convert

if TYPE_CHECKING:
    from ..plan import DecodePlan

__all__ = ["displayable", "fit"]


def _by_range(array: np.ndarray) -> np.ndarray:
    """Values mapped to [0, 1] by their finite minimum and maximum (NaN and infinities to 0)."""
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(array.shape, np.float64)
    low, high = values[finite].min(), values[finite].max()
    values[~finite] = low
    return (values - low) / (high - low) if high > low else np.zeros(array.shape, np.float64)


def displayable(array: np.ndarray, plan: DecodePlan) -> np.ndarray:
    """``(height, width[, 3])`` uint8 (or uint16) samples showing ``array`` (decoded by ``plan``)."""
    if array.dtype.kind == "c":
        raise ValueError("complex samples have no picture: write .npy or .tif")
    if array.dtype.kind in "fi" and plan.photometric != 3:
        array = _by_range(array)
    gray = plan.photometric in (0, 1, 4) or (plan.photometric == 5 and plan.samples_per_pixel == 1)
    keep16 = array.dtype == np.uint16 and plan.photometric in (1, 2) and plan.bits_per_sample[0] == 16
    image, _ = convert(array, plan, color="gray" if gray else "srgb", any_depth=keep16)
    return image[:, :, 0] if image.shape[2] == 1 else image


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` reduced by area averaging so its longest side is ``size`` (aspect kept); never enlarged."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return image
    rows, cols = max(1, round(height * scale)), max(1, round(width * scale))
    row_edges = (np.arange(rows) * height) // rows
    col_edges = (np.arange(cols) * width) // cols
    sums = np.add.reduceat(np.add.reduceat(image.astype(np.float64), row_edges, axis=0), col_edges, axis=1)
    counts = np.outer(np.diff(np.append(row_edges, height)), np.diff(np.append(col_edges, width)))
    mean = sums / (counts[:, :, None] if image.ndim == 3 else counts)
    return np.rint(mean).astype(image.dtype)

"""The levels of a slide as OpenSlide sees them: a series' pyramid, plus the levels OpenSlide derives for
Hamamatsu files (the smallest JPEG level read at 1/2, 1/4 and 1/8 scale), each read as RGBA pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..color import convert

if TYPE_CHECKING:
    from ..tiff.series import Level

__all__ = ["SlideLevel", "rgba"]


def rgba(pixels: np.ndarray, level: Level) -> np.ndarray:
    """Decoded page samples as ``(h, w, 4)`` uint8, the way OpenSlide shows them: scaled to 8 bits and
    rounded (16-bit ``v`` to ``round(v / 257)``), palette/CMYK/YCbCr/MinIsWhite converted, alpha kept or 255."""
    plan = level.keyframe.plan
    rgb, _ = convert(pixels, plan, color="srgb", any_depth=False)
    out = np.empty((*rgb.shape[:2], 4), np.uint8)
    out[:, :, :3] = rgb
    hwc = np.moveaxis(pixels, 0, -1) if level.keyframe.axes == "SYX" else pixels
    alpha = plan.photometric == 2 and hwc.ndim == 3 and hwc.shape[2] >= 4 and plan.extra_samples[:1] in ((1,), (2,))
    out[:, :, 3] = hwc[:, :, 3] if alpha and hwc.dtype == np.uint8 else 255
    return out


@dataclass(frozen=True)
class SlideLevel:
    """One level of a slide: a series level, read at ``1 / reduce`` scale (1: as stored)."""

    level: Level
    reduce: int = 1

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        height, width = _yx(self.level)
        return -(-width // self.reduce), -(-height // self.reduce)

    @property
    def tile_size(self) -> tuple[int, int]:
        """(tile width, tile height) as OpenSlide reports them."""
        plan = self.level.keyframe.plan
        return max(1, plan.chunk_width // self.reduce), max(1, plan.chunk_height // self.reduce)

    def read(self, x: int, y: int, width: int, height: int) -> np.ndarray:
        """RGBA pixels of the rectangle at (x, y) of this level, inside it."""
        f = self.reduce
        level_height, level_width = _yx(self.level)
        box = (y * f, x * f, min((y + height) * f, level_height), min((x + width) * f, level_width))
        key = 0 if len(self.level) > 1 else None
        pixels = self.level.asarray(key=key, region=box) if key is not None else self.level.asarray(region=box)
        pixels = pixels.reshape(_page_shape(self.level, box))
        image = rgba(pixels, self.level)
        if f == 1:
            return image
        return _reduce(image, f, height, width)


def _yx(level: Level) -> tuple[int, int]:
    shape, axes = level.page_shape, level.keyframe.axes
    return shape[axes.index("Y")], shape[axes.index("X")]


def _page_shape(level: Level, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    rows, cols = box[2] - box[0], box[3] - box[1]
    axes = level.keyframe.axes
    return tuple(rows if a == "Y" else cols if a == "X" else n for n, a in zip(level.page_shape, axes, strict=True))


def _reduce(image: np.ndarray, f: int, height: int, width: int) -> np.ndarray:
    """Mean of each ``f x f`` block (edge blocks of what there is), ``height x width`` at most."""
    rows, cols = math.ceil(image.shape[0] / f), math.ceil(image.shape[1] / f)
    padded = np.zeros((rows * f, cols * f, 4), np.float64)
    counts = np.zeros((rows * f, cols * f, 1), np.float64)
    padded[: image.shape[0], : image.shape[1]] = image
    counts[: image.shape[0], : image.shape[1]] = 1
    total = padded.reshape(rows, f, cols, f, 4).sum(axis=(1, 3))
    n = counts.reshape(rows, f, cols, f, 1).sum(axis=(1, 3))
    return np.rint(total / np.maximum(n, 1)).astype(np.uint8)[:height, :width]

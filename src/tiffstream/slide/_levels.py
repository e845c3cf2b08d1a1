"""The levels of a slide as OpenSlide sees them: a series' pyramid, plus the levels OpenSlide derives for
Hamamatsu files (the smallest JPEG level read at 1/2, 1/4 and 1/8 scale), each read as RGBA pixels."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..color import convert
from ..cpu.backend import decode_plan
from ..cpu.rgba import tile_rgba

if TYPE_CHECKING:
    from types import ModuleType

    from ..plan import DecodePlan
    from ..source import ByteSource
    from ..tiff.series import Level
    from ._cache import TileCache

__all__ = ["SlideLevel", "displayed", "paste", "rgba"]

_RGBA_TILE_WIDTH = 2048


def displayed(pixels: np.ndarray, level: Level, xp: ModuleType = np) -> np.ndarray:
    """Decoded page samples as OpenSlide shows them: ``(h, w, 3)`` uint8, or ``(h, w, 4)`` with the image's
    own alpha; scaled to 8 bits and rounded (16-bit ``v`` to ``round(v / 257)``), palette, CMYK, YCbCr and
    MinIsWhite converted. RGB samples come back without a copy. ``xp``: numpy, or CuPy for device arrays."""
    plan = level.keyframe.plan
    rgb, _ = convert(pixels, plan, color="srgb", any_depth=False, xp=xp)
    hwc = xp.moveaxis(pixels, 0, -1) if level.keyframe.axes == "SYX" else pixels
    alpha = plan.photometric == 2 and hwc.ndim == 3 and hwc.shape[2] >= 4 and plan.extra_samples[:1] in ((1,), (2,))
    if not (alpha and hwc.dtype == np.uint8):
        return rgb
    return xp.concatenate([rgb, hwc[:, :, 3:4]], axis=2)


def rgba(pixels: np.ndarray, level: Level) -> np.ndarray:
    """Decoded page samples as ``(h, w, 4)`` uint8 RGBA (opaque unless the image has its own alpha)."""
    shown = displayed(pixels, level)
    out = np.empty((*shown.shape[:2], 4), np.uint8)
    paste(out, shown)
    return out


def paste(out: np.ndarray, shown: np.ndarray) -> None:
    """``shown`` (RGB or RGBA) into the RGBA ``out`` of the same height and width."""
    if _paste_rgb_words(out, shown):
        return
    out[:, :, :3] = shown[:, :, :3]
    out[:, :, 3] = shown[:, :, 3] if shown.shape[2] == 4 else 255


def _paste_rgb_words(out: np.ndarray, shown: np.ndarray) -> bool:
    """Contiguous RGB into contiguous RGBA as 32-bit words, each read at a 3-byte stride and made opaque (7x
    faster than two strided copies: a decoded tile took as long to paste as to decode). False where it does not
    apply (the caller copies)."""
    pixels = shown.shape[0] * shown.shape[1]
    if (
        _BIG_ENDIAN
        or pixels < 2
        or shown.shape[2] != 3
        or shown.dtype != np.uint8
        or not shown.flags.c_contiguous
        or not out.flags.c_contiguous
    ):
        return False
    words = out.reshape(-1).view(np.uint32)
    # pixel k's word holds its R, G, B and the next pixel's R (replaced by alpha): the last pixel has no next
    np.bitwise_or(np.ndarray((pixels - 1,), np.uint32, shown, 0, (3,)), _OPAQUE, out=words[:-1])
    out.reshape(-1, 4)[-1] = (*shown.reshape(-1, 3)[-1], 255)
    return True


_BIG_ENDIAN = sys.byteorder != "little"
_OPAQUE = np.uint32(0xFF000000)


@dataclass(frozen=True)
class SlideLevel:
    """One level of a slide: a series level, read at ``1 / reduce`` scale (1: as stored)."""

    level: Level
    reduce: int = 1

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        height, width = self.level.image_size
        return -(-width // self.reduce), -(-height // self.reduce)

    @property
    def tile_size(self) -> tuple[int, int]:
        """(tile width, tile height) as OpenSlide reports them."""
        plan = self.level.keyframe.plan
        return max(1, plan.chunk_width // self.reduce), max(1, plan.chunk_height // self.reduce)

    def read(
        self, x: int, y: int, width: int, height: int, cache: TileCache | None = None, into: np.ndarray | None = None
    ) -> np.ndarray:
        """Pixels of the rectangle at (x, y) of this level, inside it, as OpenSlide shows them: RGB, or RGBA
        where the image has its own alpha. Whole stored tiles are decoded (and kept in ``cache``) and the
        rectangle is cut from them, rows at a time: into ``into`` (``(height, width, 4)``) where its tiles are
        kept as RGBA and the level is stored (then ``into`` is returned), else into an array of its own."""
        f = self.reduce
        level_height, level_width = self.level.image_size
        box = (y * f, x * f, min((y + height) * f, level_height), min((x + width) * f, level_width))
        image = self._stored(box, cache, into if f == 1 else None)
        return image if f == 1 else _reduce(image, f, height, width)

    def _stored(self, box: tuple[int, int, int, int], cache: TileCache | None, into: np.ndarray | None) -> np.ndarray:
        y0, x0, y1, x1 = box
        found = self.level.images.image(0)
        if found is None:
            return np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        plan, source = found
        rows, cols = plan.chunk_height, plan.chunk_width
        out: np.ndarray | None = None
        for top in range(y0 // rows * rows, y1, rows):
            for left in range(x0 // cols * cols, x1, cols):
                tile = self._tile(plan, source, top, left, cache)
                if out is None and into is not None and into.shape == (y1 - y0, x1 - x0, tile.shape[2]):
                    out = into
                if out is None:  # RGB, or RGBA for images with their own alpha: as the tiles are
                    out = np.zeros((y1 - y0, x1 - x0, tile.shape[2]), np.uint8)
                ty0, tx0 = max(y0, top), max(x0, left)
                ty1, tx1 = min(y1, top + tile.shape[0]), min(x1, left + tile.shape[1])
                out[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0] = tile[ty0 - top : ty1 - top, tx0 - left : tx1 - left]
        assert out is not None  # the box is not empty
        return out

    def _tile(self, plan: DecodePlan, source: ByteSource, top: int, left: int, cache: TileCache | None) -> np.ndarray:
        key = (source.name, plan.ifd_offset, top, left)
        tile = cache.get(key) if cache is not None else None
        if tile is None:
            tile = tile_rgba(plan, source, top, left)
            if tile is None:
                bottom, right = min(top + plan.chunk_height, plan.height), min(left + plan.chunk_width, plan.width)
                pixels = decode_plan(plan, source, region=(top, left, bottom, right), max_workers=1)
                # tiles of ordinary width are kept as RGBA, ready to copy out; strips as wide as an NDPI level's
                # (8 x 3968) as RGB, since a patch uses a small part of each and converts only that part
                shown = displayed(pixels, self.level)
                tile = rgba(pixels, self.level) if plan.chunk_width <= _RGBA_TILE_WIDTH else np.ascontiguousarray(shown)
            if cache is not None:
                cache.put(key, tile)
        return tile


def downsamples(levels: list[SlideLevel]) -> tuple[float, ...]:
    """Each level's downsample as OpenSlide defines it: the mean of its width and height ratios to level 0."""
    width0, height0 = levels[0].size
    return tuple((width0 / width + height0 / height) / 2 for width, height in (level.size for level in levels))


def _reduce(image: np.ndarray, f: int, height: int, width: int) -> np.ndarray:
    """Mean of each ``f x f`` block (edge blocks of what there is), ``height x width`` at most."""
    rows, cols, channels = math.ceil(image.shape[0] / f), math.ceil(image.shape[1] / f), image.shape[2]
    padded = np.zeros((rows * f, cols * f, channels), np.float64)
    counts = np.zeros((rows * f, cols * f, 1), np.float64)
    padded[: image.shape[0], : image.shape[1]] = image
    counts[: image.shape[0], : image.shape[1]] = 1
    total = padded.reshape(rows, f, cols, f, channels).sum(axis=(1, 3))
    n = counts.reshape(rows, f, cols, f, 1).sum(axis=(1, 3))
    return np.rint(total / np.maximum(n, 1)).astype(np.uint8)[:height, :width]

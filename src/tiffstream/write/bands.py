"""The writer's pixels a band at a time: arrays or lazy array-likes cut into strips or tiles to encode.

A page may be a numpy array or anything with ``shape``, ``dtype`` and 2-D slicing (a series level, a
zarr or dask array, a ``Downsampled`` pyramid level): the writer asks for one band of chunk rows at a
time (at most ~16 MiB of strips, or one row of tiles), so memory stays bounded whatever the page size.
Boolean pages are bilevel: each chunk row is packed to bits (BitsPerSample 1), as TIFF stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Page3", "as_page", "bands", "chunks_of"]

_BAND_BYTES = 16 << 20


class Page3:
    """A 2-D array-like seen as ``(h, w, 1)``."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.shape = (*source.shape, 1)
        self.dtype = np.dtype(source.dtype)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        return np.asarray(self.source[key])[:, :, np.newaxis]


def as_page(data: Any) -> Any:
    """``data`` as an ``(h, w, s)`` array-like: numpy arrays as arrays, others kept lazy."""
    if isinstance(data, np.ndarray) or not (hasattr(data, "shape") and hasattr(data, "dtype")):
        array = np.asarray(data)
        return array[:, :, np.newaxis] if array.ndim == 2 else array
    return Page3(data) if len(data.shape) == 2 else data


def bands(page: Any, rows: int, tile: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """Consecutive full-width bands of ``page``: one row of tiles, or as many strips as fit ~16 MiB."""
    height, width, samples = page.shape
    if tile:
        step = tile[0]
    else:
        row_bytes = max(1, width * samples * np.dtype(page.dtype).itemsize)
        step = rows * max(1, _BAND_BYTES // (rows * row_bytes))
    for y in range(0, height, step):
        band = np.asarray(page[y : y + step, 0:width])
        yield band[:, :, np.newaxis] if band.ndim == 2 else band


def chunks_of(band: np.ndarray, rows: int, tile: tuple[int, int] | None, separate: bool) -> list[np.ndarray]:
    """The chunks of one band in file order (planes first when ``separate``); edge tiles zero-padded."""
    planes = [band[:, :, s : s + 1] for s in range(band.shape[2])] if separate else [band]
    chunks = []
    for plane in planes:
        if tile:
            th, tw = tile
            for x in range(0, plane.shape[1], tw):
                part = plane[:, x : x + tw]
                if part.shape[:2] != (th, tw):
                    padded = np.zeros((th, tw, plane.shape[2]), plane.dtype)
                    padded[: part.shape[0], : part.shape[1]] = part
                    part = padded
                chunks.append(part)
        else:
            chunks += [plane[y : y + rows] for y in range(0, plane.shape[0], rows)]
    return [_bits(chunk) if chunk.dtype == np.bool_ else chunk for chunk in chunks]


def _bits(chunk: np.ndarray) -> np.ndarray:
    """A bilevel chunk's rows packed to bits, most significant first (FillOrder 1): ``(rows, bytes, 1)``."""
    return np.packbits(chunk[:, :, 0], axis=1)[:, :, np.newaxis]

"""Cloud Optimized GeoTIFF: ``CogWriter.write_cog`` lays a tiled image and its overviews out as GDAL's COG
driver does, so a reader fetching ranges gets every IFD in the first request and each tile in one more.

Layout: the header, GDAL's "ghost" structural metadata (``LAYOUT=IFDS_BEFORE_DATA``, ``BLOCK_ORDER=ROW_MAJOR``),
every IFD (full resolution first, then the overviews from largest to smallest, linked in that order), then
the tile data from the smallest overview to the full resolution, each level's tiles in row-major order.
The IFD sizes are known before any tile is encoded (their offset arrays have one entry per tile), so the IFDs
are reserved, the tiles streamed a band at a time, and the IFDs written into their place at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import TiffWriteError
from .bands import as_page
from .pyramid import levels
from .writer import TiffWriter

__all__ = ["CogWriter"]

_GHOST = b"LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nKNOWN_INCOMPATIBLE_EDITION=NO\n"


class CogWriter(TiffWriter):
    """A ``TiffWriter`` that writes one Cloud Optimized GeoTIFF page with ``write_cog`` (then ``close``)."""

    def write_cog(
        self,
        data: Any,
        *,
        overviews: int | Sequence[Any] | None = None,
        tile: tuple[int, int] = (512, 512),
        compression: str | None = "deflate",
        level: int | None = None,
        predictor: bool | int = False,
        photometric: str | None = None,
        extratags: Iterable[tuple[int, int, Any]] = (),
        downsample: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> int:
        """Write ``data`` (``(h, w[, s])``, array or lazy array-like) as a COG. ``overviews``: how many halved
        levels (None: halve while the longest side exceeds a tile), or the images to use (a source's own
        overviews). ``extratags`` (the GeoTIFF tags, typically) go on the full-resolution IFD only."""
        if self._pages:
            raise TiffWriteError("a COG holds one image: write_cog once per writer", path=self.path)
        image, options = self._prepared(
            data, photometric, compression, level, predictor, tile, None, "contig", None, None
        )
        if isinstance(overviews, int) or overviews is None:
            count = _halvings(image.shape[:2], max(tile)) if overviews is None else overviews
            pyramid = [image, *levels(image, count, downsample)]
        else:
            pyramid = [image, *(as_page(view) for view in overviews)]
        tags = list(extratags)
        with self._failing_io():
            self._append(_ghost_header())
            placeholders = [
                self._ifd(
                    k, pyramid[k], options, ([0] * _tiles(pyramid[k], tile), [0] * _tiles(pyramid[k], tile), 0), tags
                )
                for k in range(len(pyramid))
            ]
            positions = []
            for ifd in placeholders:  # reserve every IFD's bytes, word-aligned
                positions.append(self._append(bytes(ifd.size())))
            chunks = {k: self._write_chunks(pyramid[k], options) for k in reversed(range(len(pyramid)))}
            for k, position in enumerate(positions):
                ifd = self._ifd(k, pyramid[k], options, chunks[k], tags)
                link = positions[k + 1] if k + 1 < len(positions) else 0
                serialized = ifd.serialize(position, link)
                if len(serialized.data) != placeholders[k].size():
                    raise AssertionError("an IFD's size changed between reservation and writing")
                self._file.seek(position)
                self._file.write(serialized.data)
            self._file.seek(0, 2)
        self._first_ifd = positions[0]
        self._pages = 1
        return positions[0]

    def _ifd(self, k: int, image: Any, options: dict[str, Any], chunks: Any, tags: list[tuple[int, int, Any]]) -> Any:
        return self._page_ifd(image, options, chunks, subfiletype=1 if k else 0, extratags=() if k else tags)


def _ghost_header() -> bytes:
    """GDAL's structural metadata, read by GDAL to trust the layout (a fixed-width size line first)."""
    return b"GDAL_STRUCTURAL_METADATA_SIZE=%06d bytes\n" % len(_GHOST) + _GHOST


def _tiles(image: Any, tile: tuple[int, int]) -> int:
    height, width = image.shape[:2]
    return -(-height // tile[0]) * -(-width // tile[1])


def _halvings(shape: tuple[int, ...], tile: int) -> int:
    """Overviews GDAL would make: halve while the longest side exceeds a tile."""
    longest, count = max(shape[:2]), 0
    while longest > tile and min(shape[:2]) >> (count + 1):
        longest = -(-longest // 2)
        count += 1
    return count

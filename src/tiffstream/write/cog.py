"""Cloud Optimized GeoTIFF: ``CogWriter.write_cog`` lays a tiled image and its overviews out as GDAL's COG
driver does, so a reader fetching ranges gets every IFD in the first request and each tile in one more.

Layout: the header, GDAL's "ghost" structural metadata (``LAYOUT=IFDS_BEFORE_DATA``, ``BLOCK_ORDER=ROW_MAJOR``),
every IFD (full resolution first, then the overviews from largest to smallest, linked in that order; each
followed by its 1-bit transparency mask's IFD when there is a mask, as GDAL links them), then the tile data
from the smallest overview to the full resolution, each level's tiles in row-major order, then its mask's.
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
        mask: Any = None,
    ) -> int:
        """Write ``data`` (``(h, w[, s])``, array or lazy array-like) as a COG. ``overviews``: how many halved
        levels (None: halve while the longest side exceeds a tile), or the images to use (a source's own
        overviews). ``extratags`` (the GeoTIFF tags, typically) go on the full-resolution IFD only. ``mask``:
        an ``(h, w)`` boolean array-like, True where the image is valid, written as GDAL's 1-bit transparency
        masks (an overview's mask pixel is valid where any of its four is)."""
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
        # (image, options, NewSubfileType, tags) of each IFD, in chain order: a level, then its mask
        entries: list[tuple[Any, dict[str, Any], int, list[Any]]] = []
        masks, mask_options = self._masks(mask, image, len(pyramid), tile) if mask is not None else ([], {})
        for k, level_image in enumerate(pyramid):
            entries.append((level_image, options, 1 if k else 0, tags if k == 0 else []))
            if masks:
                entries.append((masks[k], mask_options, 5 if k else 4, []))
        with self._failing_io():
            self._append(_ghost_header())
            placeholders = [self._entry_ifd(entry, None, tile) for entry in entries]
            positions = []
            for ifd in placeholders:  # reserve every IFD's bytes, word-aligned
                positions.append(self._append(bytes(ifd.size())))
            chunks = {k: self._write_chunks(entries[k][0], entries[k][1]) for k in reversed(range(len(entries)))}
            for k, position in enumerate(positions):
                ifd = self._entry_ifd(entries[k], chunks[k], tile)
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

    def _entry_ifd(self, entry: tuple[Any, dict[str, Any], int, list[Any]], chunks: Any, tile: tuple[int, int]) -> Any:
        """The IFD of one chain entry; without ``chunks``, with zero offsets of the right count (its size)."""
        image, options, kind, tags = entry
        if chunks is None:
            chunks = ([0] * _tiles(image, tile), [0] * _tiles(image, tile), 0)
        return self._page_ifd(image, options, chunks, subfiletype=kind, extratags=tags)

    def _masks(self, mask: Any, image: Any, count: int, tile: tuple[int, int]) -> tuple[list[Any], dict[str, Any]]:
        """The mask's pyramid (halved as the image's) and its encoding (1-bit, Deflate, the image's tiles)."""
        base, options = self._prepared(mask, "mask", "deflate", None, False, tile, None, "contig", None, None)
        if base.shape[:2] != image.shape[:2]:
            raise TiffWriteError(f"the mask is {base.shape[:2]}, the image {image.shape[:2]}", path=self.path)
        return [base, *levels(base, count - 1, _any_valid)], options


def _any_valid(band: np.ndarray) -> np.ndarray:
    """A mask band halved: valid where any pixel of the 2x2 block is."""
    height, width = band.shape[0] // 2, band.shape[1] // 2
    blocks = band[: 2 * height, : 2 * width].reshape(height, 2, width, 2, -1)
    return np.asarray(blocks.any(axis=(1, 3)))


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

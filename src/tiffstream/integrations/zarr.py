"""A read-only zarr v3 store over one series of a TIFF: each pyramid level an array, chunks = TIFF tiles.

``TiffZarrStore(source, series=0)`` (or ``tiffstream.open(src).aszarr(series=0)``) exposes a group whose
arrays ``"0"``, ``"1"``, ... are the series' levels (``TiffFile.series``: OME SubIFD levels, COG
overviews, SVS and NDPI pyramids, ...), shaped and named by the series' axes, with OME-NGFF
``multiscales`` metadata. A zarr chunk is exactly one TIFF chunk of one image: reading it decodes that
one strip or tile (no re-compression); a missing TIFF chunk or image is a missing zarr chunk (the fill).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from zarr.abc.store import Store

from ..errors import UnsupportedTiffError
from ..plan import check_chunk_size

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from zarr.abc.store import ByteRequest
    from zarr.core.buffer import Buffer, BufferPrototype

    from ..reader import TiffReader
    from ..tiff.series import Level

__all__ = ["TiffZarrStore"]


_AXIS_TYPES = {"X": "space", "Y": "space", "Z": "space", "T": "time", "C": "channel", "S": "channel"}


class _Array:
    """One level of the series as a zarr array: a chunk per TIFF strip or tile of each of its images."""

    def __init__(self, level: Level) -> None:
        keyframe = level.keyframe
        self.level = level
        self.shape = level.shape
        page_shape = level.page_shape
        if tuple(self.shape[len(self.shape) - len(page_shape) :]) != page_shape:
            raise UnsupportedTiffError(
                f"level {level.shape} {level.axes} does not end with its page shape {page_shape}: not chunkable",
                path=keyframe.ifd.source.name,
                offset=keyframe.offset,
            )
        self.lead = self.shape[: len(self.shape) - len(page_shape)]
        plan = keyframe.plan
        self.plan = plan
        self.separate = keyframe.axes == "SYX"
        # a chunk the file cannot justify is refused before any is read; zarr allocates what a read asks
        # for (a sparse 20480^2 COG level is 1.6 GB of fill value, as with tifffile's store)
        check_chunk_size(plan, keyframe.ifd.source.size)
        # a tile larger than the image is one zarr chunk of the image's size
        height, width = level.image_size
        rows, cols = min(plan.chunk_height, max(height, 1)), min(plan.chunk_width, max(width, 1))
        if self.separate:
            tail: tuple[int, ...] = (1, rows, cols)
        elif len(page_shape) == 3:
            tail = (rows, cols, page_shape[2])
        else:
            tail = (rows, cols)
        self.chunks = (*(1,) * len(self.lead), *tail)
        self.height, self.width = height, width

    def metadata(self) -> dict[str, Any]:
        dtype = np.dtype(self.plan.dtype)
        fill: Any = self.plan.fill_value
        if dtype.kind == "c":
            fill = [float(fill), 0.0]
        else:
            fill = bool(fill) if dtype.kind == "b" else (float(fill) if dtype.kind == "f" else int(fill))
        return {
            "zarr_format": 3,
            "node_type": "array",
            "shape": list(self.shape),
            "data_type": dtype.name,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.chunks)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill,
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": {},
            "dimension_names": _names(self.level.axes),
        }

    def chunk(self, index: tuple[int, ...]) -> bytes | None:
        """Bytes of zarr chunk ``index``: one decoded TIFF chunk, padded to the full chunk shape."""
        lead, rest = index[: len(self.lead)], index[len(self.lead) :]
        if any(not 0 <= i < n for i, n in zip(lead, self.lead, strict=True)):
            return None
        image = int(np.ravel_multi_index(lead, self.lead)) if self.lead else 0
        plane = rest[0] if self.separate else 0
        row, col = (rest[1], rest[2]) if self.separate else (rest[0], rest[1])
        rows, cols = self.chunks[-2:] if self.separate else self.chunks[len(self.lead) : len(self.lead) + 2]
        y0, x0 = row * rows, col * cols
        if y0 >= self.height or x0 >= self.width or not 0 <= plane < (self.level.page_shape[0] if self.separate else 1):
            return None
        found = self.level.images.image(image)
        if found is None:
            return None  # a missing image: zarr fills it
        plan = found[0]
        y1, x1 = min(y0 + rows, self.height), min(x0 + cols, self.width)
        table = plan.table_in(y0, x0, min(y1, plan.height), min(x1, plan.width))
        table = table[table[:, 3] == plane]
        if not len(table) or not ((table[:, 1] > 0) & (table[:, 2] > 0)).any():
            return None  # missing TIFF chunks: zarr fills them
        pixels = self.level.asarray(key=image, region=(y0, x0, y1, x1))
        if self.separate:
            pixels = pixels[plane]
        full = np.full(
            self.chunks[-2:] if self.separate else self.chunks[len(self.lead) :], self.plan.fill_value, pixels.dtype
        )
        full[: pixels.shape[0], : pixels.shape[1]] = pixels
        return full.astype(full.dtype.newbyteorder("<"), copy=False).tobytes()


def _names(axes: str) -> list[str]:
    return [axis.lower() for axis in axes]


class TiffZarrStore(Store):
    """Read-only zarr v3 store: the levels of one series of a TIFF as a group of arrays (module docstring)."""

    def __init__(self, tif: TiffReader, series: int = 0) -> None:
        """The store of ``tif``'s ``series`` (it owns ``tif`` and closes it with itself)."""
        super().__init__(read_only=True)
        self._tif = tif
        try:
            self._tif.series_level(series)  # an ImageIndexError naming the valid range
            self._series = self._tif.series[series]
            self._levels = []
            for level in self._series.levels:
                try:
                    self._levels.append(_Array(level))
                except UnsupportedTiffError:
                    if not self._levels:
                        raise
                    break
            self._documents = self._metadata()
        except BaseException:
            self._tif.close()
            raise

    def _metadata(self) -> dict[str, bytes]:
        base = self._levels[0]
        axes = []
        for axis in base.level.axes:
            entry = {"name": axis.lower()}
            if axis in _AXIS_TYPES:
                entry["type"] = _AXIS_TYPES[axis]
            axes.append(entry)
        datasets = []
        for number, array in enumerate(self._levels):
            scale = [
                base.shape[i] / array.shape[i] if axis in "YX" and array.shape[i] else 1.0
                for i, axis in enumerate(array.level.axes)
            ]
            datasets.append({"path": str(number), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
        name = self._series.name or self._tif.name
        group = {
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {"multiscales": [{"version": "0.4", "name": name, "axes": axes, "datasets": datasets}]},
        }
        documents = {"zarr.json": json.dumps(group).encode()}
        for number, array in enumerate(self._levels):
            documents[f"{number}/zarr.json"] = json.dumps(array.metadata()).encode()
        return documents

    # -- zarr's Store interface -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TiffZarrStore) and other._tif.name == self._tif.name

    def __hash__(self) -> int:
        return hash(self._tif.name)

    @property
    def supports_writes(self) -> bool:
        return False

    @property
    def supports_deletes(self) -> bool:
        return False

    @property
    def supports_listing(self) -> bool:
        return True

    @property
    def supports_partial_writes(self) -> Literal[False]:
        return False

    def _value(self, key: str) -> bytes | None:
        if key in self._documents:
            return self._documents[key]
        parts = key.split("/")
        if len(parts) < 3 or parts[1] != "c" or not parts[0].isdigit() or int(parts[0]) >= len(self._levels):
            return None
        try:
            index = tuple(int(part) for part in parts[2:])
        except ValueError:
            return None
        array = self._levels[int(parts[0])]
        if len(index) != len(array.shape):
            return None
        return array.chunk(index)

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value = await asyncio.to_thread(self._value, key)
        if value is None:
            return None
        if byte_range is not None:
            start = getattr(byte_range, "start", getattr(byte_range, "offset", 0))
            end = getattr(byte_range, "end", None)
            suffix = getattr(byte_range, "suffix", None)
            value = value[-suffix:] if suffix is not None else value[start:end]
        return prototype.buffer.from_bytes(value)

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    async def exists(self, key: str) -> bool:
        return key in self._documents or (await asyncio.to_thread(self._value, key)) is not None

    async def set(self, key: str, value: Buffer) -> None:
        raise PermissionError("a TiffZarrStore is read-only")

    async def delete(self, key: str) -> None:
        raise PermissionError("a TiffZarrStore is read-only")

    async def list(self) -> AsyncIterator[str]:
        for key in self._documents:
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in self._documents:
            if key.startswith(prefix):
                yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        prefix = prefix.rstrip("/")
        seen = set()
        for key in self._documents:
            if prefix and not key.startswith(prefix + "/"):
                continue
            rest = key[len(prefix) + 1 :] if prefix else key
            head = rest.split("/", 1)[0]
            if head not in seen:
                seen.add(head)
                yield head

    def close(self) -> None:
        self._tif.close()
        super().close()

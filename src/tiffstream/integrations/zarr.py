"""A read-only zarr v3 store over a TIFF: each pyramid level an array, chunks = TIFF tiles/strips.

``TiffZarrStore(source)`` (or ``tiffstream.open(src).aszarr()``) exposes a group whose arrays ``"0"``,
``"1"``, ... are level 0 (the main pages, stacked) and the k-th SubIFD of every page (for a COG: the
full-resolution image and its overview IFDs), with OME-NGFF
``multiscales`` metadata. A zarr chunk is exactly one TIFF chunk: reading it decodes that one strip or
tile (no re-compression); a missing TIFF chunk is a missing zarr chunk (the fill value).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from zarr.abc.store import Store

from ..errors import UnsupportedTiffError
from ..plan import check_allocation, check_chunk_size
from ..reader import TiffReader

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from zarr.abc.store import ByteRequest
    from zarr.core.buffer import Buffer, BufferPrototype

    from ..source import SourceLike
    from ..tiff.page import TiffPage

__all__ = ["TiffZarrStore"]


class _Level:
    """One pyramid level: its pages (one per main page), array shape and chunk shape."""

    def __init__(self, pages: list[TiffPage]) -> None:
        first = pages[0]
        for page in pages:
            if page.shape != first.shape or page.dtype != first.dtype or page.chunk_shape != first.chunk_shape:
                raise UnsupportedTiffError(
                    f"page {page.shape} {page.dtype} differs from the first of its level "
                    f"{first.shape} {first.dtype}: not one array",
                    path=page.ifd.source.name,
                    offset=page.offset,
                )
        self.pages = pages
        self.plan = first.plan
        plan = self.plan
        self.separate = plan.planar_config == 2 and plan.samples_per_pixel > 1
        self.shape = (len(pages), *first.shape)
        # refuse what the file cannot hold before zarr allocates it (as the reader does)
        check_chunk_size(plan)
        check_allocation(plan, first.ifd.source, self.shape, np.dtype(plan.dtype))
        # a tile larger than the image is one zarr chunk of the image's size
        rows, cols = min(plan.chunk_height, max(plan.height, 1)), min(plan.chunk_width, max(plan.width, 1))
        if self.separate:
            self.chunks: tuple[int, ...] = (1, 1, rows, cols)
        elif plan.samples_per_pixel > 1:
            self.chunks = (1, rows, cols, plan.samples_per_pixel)
        else:
            self.chunks = (1, rows, cols)

    def metadata(self, names: list[str]) -> dict[str, Any]:
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
            "dimension_names": names,
        }

    def chunk(self, index: tuple[int, ...]) -> bytes | None:
        """Bytes of zarr chunk ``index``: one decoded TIFF chunk, padded to the full chunk shape."""
        page_index, rest = index[0], index[1:]
        plane = rest[0] if self.separate else 0
        row, col = (rest[1], rest[2]) if self.separate else (rest[0], rest[1])
        if not (0 <= page_index < len(self.pages)):
            return None
        page = self.pages[page_index]
        plan = page.plan
        y0, x0 = row * plan.chunk_height, col * plan.chunk_width
        if y0 >= plan.height or x0 >= plan.width:
            return None
        table = plan.table_in(y0, x0, y0 + 1, x0 + 1)
        table = table[table[:, 3] == plane]
        if not len(table) or table[0, 1] == 0 or table[0, 2] == 0:
            return None  # a missing TIFF chunk: zarr fills it
        y1, x1 = min(y0 + plan.chunk_height, plan.height), min(x0 + plan.chunk_width, plan.width)
        pixels = page.asarray(region=(y0, x0, y1, x1))  # type: ignore[attr-defined]
        if self.separate:
            pixels = pixels[plane]
        full = np.full(self.chunks[1:] if not self.separate else self.chunks[2:], plan.fill_value, pixels.dtype)
        full[: pixels.shape[0], : pixels.shape[1]] = pixels
        return full.astype(full.dtype.newbyteorder("<"), copy=False).tobytes()


class TiffZarrStore(Store):
    """Read-only zarr v3 store: the pyramid of a TIFF as a group of arrays (see the module docstring)."""

    def __init__(self, source: SourceLike) -> None:
        super().__init__(read_only=True)
        self._tif = TiffReader(source)
        pages = list(self._tif.pages)
        full = [page for page in pages if not page.is_reduced]
        overviews = [page for page in pages if page.is_reduced]
        if len(full) == 1 and overviews:  # a COG: overviews are main IFDs after the full-resolution image
            self._levels = [_Level([page]) for page in (full[0], *overviews)]
        else:
            self._levels = [_Level(pages)]
            depth = min(len(page.subifds) for page in pages)
            for k in range(depth):
                try:
                    self._levels.append(_Level([page.subifds[k] for page in pages]))
                except UnsupportedTiffError:
                    break
        self._documents = self._metadata()

    def _names(self, level: _Level) -> list[str]:
        tail = ["c", "y", "x"] if level.separate else (["y", "x", "c"] if len(level.shape) == 4 else ["y", "x"])
        return ["z", *tail]

    def _metadata(self) -> dict[str, bytes]:
        base = self._levels[0]
        axes = [{"name": name, "type": "channel" if name == "c" else "space"} for name in self._names(base)]
        datasets = []
        for number, level in enumerate(self._levels):
            scale = [1.0] * len(level.shape)
            y_axis = self._names(level).index("y")
            for axis in (y_axis, y_axis + 1):  # an empty level keeps scale 1
                scale[axis] = base.shape[axis] / level.shape[axis] if level.shape[axis] else 1.0
            datasets.append({"path": str(number), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
        group = {
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {
                "multiscales": [{"version": "0.4", "name": self._tif.name, "axes": axes, "datasets": datasets}]
            },
        }
        documents = {"zarr.json": json.dumps(group).encode()}
        for number, level in enumerate(self._levels):
            documents[f"{number}/zarr.json"] = json.dumps(level.metadata(self._names(level))).encode()
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
        level = self._levels[int(parts[0])]
        if len(index) != len(level.shape):
            return None
        return level.chunk(index)

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

"""``to_ome_zarr``: a series of any readable TIFF as an OME-Zarr (NGFF 0.5, zarr v3) image pyramid.

Axes become NGFF's ``t, c, z, y, x`` (RGB samples become channels; axes NGFF cannot name are flattened into
``z``); each level is an array ``"0"``, ``"1"``, ... chunked ``(1, ..., chunk, chunk)`` and compressed with
Zstd; the group's ``ome.multiscales`` gives each level's scale (OME physical sizes where the file has them).
Images are read a band of chunk rows at a time, so memory stays near one band whatever the image's size.
Large decoded levels are sharded (8x8 chunks a shard file). Levels whose tiles are already what a zarr chunk holds (one-sample Zstd tiles without predictor, in little-endian
or single-byte samples) are copied tile by tile without decoding: the Zstd frame of a TIFF tile is the chunk.
"""

from __future__ import annotations

import math
import os
import pathlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr
from zarr.codecs import ZstdCodec

from ..reader import TiffReader
from ..tiff.series import ome_pixel_sizes

if TYPE_CHECKING:
    from ..source import SourceLike
    from ..tiff.series import Level

__all__ = ["to_ome_zarr"]

_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
_SHARD = 8  # chunks along each of y and x in one shard of a large decoded level


def to_ome_zarr(
    source: SourceLike, store: str | os.PathLike[str], series: int = 0, *, chunk: int = 256, progress: bool = False
) -> list[tuple[int, ...]]:
    """Write series ``series`` of ``source`` to ``store`` (a folder, replaced) as OME-Zarr; returns each level's
    shape. ``progress``: a tqdm bar on stderr (when tqdm is installed)."""
    with TiffReader(source) as tif:
        tif.series_level(series)  # a clear error for a series that is not there
        found = tif.series[series]
        layout = _Layout(found.base)
        root = zarr.open_group(os.fspath(store), mode="w", zarr_format=3)
        sizes = {axis.lower(): size for axis, size in ome_pixel_sizes(found).items()}
        datasets: list[Any] = []
        shapes: list[tuple[int, ...]] = []
        for number, level in enumerate(found.levels):
            if len(level) != len(found.base):
                break  # a level that does not hold every image (a COG mask) ends the pyramid
            shape = layout.shape(level)
            raw = _raw_copyable(level, layout)
            tile = (level.keyframe.plan.chunk_height, level.keyframe.plan.chunk_width) if raw else (chunk, chunk)
            lead = (1,) * (len(shape) - 2)
            # large decoded levels in shards of 8x8 chunks: 64 times fewer files, each written whole
            sharded = not raw and min(shape[-2:]) >= _SHARD * chunk
            block = (_SHARD * chunk,) * 2 if sharded else tile
            array = root.create_array(
                str(number),
                shape=shape,
                chunks=lead + tile,
                shards=lead + block if sharded else None,
                dtype=level.dtype,
                compressors=ZstdCodec(level=3),
                dimension_names=layout.axes,
            )
            for index in _bar(range(len(level)), len(level), f"level {number}", progress):
                if not (raw and layout.copy_stored(level, index, pathlib.Path(store) / str(number))):
                    layout.copy(level, index, array, block)
            base_height, base_width = shapes[0][-2:] if shapes else shape[-2:]
            scale = [1.0] * (len(shape) - 2) + [base_height / shape[-2], base_width / shape[-1]]
            scale = [value * sizes.get(axis, 1.0) for value, axis in zip(scale, layout.axes, strict=True)]
            datasets.append({"path": str(number), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
            shapes.append(shape)
        axes: list[Any] = [_axis(name, name in sizes) for name in layout.axes]
        root.attrs["ome"] = {
            "version": "0.5",
            "multiscales": [{"name": found.name or tif.name, "axes": axes, "datasets": datasets}],
        }
    return shapes


class _Layout:
    """Where each image of a series lands in NGFF's ``t, c, z, y, x``."""

    def __init__(self, base: Level) -> None:
        lead_count = len(base.shape) - len(base.page_shape)
        self.lead_axes, self.lead_shape = base.axes[:lead_count], base.shape[:lead_count]
        self.samples = base.image_view(0).shape[2] if len(base) else 1
        if self.samples > 1 and "C" in self.lead_axes:
            raise ValueError("a series with both channels (C) and samples per pixel cannot be one NGFF image")
        names = []
        if "T" in self.lead_axes:
            names.append("t")
        if "C" in self.lead_axes or self.samples > 1:
            names.append("c")
        if any(axis not in "TC" for axis in self.lead_axes):
            names.append("z")
        self.axes = [*names, "y", "x"]

    def shape(self, level: Level) -> tuple[int, ...]:
        height, width = level.image_size
        sizes = dict(zip(self.lead_axes, self.lead_shape, strict=True))
        rest = [n for axis, n in zip(self.lead_axes, self.lead_shape, strict=True) if axis not in "TC"]
        lead = {"t": sizes.get("T", 1), "c": sizes.get("C", self.samples), "z": math.prod(rest)}
        return (*(lead[name] for name in self.axes[:-2]), height, width)

    def _position(self, index: int) -> dict[str, int]:
        coordinates = np.unravel_index(index, self.lead_shape) if self.lead_shape else ()
        by_axis = dict(zip(self.lead_axes, (int(c) for c in coordinates), strict=True))
        rest = [(by_axis[axis], n) for axis, n in zip(self.lead_axes, self.lead_shape, strict=True) if axis not in "TC"]
        z = int(np.ravel_multi_index([r[0] for r in rest], [r[1] for r in rest])) if rest else 0
        return {"t": by_axis.get("T", 0), "c": by_axis.get("C", 0), "z": z}

    def copy_stored(self, level: Level, index: int, folder: pathlib.Path) -> bool:
        """Image ``index``'s stored Zstd tiles as the chunk files of ``folder`` (zarr v3's ``c/i/j/...`` keys);
        a missing tile stays a missing chunk (the fill value, 0, as in the TIFF). False, writing nothing, for
        an image not stored as the level's first one is."""
        found = level.images.image(index)
        if found is None:
            return True
        plan, source = found
        first = level.keyframe.plan
        same = (plan.compression, plan.predictor, plan.chunk_height, plan.chunk_width, plan.dtype, plan.byteorder)
        if same != (
            first.compression,
            first.predictor,
            first.chunk_height,
            first.chunk_width,
            first.dtype,
            first.byteorder,
        ):
            return False
        position = self._position(index)
        lead = [str(position[name]) for name in self.axes[:-2]]
        for _, offset, nbytes, _, y, x, _, _ in plan.table.tolist():
            if offset and nbytes:
                path = folder.joinpath("c", *lead, str(y // plan.chunk_height), str(x // plan.chunk_width))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(source.read_at_most(offset, nbytes))
        return True

    def copy(self, level: Level, index: int, array: Any, block: tuple[int, int]) -> None:
        """Image ``index`` of ``level`` into ``array``, a ``block`` of rows and columns at a time (a chunk or
        a shard: each written whole)."""
        view = level.image_view(index)
        position = self._position(index)
        height, width, samples = view.shape
        for top in range(0, height, block[0]):
            for left in range(0, width, block[1]):
                part = view[top : top + block[0], left : left + block[1]]
                part = part.reshape(part.shape[0], part.shape[1], samples)
                for sample in range(samples):
                    place = {**position, "c": position["c"] + sample}
                    rows, cols = slice(top, top + part.shape[0]), slice(left, left + part.shape[1])
                    array[(*(place[name] for name in self.axes[:-2]), rows, cols)] = part[:, :, sample]


def _raw_copyable(level: Level, layout: _Layout) -> bool:
    """Whether the level's stored tiles are zarr chunks as they are (module docstring)."""
    plan = level.keyframe.plan
    return (
        plan.compression in (50000, 34926)
        and plan.tiled
        and plan.predictor == 1
        and plan.samples_per_pixel == 1
        and layout.samples == 1
        and plan.jpeg_header is None
        and (np.dtype(plan.dtype).itemsize == 1 or plan.byteorder == "<")
    )


def _axis(name: str, physical: bool) -> dict[str, str]:
    axis = {"name": name, "type": _TYPES[name]}
    if physical:
        axis["unit"] = "micrometer"
    return axis


def _bar(items: range, total: int, label: str, shown: bool) -> Iterator[int]:
    if not shown:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, total=total, desc=label, unit="image", disable=not sys.stderr.isatty())

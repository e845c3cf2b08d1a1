"""``to_dask``: a lazy dask array over one level of one series, shaped and named by the series' axes.

One chunk per image of the level (its whole page); a task decodes the images its block covers, cut to
the block's rows and columns. Nothing but the source's path or URL and the series and level numbers is
pickled: each worker thread opens its own reader on first use and finds the level again.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..reader import TiffReader
from ..tiff.series.model import with_yx

if TYPE_CHECKING:
    from ..source import SourceLike
    from ..tiff.series import Level

__all__ = ["LevelArray", "to_dask"]


class LevelArray:
    """Array-like view of level ``level`` of series ``series`` of a file; decodes on indexing."""

    def __init__(
        self,
        source: str,
        series: int,
        level: int,
        backend: Literal["cpu", "gpu", "gpu-host"] = "cpu",
        *,
        found: Level,
        keep_open: bool = True,
    ) -> None:
        self.source = source
        self.keep_open = keep_open
        self.series = series
        self.level = level
        self.backend = backend
        self.shape = found.shape
        self.dtype = found.dtype
        self.ndim = len(self.shape)
        self.axes = found.axes
        self.lead = self.ndim - len(found.page_shape)  # axes before the page's own (Y, X, S)
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @contextlib.contextmanager
    def _opened(self) -> Iterator[Level]:
        """The level, from this thread's open reader (kept for the next block), or from one opened for this
        block and closed after it (``keep_open=False``: no file stays open between blocks)."""
        if not self.keep_open:
            with TiffReader(self.source) as reader:
                yield reader.series_level(self.series, self.level)
            return
        found = getattr(self._local, "level", None)
        if found is None:
            reader = TiffReader(self.source)
            found = self._local.level = reader.series_level(self.series, self.level)
        yield found

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        ranges = [
            range(n)[k] if isinstance(k, slice) else [k] for k, n in zip(key[: self.lead], self.shape, strict=False)
        ]
        lead_shape = tuple(len(r) for r in ranges)
        indices = (
            [int(i) for i in np.ravel_multi_index(np.ix_(*ranges), self.shape[: self.lead]).ravel()] if ranges else [0]
        )
        page_axes = self.axes[self.lead :]
        page_key = list(key[self.lead :])
        region = self._region(page_axes, page_key)
        with self._opened() as level:
            page_shape = level.page_shape
            if region is not None:  # only the rows and columns asked for are decoded
                y0, x0, y1, x1 = region
                page_shape = with_yx(page_shape, page_axes, y1 - y0, x1 - x0)
                page_key = [slice(None) if axis in "YX" else k for axis, k in zip(page_axes, page_key, strict=True)]
            if not indices:
                images = np.empty((0, *page_shape), self.dtype)
            elif self.backend in ("gpu", "gpu-host") and region is None:
                images = _gpu_images(level, indices, on_device=self.backend == "gpu")
            else:
                images = level.asarray(key=indices, region=region)
            images = images.reshape(*lead_shape, *page_shape)
        squeeze = tuple(0 if not isinstance(k, slice) else slice(None) for k in key[: self.lead])
        return images[squeeze][(Ellipsis, *page_key)] if self.lead else images[tuple(page_key)]

    def _region(self, page_axes: str, page_key: list[Any]) -> tuple[int, int, int, int] | None:
        """(y0, x0, y1, x1) when the key takes a part of the rows or columns with plain slices, else None."""
        if "Y" not in page_axes or "X" not in page_axes:
            return None
        rows, cols = page_key[page_axes.index("Y")], page_key[page_axes.index("X")]
        if (
            not (isinstance(rows, slice) and isinstance(cols, slice))
            or rows.step not in (None, 1)
            or cols.step not in (None, 1)
        ):
            return None
        height, width = self.shape[self.lead + page_axes.index("Y")], self.shape[self.lead + page_axes.index("X")]
        y0, y1, _ = rows.indices(height)
        x0, x1, _ = cols.indices(width)
        if (y0, x0, y1, x1) == (0, 0, height, width) or y1 <= y0 or x1 <= x0:
            return None
        return y0, x0, y1, x1


def _gpu_images(level: Level, indices: list[int], on_device: bool) -> Any:
    """Decode images through a GPU ``Decoder`` (images the GPU cannot take on the CPU): one CuPy array
    (``on_device``) or host array."""
    import cupy

    from ..decoder import Decoder
    from ..enums import BackendKind

    images = [level.images.image(i) for i in indices]
    if any(image is None for image in images):  # missing slots are zeros: the level's own path fills them
        stacked = level.asarray(key=indices)
        return cupy.asarray(stacked) if on_device else stacked
    with Decoder(backends=[BackendKind.HYBRID_CPU_GPU]) as decoder:
        decoded = decoder.decode_plans([(plan, source, None) for plan, source in images])  # type: ignore[misc]
    if on_device:
        return cupy.stack([cupy.asarray(array) for array in decoded]).reshape(len(indices), *level.page_shape)
    host = [array.get() if hasattr(array, "get") else array for array in decoded]
    return np.stack(host).reshape(len(indices), *level.page_shape)


def _meta(backend: str, ndim: int, dtype: np.dtype) -> Any:
    """An empty array of the chunks' kind: CuPy for ``backend="gpu"``, else numpy."""
    if backend == "gpu":
        import cupy

        return cupy.empty((0,) * ndim, dtype)
    return np.empty((0,) * ndim, dtype)


def to_dask(
    source: SourceLike,
    series: int = 0,
    level: int = 0,
    *,
    backend: Literal["auto", "cpu", "gpu"] = "cpu",
    keep_open: bool = True,
    yx_chunks: int | None = None,
) -> Any:
    """A lazy ``dask.array`` of level ``level`` of series ``series``, one chunk per image (needs dask).

    Its shape and ``.axes`` are those of ``TiffFile.series[series].levels[level]`` (e.g. "TCZYX" for an
    OME hyperstack, "YXS" for a slide level), pixels those of tifffile's level array. ``backend="gpu"``:
    each block's images are decoded together on the worker's GPU and the chunks are CuPy arrays
    (``meta=cupy.empty``) for a GPU pipeline; ``"auto"``: decoded on the GPU when one is usable, chunks on
    the host (for viewers). A bad series or level is an ``ImageIndexError`` naming the valid range. ``keep_open=False``:
    each block opens and closes the file (for hosts that check no file stays open; slower for small blocks).
    ``yx_chunks``: blocks of that many rows and columns of an image (only their tiles are decoded), for viewers
    that show a part of a large level; None: one block per image.
    """
    import dask.array as da

    chosen: Literal["cpu", "gpu", "gpu-host"] = "cpu" if backend == "cpu" else "gpu"
    if backend == "auto":
        from ..decoder import gpu_available

        chosen = "gpu-host" if gpu_available()[0] else "cpu"
    with TiffReader(source) as tif:
        found = tif.series_level(series, level)
        name = source if isinstance(source, str) else tif.name
        array = LevelArray(name, series, level, chosen, found=found, keep_open=keep_open)
    page_axes = array.axes[array.lead :]
    chunks = tuple([1] * n for n in array.shape[: array.lead]) + tuple(
        (yx_chunks if yx_chunks and axis in "YX" else n)
        for axis, n in zip(page_axes, array.shape[array.lead :], strict=True)
    )
    lazy = da.from_array(  # type: ignore[no-untyped-call]
        array,
        chunks=chunks,
        asarray=False,
        fancy=False,
        meta=_meta(chosen, array.ndim, array.dtype),
        name=f"tiffstream-{name}-{series}-{level}-{math.prod(array.shape)}-{yx_chunks}",
    )
    lazy.axes = array.axes
    return lazy

"""``to_dask``: a lazy dask array over a TIFF's pages (or one pyramid level), shaped by its OME axes.

One task per page: a task opens the file (workers reopen it from its path or URL; nothing but the path
and the page offsets is pickled), decodes its page and returns it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..reader import TiffReader

if TYPE_CHECKING:
    from ..source import SourceLike

__all__ = ["PageStack", "page_axes", "to_dask"]


class PageStack:
    """Array-like ``(pages, *page_shape)`` view of pages at given IFD offsets; decodes on indexing."""

    def __init__(
        self,
        source: SourceLike,
        offsets: list[int],
        shape: tuple[int, ...],
        dtype: np.dtype,
        backend: Literal["cpu", "gpu"] = "cpu",
    ) -> None:
        self.source = source if isinstance(source, str) else getattr(source, "name", source)
        self.offsets = offsets
        self.shape = (len(offsets), *shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.backend = backend
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def _reader(self) -> TiffReader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = TiffReader(self.source)
        return reader

    def page(self, index: int) -> np.ndarray:
        """Decode page ``index`` of the stack."""
        reader = self._reader()
        page = reader.page_at(self.offsets[index])
        if self.backend == "gpu":
            return _gpu_page(page)
        return page.asarray()  # type: ignore[attr-defined]  # a reader makes its pages decodable

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], key[1:]
        indices = range(self.shape[0])[first] if isinstance(first, slice) else [first]
        pages = [self.page(int(i)) for i in indices]
        stacked = np.stack(pages) if pages else np.empty((0, *self.shape[1:]), self.dtype)
        result = stacked[(slice(None), *rest)]
        return result if isinstance(first, slice) else result[0]


def _gpu_page(page: Any) -> np.ndarray:
    """Decode one page with the GPU backend (host array back); the CPU when the GPU path cannot."""
    from .. import gpu

    if not gpu.available()[0] or gpu.supports(page.plan) is not None:
        return page.asarray()
    from ..gpu.backend import GpuJob, decode_batch

    return decode_batch([GpuJob(page.plan, page.ifd.source)])[0].get()


def page_axes(tif: TiffReader, count: int) -> tuple[str, tuple[int, ...]]:
    """Axes letters and sizes of the page dimension (slowest first), from OME-XML when it describes them."""
    ome = tif.ome
    if ome is not None and ome.images:
        pixels = ome.images[0].pixels
        if pixels.num_planes == count:
            sizes = {"Z": pixels.size_z, "C": pixels.effective_size_c, "T": pixels.size_t}
            order = pixels.dimension_order[2:][::-1]  # slowest first
            kept = [axis for axis in order if sizes[axis] > 1] or ["Z"]
            return "".join(kept), tuple(sizes[axis] for axis in kept)
    return "I", (count,)


def to_dask(source: SourceLike, level: int = 0, *, backend: Literal["auto", "cpu", "gpu"] = "cpu") -> Any:
    """A lazy ``dask.array`` of every page (``level`` k: each page's k-th SubIFD), one chunk per page.

    The leading axes follow the OME dimension order (e.g. ``(Z, Y, X)`` or ``(C, Z, Y, X)``) when the file's
    OME-XML describes its pages, else one page axis. ``backend="gpu"`` decodes each page with the GPU backend
    inside its task (``"auto"``: when a GPU is usable), returning host arrays. ``.axes`` names the axes.
    """
    import dask.array as da

    if backend == "auto":
        from .. import gpu

        backend = "gpu" if gpu.available()[0] else "cpu"
    with TiffReader(source) as tif:
        pages = list(tif.pages)
        if level:
            pages = [page.subifds[level - 1] for page in pages]
        first = pages[0]
        for page in pages:
            if page.shape != first.shape or page.dtype != first.dtype:
                raise ValueError(f"page at {page.offset} is {page.shape} {page.dtype}, the first {first.shape}")
        axes, sizes = page_axes(tif, len(pages))
        name = source if isinstance(source, str) else tif.name
        stack = PageStack(name, [page.offset for page in pages], first.shape, first.dtype, backend)
    array = da.from_array(  # type: ignore[no-untyped-call]
        stack,
        chunks=(1, *first.shape),
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * stack.ndim, stack.dtype),
        name=f"tiffstream-{name}-{level}",
    )
    array = array.reshape(*sizes, *first.shape) if len(sizes) > 1 else array
    samples = "S" if len(first.shape) == 3 and first.planar_config != 2 else ""
    plane_axes = ("SYX" if first.planar_config == 2 else "YX" + samples) if len(first.shape) == 3 else "YX"
    array.axes = axes + plane_axes
    return array

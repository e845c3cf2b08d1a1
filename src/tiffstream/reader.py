"""The public reader: ``tiffstream.open`` and ``tiffstream.imread``, the container layer plus CPU decoding."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from .cpu.backend import decode_plan, prepare, run_tasks
from .plan import check_allocation
from .region import Region
from .tiff.file import TiffFile
from .tiff.page import TiffPage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .source import SourceLike

__all__ = ["Page", "TiffReader", "imread"]


def _region_tuple(region: Region | tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    if region is None:
        return None
    if isinstance(region, Region):
        return (region.start_y, region.start_x, region.end_y, region.end_x)
    y0, x0, y1, x1 = (int(v) for v in region)
    return (y0, x0, y1, x1)


class Page(TiffPage):
    """A page that decodes: ``asarray()`` gives what ``tifffile.TiffPage.asarray()`` gives."""

    def asarray(
        self,
        *,
        region: Region | tuple[int, int, int, int] | None = None,
        out: np.ndarray | None = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> np.ndarray:
        """Decode the page, or only ``region`` (rows y0:y1, columns x0:x1; only overlapping chunks are read).

        The array has tifffile's page shape: ``(h, w)``, ``(h, w, samples)``, or ``(samples, h, w)``
        when planar-separate; stored samples, no colour conversion (JPEG YCbCr decodes to RGB). A file cut
        inside the chunks needed gives a ``TruncatedDataWarning`` and the fill value where data is missing;
        with ``strict=True`` it is a ``TiffTruncatedError``.
        """
        return decode_plan(
            self.plan, self.ifd.source, region=_region_tuple(region), out=out, max_workers=max_workers, strict=strict
        )


class TiffReader(TiffFile):
    """An open TIFF whose pages (and SubIFDs) decode on the CPU."""

    page_type = Page

    def aszarr(self) -> Any:
        """A read-only zarr v3 store of this file's pyramid (needs zarr): ``zarr.open_group(store, mode="r")``."""
        from .integrations.zarr import TiffZarrStore

        return TiffZarrStore(self.source)

    def asarray(
        self,
        key: int | slice | Sequence[int] | None = None,
        *,
        out: np.ndarray | None = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> np.ndarray:
        """Decode one page (``key`` an int) or stack several (a slice, range or list; None: all pages).

        All chunks of all pages are decoded together on one thread pool. Stacked pages must share
        shape and dtype; the result is ``(pages, *page.shape)``.
        """
        if isinstance(key, int):
            page = self.pages[key]
            assert isinstance(page, Page)  # TiffReader makes its pages as Page
            return page.asarray(out=out, max_workers=max_workers, strict=strict)
        indices = (
            range(len(self.pages))
            if key is None
            else (range(*key.indices(len(self.pages))) if isinstance(key, slice) else list(key))
        )
        pages = [self.pages[i] for i in indices]
        if not pages:
            raise IndexError("no pages selected")
        shape, dtype = pages[0].shape, pages[0].dtype
        for page in pages:
            if page.shape != shape or page.dtype != dtype:
                raise ValueError(f"page {page.index} is {page.shape} {page.dtype}, not {shape} {dtype}: cannot stack")
        stacked_shape = (len(pages), *shape)
        if out is None:
            check_allocation(pages[0].plan, self.source, stacked_shape, np.dtype(dtype))
            out = np.empty(stacked_shape, dtype)
        elif out.shape != stacked_shape or out.dtype != dtype:
            raise ValueError(f"out must be a {stacked_shape} {dtype} array, got {out.shape} {out.dtype}")
        workers = max_workers or os.cpu_count() or 1
        tasks = []
        for index, page in enumerate(pages):
            tasks += prepare(page.plan, self.source, out=out[index], workers=workers, strict=strict)[1]
        if workers == 1 or len(tasks) <= 1:
            run_tasks(tasks, None)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="tiffstream") as pool:
                run_tasks(tasks, pool)
        return out


def imread(
    source: SourceLike,
    page: int | slice | Sequence[int] = 0,
    level: int = 0,
    region: Region | tuple[int, int, int, int] | None = None,
    out: np.ndarray | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Decode page ``page`` (``level`` > 0: its ``level``-th SubIFD, a pyramid level) of a TIFF on the CPU.

    ``page`` may also be a slice, range or list of pages (level 0, whole pages): they are stacked.
    ``strict``: a file cut inside the chunks needed raises ``TiffTruncatedError`` instead of warning.
    """
    with TiffReader(source) as tif:
        if not isinstance(page, int):
            if level or region is not None:
                raise ValueError("stacking pages reads whole level-0 pages: no level or region")
            return tif.asarray(page, out=out, strict=strict)
        target = tif.pages[page]
        if level:
            subifds = target.subifds
            if level > len(subifds):
                raise IndexError(f"page {page} has {len(subifds)} SubIFD levels, not {level}")
            target = subifds[level - 1]
        assert isinstance(target, Page)
        return target.asarray(region=region, out=out, strict=strict)

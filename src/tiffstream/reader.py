"""The public reader: ``tiffstream.open`` and ``tiffstream.imread``, the container layer plus CPU decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .cpu.backend import decode_plan
from .levels import read_images
from .region import Region
from .tiff.file import TiffFile
from .tiff.page import TiffPage
from .tiff.series import Images, Level

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .source import SourceLike

__all__ = ["Page", "TiffReader", "imread"]


def _region_tuple(region: Region | tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    if region is None:
        return None
    if isinstance(region, Region):
        return (region.start_y, region.start_x, region.end_y, region.end_x) if region.ndim else None
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
    """An open TIFF whose pages (and SubIFDs), series and levels decode on the CPU."""

    page_type = Page

    def read_level(
        self,
        level: Level,
        *,
        key: int | slice | Sequence[int] | None = None,
        region: Any = None,
        out: Any = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> np.ndarray:
        """Decode ``level`` (see :meth:`Level.asarray`): all chunks of all its images on one thread pool."""
        return read_images(
            level, key=key, region=_region_tuple(region), out=out, max_workers=max_workers, strict=strict
        )

    def aszarr(self, series: int = 0) -> Any:
        """A read-only zarr v3 store of a series and its levels (needs zarr): ``zarr.open_group(store, mode="r")``."""
        from .integrations.zarr import TiffZarrStore

        return TiffZarrStore(TiffReader(self.source), series)

    def asarray(
        self,
        key: int | slice | Sequence[int] | None = None,
        *,
        series: int | None = None,
        level: int | None = None,
        region: Region | tuple[int, int, int, int] | None = None,
        out: np.ndarray | None = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> np.ndarray:
        """What ``tifffile.TiffFile.asarray`` returns for the same ``key``, ``series`` and ``level``.

        By default the first series at full resolution. With ``series``/``level``, that series or level;
        ``key`` then selects some of its images (an int: one image, in its page shape). ``key`` without a
        series selects main-chain pages: one (an int) or several stacked as ``(pages, *page.shape)``, all
        decoded together on one thread pool. ``region`` (y0, x0, y1, x1) cuts every image.
        """
        options = {"out": out, "max_workers": max_workers, "strict": strict}
        if key is None or series is not None:
            chosen = self.series_level(series or 0, level or 0)
            return chosen.asarray(key=key, region=_region_tuple(region), **options)  # type: ignore[arg-type]
        if level is not None:
            raise ValueError("level selects a level of a series: pass series= with it")
        if isinstance(key, (int, np.integer)):
            page = self.pages[int(key)]
            assert isinstance(page, Page)  # TiffReader makes its pages as Page
            return page.asarray(region=region, **options)  # type: ignore[arg-type]
        if region is not None:
            raise ValueError("stacking main-chain pages reads whole pages: pass series= to cut a region")
        return self._stack_pages(key, out=out, max_workers=max_workers, strict=strict)

    def _stack_pages(
        self, key: slice | Sequence[int], *, out: np.ndarray | None, max_workers: int | None, strict: bool
    ) -> np.ndarray:
        indices = range(*key.indices(len(self.pages))) if isinstance(key, slice) else list(key)
        pages = [self.pages[i] for i in indices]
        if not pages:
            raise IndexError("no pages selected")
        shape, dtype = pages[0].shape, pages[0].dtype
        for page in pages:
            if page.shape != shape or page.dtype != dtype:
                raise ValueError(f"page {page.index} is {page.shape} {page.dtype}, not {shape} {dtype}: cannot stack")
        stack = Level(self, Images.of(pages), (len(pages), *shape), "I" + pages[0].axes, pages[0], squeeze=False)
        return read_images(stack, out=out, max_workers=max_workers, strict=strict)


def imread(
    source: SourceLike,
    key: int | slice | Sequence[int] | None = None,
    *,
    series: int | None = None,
    level: int | None = None,
    region: Region | tuple[int, int, int, int] | None = None,
    out: np.ndarray | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Decode a TIFF on the CPU: what ``tifffile.imread`` returns for the same ``key``, ``series``, ``level``.

    By default the whole first series at full resolution (an OME-TIFF's 192 planes as one ZYX array); see
    :meth:`TiffReader.asarray`. ``strict``: a file cut inside the needed chunks raises ``TiffTruncatedError``
    instead of warning.
    """
    with TiffReader(source) as tif:
        return tif.asarray(key, series=series, level=level, region=region, out=out, strict=strict)

"""The public reader: ``tiffstream.open`` and ``tiffstream.imread``, the container layer plus CPU decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cpu.backend import decode_plan
from .region import Region
from .tiff.file import TiffFile
from .tiff.page import TiffPage

if TYPE_CHECKING:
    import numpy as np

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
    ) -> np.ndarray:
        """Decode the page, or only ``region`` (rows y0:y1, columns x0:x1; only overlapping chunks are read).

        The array has tifffile's page shape: ``(h, w)``, ``(h, w, samples)``, or ``(samples, h, w)``
        when planar-separate; stored samples, no colour conversion (JPEG YCbCr decodes to RGB).
        """
        return decode_plan(self.plan, self.ifd.source, region=_region_tuple(region), out=out, max_workers=max_workers)


class TiffReader(TiffFile):
    """An open TIFF whose pages (and SubIFDs) decode on the CPU."""

    page_type = Page


def imread(
    source: SourceLike,
    page: int = 0,
    level: int = 0,
    region: Region | tuple[int, int, int, int] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Decode page ``page`` (``level`` > 0: its ``level``-th SubIFD, a pyramid level) of a TIFF on the CPU."""
    with TiffReader(source) as tif:
        target = tif.pages[page]
        if level:
            subifds = target.subifds
            if level > len(subifds):
                raise IndexError(f"page {page} has {len(subifds)} SubIFD levels, not {level}")
            target = subifds[level - 1]
        assert isinstance(target, Page)
        return target.asarray(region=region, out=out)

"""Series of files without layout metadata: one uniform stack, or stacks of alike pages with their pyramids.

As tifffile does: a file is *uniform* when it has one page, or when pages 1, 7 and the last are alike
page 0 (which has no SubIFDs); then every page is one series, found by walking the chain, parsing four
pages. Otherwise every page and every SubIFD is parsed and grouped by ``TiffPage.layout_key``; groups
one halving (or third, or quarter) below an earlier one become its pyramid levels (GDAL overviews,
libvips and large_image pyramids, SubIFD pyramids without OME).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ...errors import TiffError, TiffstreamWarning
from ..ifd import parse_ifd
from .model import Images, Level, Series, pyramidize

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["generic_series", "is_uniform", "stack_level", "uniform_series"]


def stack_level(tiff: TiffFile, images: Images, keyframe: TiffPage, lead: str, name: str = "") -> Level:
    """A level of ``len(images)`` pages alike ``keyframe``, stacked along axis ``lead`` (S added if absent)."""
    shape, axes = (len(images), *keyframe.shape), lead + keyframe.axes
    if "S" not in axes:
        shape, axes = (*shape, 1), axes + "S"
    return Level(tiff, images, shape, axes, keyframe, name=name)


def is_uniform(tiff: TiffFile) -> bool:
    """One page, or pages 1, 7 and the last alike page 0 (which has no SubIFDs): tifffile's sample."""
    pages = tiff.pages
    first = pages[0]
    if first.subifd_offsets:
        return False
    key = first.layout_key
    for index in (1, 7, -1):
        try:
            page = pages[index]
        except IndexError:
            return index == 1
        try:
            if page.layout_key != key:
                return False
        except TiffError:  # a page without readable image properties: not a uniform stack
            return False
    return True


def uniform_series(tiff: TiffFile) -> list[Series]:
    """Every main page as one stack (axis I), parsed only when decoded."""
    first = tiff.pages[0]
    count = len(tiff.pages)
    images = Images(count, tiff.pages.__getitem__)
    if count == 1:
        level = Level(tiff, images, first.shape, first.axes, first)
    else:
        level = Level(tiff, images, (count, *first.shape), "I" + first.axes, first)
    return [Series(level, "uniform")]


def generic_series(tiff: TiffFile) -> list[Series]:
    """Main pages and SubIFDs grouped by layout, in file order, then folded into pyramids."""
    groups: dict[tuple[object, ...], list[TiffPage]] = {}
    seen: set[int] = set()

    def add(page: TiffPage) -> None:
        if page.offset in seen:
            return
        seen.add(page.offset)
        groups.setdefault(page.layout_key, []).append(page)

    for page in _described(tiff):
        add(page)
        for offset in page.subifd_offsets:
            if offset < 8:
                continue
            sub = _described_subifd(tiff, page, offset)
            if sub is not None:
                add(sub)
    series = [Series(stack_level(tiff, Images.of(pages), pages[0], "I"), "generic") for pages in groups.values()]
    pyramidize(series)
    return series


def _described(tiff: TiffFile) -> list[TiffPage]:
    """Pages whose image properties can be read; others are left out of every series, with a warning."""
    found = []
    for page in tiff.pages:
        try:
            page.layout_key  # noqa: B018  # parses and checks the page's image properties
        except TiffError as exc:
            warnings.warn(f"{tiff.name}: page {page.index} is in no series: {exc}", TiffstreamWarning, stacklevel=3)
            continue
        found.append(page)
    return found


def _described_subifd(tiff: TiffFile, parent: TiffPage, offset: int) -> TiffPage | None:
    try:
        page = tiff.page_type(parse_ifd(tiff.source, tiff.header, offset), is_subifd=True)
        page.layout_key  # noqa: B018
    except TiffError as exc:
        warnings.warn(
            f"{tiff.name}: SubIFD at {offset} of page {parent.index} is in no series: {exc}",
            TiffstreamWarning,
            stacklevel=3,
        )
        return None
    return page

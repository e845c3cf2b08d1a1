"""Aperio SVS: the pyramid (and focal planes) first, then the thumbnail, then the label and macro images.

Aperio's description is a header line, then ``WxH ... |Key = Value|...`` (AppMag, MPP, Date, ...),
parsed into the series' metadata with numbers as numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._text import text_value
from .model import Images, Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["aperio_metadata", "svs_series"]


def aperio_metadata(description: str) -> dict[str, Any]:
    """Aperio's ``Key = Value`` items (numbers converted), after ``Header``: the lines before the first ``|``
    (library versions, image size, tile size, compression)."""
    items = description.split("|")
    lines = [line.strip() for line in items[0].splitlines() if line.strip()]
    result: dict[str, Any] = {"Header": "; ".join(lines)}
    for item in items[1:]:
        key, sep, value = item.partition("=")
        if sep:
            result[key.strip()] = text_value(value.strip())
    return result


def page_series(tiff: TiffFile, page: TiffPage, kind: str, name: str) -> Series:
    """A series of one page (an associated image, a thumbnail)."""
    return Series(Level(tiff, Images.of([page]), page.shape, page.axes, page, name=name), kind, name)


def svs_series(tiff: TiffFile) -> list[Series] | None:
    """Baseline (with its levels), Thumbnail, then Label and Macro; None when the first page is not tiled."""
    pages = tiff.pages
    first = pages[0]
    if not first.is_tiled:
        return None
    meta = aperio_metadata(first.description or "")
    if len(pages) == 1:
        return [_with_meta(page_series(tiff, first, "svs", "Baseline"), meta)]
    thumbnail = page_series(tiff, pages[1], "svs", "Thumbnail")
    levels: dict[tuple[int, ...], list[TiffPage]] = {first.shape: [first]}
    index = 2
    while index < len(pages):
        page = pages[index]
        if not page.is_tiled or page.is_reduced:
            break
        levels.setdefault(page.shape, []).append(page)
        index += 1
    planes = len(levels[first.shape])
    if any(len(group) != planes for group in levels.values()):
        planes = 1  # focal planes that do not match: tifffile keeps the first of each level
    baseline: Series | None = None
    for group in levels.values():
        page = group[0]
        name = "Baseline" if baseline is None else "Resolution"
        level = Level(tiff, Images.of(group[:planes]), (planes, *page.shape), "Z" + page.axes, page, name=name)
        if baseline is None:
            baseline = _with_meta(Series(level, "svs", name), meta)
        else:
            baseline.levels.append(level)
    assert baseline is not None
    found = [baseline, thumbnail]
    for page in pages[index : index + 2]:
        found.append(page_series(tiff, page, "svs", "Macro" if page.info.subfile_type == 9 else "Label"))
    return found


def _with_meta(series: Series, meta: dict[str, Any]) -> Series:
    series.metadata = meta
    return series

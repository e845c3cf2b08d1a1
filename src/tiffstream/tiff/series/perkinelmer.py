"""Akoya/PerkinElmer QPTIFF: channel pages of one size (axis C), a thumbnail, halving levels of as many
channel pages, then the macro (overview) and label images. The description's XML is the metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._text import xml_fields
from .aperio import page_series
from .model import Images, Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["qpi_metadata", "qpi_series"]


def qpi_metadata(page: TiffPage) -> dict[str, Any]:
    return xml_fields(page.description)


def qpi_series(tiff: TiffFile) -> list[Series]:
    pages = tiff.pages
    first = pages[0]
    axes = "C" + first.axes
    count = len(pages)
    index = 0
    group: list[TiffPage] = []
    while index < count and pages[index].shape == first.shape:
        group.append(pages[index])
        index += 1
    baseline = Series(
        Level(tiff, Images.of(group), (len(group), *first.shape), axes, first, name="Baseline"),
        "qpi",
        "Baseline",
        qpi_metadata(first),
    )
    found = [baseline]
    if index < count:
        found.append(page_series(tiff, pages[index], "qpi", "Thumbnail"))
        index += 1
    if first.is_tiled:
        shape = first.shape
        while index < count:
            shape = (shape[0] // 2, shape[1] // 2, *shape[2:])
            group = []
            while index < count and pages[index].shape == shape:
                group.append(pages[index])
                index += 1
            if len(group) != len(baseline.base):
                break
            level = Level(tiff, Images.of(group), (len(group), *shape), axes, group[0], name="Resolution")
            baseline.levels.append(level)
    if baseline.is_pyramidal and index < count:
        found.append(page_series(tiff, pages[index], "qpi", "Macro"))
        if index + 1 < count:
            found.append(page_series(tiff, pages[index + 1], "qpi", "Label"))
    return found

"""Leica SCN: the description's XML lists collections of images, each with pixels whose dimensions map
(channel c, focal plane z, resolution r) to IFDs; every image is a series with its resolutions as levels."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ._text import local_name, xml_fields
from .model import Images, Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["scn_series"]


def scn_series(tiff: TiffFile) -> list[Series] | None:
    """One series per image of every collection; None when the XML cannot be parsed."""
    text = tiff.pages[0].description or ""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    meta = xml_fields(text)
    found: list[Series] = []
    for collection in root:
        if local_name(collection.tag) != "collection":
            continue
        for image in collection:
            if local_name(image.tag) != "image":
                continue
            name = image.get("name", "Unknown")
            for pixels in image:
                if local_name(pixels.tag) != "pixels":
                    continue
                series = _pixels(tiff, pixels, name)
                if series is not None:
                    series.metadata = meta
                    found.append(series)
    return found


def _page(tiff: TiffFile, slots: list[int | None], index: int) -> TiffPage | None:
    ifd = slots[index]
    return None if ifd is None else tiff.pages[ifd]


def _pixels(tiff: TiffFile, pixels: ET.Element, name: str) -> Series | None:
    resolutions: dict[int, dict[tuple[int, int], int]] = {}
    for dimension in pixels:
        if local_name(dimension.tag) != "dimension" or "ifd" not in dimension.attrib:
            continue
        c, z, r = (int(dimension.get(key, "0")) for key in ("c", "z", "r"))
        resolutions.setdefault(r, {})[(c, z)] = int(dimension.get("ifd", "0"))
    series: Series | None = None
    pages = tiff.pages
    for _, ifds in sorted(resolutions.items()):
        channels = max(c for c, _ in ifds) + 1
        planes = max(z for _, z in ifds) + 1
        slots: list[int | None] = [None] * (channels * planes)
        for (c, z), ifd in ifds.items():
            slots[c * planes + z] = ifd
        first = slots[0]
        if first is None or first >= len(pages):
            return series
        keyframe = pages[first]
        images = Images(len(slots), functools.partial(_page, tiff, slots))
        level = Level(tiff, images, (channels, planes, *keyframe.shape), "CZ" + keyframe.axes, keyframe, name=name)
        if series is None:
            series = Series(level, "scn", name)
        else:
            series.levels.append(level)
    return series

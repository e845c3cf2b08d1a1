"""Ventana/Roche BIF: pages named by their description: the label, the thumbnail (or probability map),
and the pyramid's levels ("level=N ..."); the XMP's iScan attributes become the metadata. Tiles are
returned as stored (BIF's overlapping tiles are not stitched, as in tifffile)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from ._text import local_name
from .aperio import page_series
from .model import Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["bif_metadata", "bif_series"]


def bif_metadata(page: TiffPage) -> dict[str, Any]:
    """Attributes of the XMP's ``iScan`` element (scanner, magnification, ...), {} without one."""
    raw = page.ifd.get(700)
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, (bytes, bytearray)) and hasattr(raw, "tobytes"):
        raw = raw.tobytes()
    if not isinstance(raw, (bytes, bytearray)):
        return {}
    try:
        root = ET.fromstring(bytes(raw).rstrip(b"\0"))
    except ET.ParseError:
        return {}
    for element in root.iter():
        if local_name(element.tag) == "iScan":
            return dict(element.attrib)
    return {}


def bif_series(tiff: TiffFile) -> list[Series]:
    found: list[Series] = []
    baseline: Series | None = None
    for page in tiff.pages:
        text = page.description or ""
        if text.startswith("Label"):
            found.append(page_series(tiff, page, "bif", "Label"))
        elif text == "Thumbnail" or text.startswith("Probability"):
            found.append(page_series(tiff, page, "bif", "Thumbnail"))
        elif "level" not in text:
            found.append(page_series(tiff, page, "bif", "Unknown"))
        elif baseline is None:
            baseline = page_series(tiff, page, "bif", "Baseline")
            baseline.metadata = bif_metadata(page)
            found.insert(0, baseline)
        else:
            baseline.levels.append(page_series(tiff, page, "bif", "Resolution").base)
    return found

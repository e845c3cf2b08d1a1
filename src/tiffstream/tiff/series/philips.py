"""Philips TIFF: tiled pages are the pyramid, padded to whole tiles; the DICOM pixel spacing of each
level in the description's XML gives its true size. Untiled pages are the label, macro and others.
The XML's DICOM attributes become the metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from .aperio import page_series
from .model import Images, Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["philips_metadata", "philips_series"]


def philips_metadata(root: ET.Element) -> dict[str, Any]:
    """Top-level DICOM attributes of the DataObject (``DICOM_MANUFACTURER``, ...) as text."""
    return {a.get("Name", ""): (a.text or "").strip().strip('"') for a in root.findall("./Attribute")}


def philips_series(tiff: TiffFile) -> list[Series] | None:
    try:
        root = ET.fromstring(tiff.pages[0].description or "")
    except ET.ParseError:
        return None
    spacing = []
    for element in root.findall(
        ".//*/DataObject[@ObjectType='PixelDataRepresentation']/Attribute[@Name='DICOM_PIXEL_SPACING']"
    ):
        try:
            spacing.append(tuple(float(v) for v in (element.text or "").replace('"', "").split()))
        except ValueError:
            return None
    if len(spacing) < 2:
        return None
    levels: list[TiffPage] = []
    named: dict[str, list[TiffPage]] = {"Other": []}
    for page in tiff.pages:
        text = page.description or ""
        if text.startswith("Macro"):
            named["Macro"] = [page]
        elif text.startswith("Label"):
            named["Label"] = [page]
        elif not page.is_tiled:
            named["Other"].append(page)
        else:
            levels.append(page)
    if len(levels) != len(spacing) or any(len(s) != 2 or not s[0] or not s[1] for s in spacing):
        return None
    first = levels[0]
    h0, w0 = spacing[0]
    baseline = page_series(tiff, first, "philips", "Baseline")
    baseline.metadata = philips_metadata(root)
    for index, (page, (h, w)) in enumerate(zip(levels[1:], spacing[1:], strict=True)):
        width = _true_size(page.width, page.chunk_shape[1], first.width // round(w / w0))
        height = _true_size(page.height, page.chunk_shape[0], first.height // round(h / h0), grow=True)
        shape = (
            (height, width, *page.shape[2:])
            if page.axes == "YXS"
            else ((page.shape[0], height, width) if page.axes == "SYX" else (height, width))
        )
        name = f"Level{index + 1}"
        baseline.levels.append(Level(tiff, Images.of([page]), shape, page.axes, page, page_shape=shape, name=name))
    found = [baseline]
    for name, pages in named.items():
        found.extend(page_series(tiff, page, "philips", name) for page in pages)
    return found


def _true_size(stored: int, tile: int, expected: int, *, grow: bool = False) -> int:
    """A level's size without its padding, as tifffile decides it from the stored size and the spacing."""
    if stored - tile >= expected:
        return stored - (tile - 1)
    if stored < expected and not grow:
        return stored
    return expected

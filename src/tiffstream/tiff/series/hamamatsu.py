"""Hamamatsu NDPI: alike pages grouped as in generic files, the pyramid named by its reference and the
macro and map images by their magnification tag (-1 and -2); NDPI's own tags become the metadata."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .generic import generic_series
from .model import Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["NDPI_TAGS", "ndpi_metadata", "ndpi_series"]

NDPI_TAGS = {
    65420: "FileFormat",
    65421: "Magnification",
    65422: "XOffsetFromSlideCenter",
    65423: "YOffsetFromSlideCenter",
    65424: "ZOffsetFromSlideCenter",
    65425: "TissueIndex",
    65426: "McuStarts",
    65427: "SlideLabel",
    65428: "AuthCode",
    65432: "McuStartsHighBytes",
    65434: "Fluorescence",
    65435: "ExposureRatio",
    65436: "RedMultiplier",
    65437: "GreenMultiplier",
    65438: "BlueMultiplier",
    65439: "FocusPoints",
    65440: "FocusPointRegions",
    65441: "CaptureMode",
    65442: "ScannerSerialNumber",
    65444: "JpegQuality",
    65445: "RefocusInterval",
    65446: "FocusOffset",
    65447: "BlankLines",
    65448: "FirmwareVersion",
    65449: "PropertyMap",
    65450: "LabelObscured",
    65451: "EmissionWavelength",
    65453: "LampAge",
    65454: "ExposureTime",
    65455: "FocusTime",
    65456: "ScanTime",
    65457: "WriteTime",
    65458: "FullyAutoFocus",
    65500: "DefaultGamma",
}
_SKIPPED = {65426, 65432}  # per-MCU arrays, not metadata


def ndpi_metadata(page: TiffPage) -> dict[str, Any]:
    """NDPI's private tags of ``page`` by name; the PropertyMap's ``key=value`` lines as a dict."""
    result: dict[str, Any] = {}
    for code, name in NDPI_TAGS.items():
        tag = page.ifd.tags.get(code)
        if tag is None or code in _SKIPPED:
            continue
        value = tag.value
        if code == 65449 and isinstance(value, str):
            value = dict(line.split("=", 1) for line in value.splitlines() if "=" in line)
        elif hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        result[name] = value
    return result


def ndpi_series(tiff: TiffFile) -> list[Series]:
    """Generic series renamed: stacks of focal planes on axis Z, Baseline/Macro/Map names."""
    found = generic_series(tiff)
    for series in found:
        series.kind = "ndpi"
        base = series.base
        if base.axes.startswith("I"):
            series.levels[0] = Level(tiff, base.images, base.shape, "Z" + base.axes[1:], base.keyframe, name=base.name)
        series.metadata = functools.partial(ndpi_metadata, series.keyframe)  # parsed when asked for
        if series.is_pyramidal:
            label = series.keyframe.ifd.get(65427)
            series.name = label if isinstance(label, str) and label else "Baseline"
            continue
        magnification = series.keyframe.ifd.get(65421)
        if magnification == -1.0:
            series.name = "Macro"
        elif magnification == -2.0:
            series.name = "Map"
    return found

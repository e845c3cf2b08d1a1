"""A slide's properties under OpenSlide's names: ``openslide.*`` (vendor, levels, mpp, objective power,
associated image sizes, comment, ICC size), ``tiff.*`` from level 0's tags, and the vendor's own keys."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tiff.page import TiffPage
    from ._levels import SlideLevel

__all__ = ["number_text", "slide_properties"]

_TIFF_TEXT = {
    270: "ImageDescription",
    271: "Make",
    272: "Model",
    305: "Software",
    306: "DateTime",
    315: "Artist",
    316: "HostComputer",
    33432: "Copyright",
    269: "DocumentName",
}
_UNITS = {1: "none", 2: "inch", 3: "centimeter"}
_CM_PER_INCH = 2.54


def number_text(value: float) -> str:
    """A number as OpenSlide prints it: integers without a fraction, others at full precision."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _rational(page: TiffPage, code: int) -> float | None:
    tag = page.ifd.tags.get(code)
    if tag is None or tag.type not in (5, 10, 11, 12):
        return None
    values = np.ravel(tag.array()).astype(np.float64)
    if tag.type in (5, 10):
        return float(values[0] / values[1]) if values[1] else None
    return float(values[0])


def _tiff_properties(page: TiffPage) -> tuple[dict[str, str], float | None, float | None]:
    """``tiff.*`` properties, and the resolution in pixels per centimetre when the unit says (else None).
    OpenSlide reports inches as centimetres and prints resolutions with 17 significant digits."""
    found: dict[str, str] = {}
    for code, name in _TIFF_TEXT.items():
        text = page.text_tag(code)  # a text tag that cannot be read is left out
        if text:
            found[f"tiff.{name}"] = text
    unit_value = page.ifd.get(296, 2)
    unit = unit_value if isinstance(unit_value, int) else 2
    x, y = _rational(page, 282), _rational(page, 283)
    if unit == 2 and x is not None and y is not None:
        x, y, unit = x / _CM_PER_INCH, y / _CM_PER_INCH, 3
    if x is not None and y is not None:
        found["tiff.XResolution"], found["tiff.YResolution"] = format(x, ".17g"), format(y, ".17g")
    found["tiff.ResolutionUnit"] = _UNITS.get(unit, "inch")
    per_cm = unit == 3 and x and y
    return found, (x if per_cm else None), (y if per_cm else None)


def _ndpi_properties(page: TiffPage) -> dict[str, str]:
    found: dict[str, str] = {}
    text = page.ifd.get(65449)
    if isinstance(text, str):
        for line in text.split("\r\n"):
            key, sep, value = line.partition("=")
            if sep:
                found[f"hamamatsu.{key}"] = value
    for code, name in ((65421, "SourceLens"), (65422, "XOffsetFromSlideCentre"), (65423, "YOffsetFromSlideCentre")):
        value = page.ifd.get(code)
        if isinstance(value, (int, float)):
            found[f"hamamatsu.{name}"] = number_text(value)
    return found


_HASHED_TEXT = (270, 271, 272, 305, 306, 315, 316, 33432, 269)  # in OpenSlide's order
_QUICKHASH_LIMIT = 5 << 20  # OpenSlide gives no quickhash when the smallest level stores more


def hashed_chunks(smallest: TiffPage) -> list[tuple[int, int]] | None:
    """(offset, byte count) of every stored tile or strip of the smallest level, in tag order; None when
    OpenSlide gives no quickhash (no chunk table, or more than 5 MiB stored)."""
    tags = smallest.ifd.tags
    offsets_tag, counts_tag = (324, 325) if 324 in tags else (273, 279)
    if offsets_tag not in tags or counts_tag not in tags:
        return None
    offsets, counts = tags[offsets_tag].array(), tags[counts_tag].array()
    if not offsets.size or offsets.size != counts.size or int(counts.sum()) > _QUICKHASH_LIMIT:
        return None
    return list(zip(offsets.tolist(), counts.tolist(), strict=True))


def quickhash(smallest: TiffPage, first: TiffPage, chunks: list[tuple[int, int]]) -> str:
    """OpenSlide's ``quickhash-1``: SHA-256 of the stored bytes of ``chunks`` (the smallest level's), then of
    each text property of level 0 by name and value, each NUL-terminated."""
    source = smallest.ifd.source
    digest = hashlib.sha256()
    for offset, count in chunks:
        digest.update(source.read_at_most(int(offset), int(count)))
    for code in _HASHED_TEXT:
        tag = first.ifd.tags.get(code)
        value = tag.raw().split(b"\0", 1)[0] if tag is not None and tag.type == 2 else b""
        digest.update(f"tiff.{_TIFF_TEXT[code]}".encode() + b"\0" + value + b"\0")
    return digest.hexdigest()


def slide_properties(
    vendor: str, levels: list[SlideLevel], downsamples: tuple[float, ...], associated: dict[str, Any]
) -> dict[str, str]:
    """Every property of a slide, by name."""
    first = levels[0].level.keyframe
    found, x_res, y_res = _tiff_properties(first)
    found["openslide.vendor"] = vendor
    found["openslide.level-count"] = str(len(levels))
    for index, (level, downsample) in enumerate(zip(levels, downsamples, strict=True)):
        width, height = level.size
        tile_width, tile_height = level.tile_size
        prefix = f"openslide.level[{index}]"
        found[f"{prefix}.width"], found[f"{prefix}.height"] = str(width), str(height)
        found[f"{prefix}.downsample"] = number_text(downsample)
        found[f"{prefix}.tile-width"], found[f"{prefix}.tile-height"] = str(tile_width), str(tile_height)
    for name, image in associated.items():
        height, width = image.image_size
        found[f"openslide.associated.{name}.width"], found[f"openslide.associated.{name}.height"] = (
            str(width),
            str(height),
        )
    if first.description:
        found["openslide.comment"] = first.description
    icc = first.ifd.tags.get(34675)
    if icc is not None:
        found["openslide.icc-size"] = str(icc.count)
    if vendor == "aperio":
        items = (item.partition("=") for item in (first.description or "").split("|")[1:])
        raw = {key.strip(): value.strip() for key, sep, value in items if sep}
        found.update({f"aperio.{key}": value for key, value in raw.items()})
        if raw.get("MPP"):
            found["openslide.mpp-x"] = found["openslide.mpp-y"] = number_text(float(raw["MPP"]))
        if raw.get("AppMag"):
            found["openslide.objective-power"] = raw["AppMag"]
    elif vendor == "hamamatsu":
        found.update(_ndpi_properties(first))
        lens = first.ifd.get(65421)
        if isinstance(lens, (int, float)) and lens > 0:
            found["openslide.objective-power"] = number_text(lens)
    if "openslide.mpp-x" not in found and x_res and y_res:
        found["openslide.mpp-x"], found["openslide.mpp-y"] = repr(10000 / x_res), repr(10000 / y_res)
    return dict(sorted(found.items()))

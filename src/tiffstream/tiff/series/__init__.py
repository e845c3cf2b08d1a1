"""Series and pyramid levels: which layout a file follows, and the series it holds (``TiffFile.series``).

Layouts are tried in tifffile's order, from the first page's metadata: tifffile's shaped description,
OME-XML, ImageJ, Aperio SVS, Leica SCN, PerkinElmer QPI, Hamamatsu NDPI, Ventana BIF, Philips; then a
uniform stack, else the generic grouping of alike pages into stacks and pyramids. A layout whose
metadata does not hold up falls back to the generic grouping (OME to ImageJ first, when both are there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .aperio import svs_series
from .generic import generic_series, is_uniform, uniform_series
from .hamamatsu import ndpi_series
from .imagej import imagej_description, imagej_series
from .leica import scn_series
from .model import Images, Level, Series, squeeze_axes
from .ome import ome_channel_names, ome_pixel_sizes, ome_series
from .perkinelmer import qpi_series
from .philips import philips_series
from .shaped import shaped_description, shaped_series
from .ventana import bif_series

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..file import TiffFile
    from ..page import TiffPage

__all__ = [
    "Images",
    "Level",
    "Series",
    "find_series",
    "layout_of",
    "ome_channel_names",
    "ome_pixel_sizes",
    "squeeze_axes",
]


def _tail(page: TiffPage, end: str, chars: int) -> bool:
    return (page.description or "")[-chars:].strip().endswith(end)


_LAYOUTS: tuple[tuple[str, Callable[[TiffPage], bool]], ...] = (
    ("shaped", lambda p: shaped_description(p) is not None),
    ("ome", lambda p: _tail(p, "OME>", 10)),
    ("imagej", lambda p: imagej_description(p) is not None),
    ("svs", lambda p: (p.description or "").startswith("Aperio ")),
    ("scn", lambda p: _tail(p, "</scn>", 10)),
    ("qpi", lambda p: p.software.startswith("PerkinElmer-QPI")),
    ("ndpi", lambda p: 65420 in p.ifd and 271 in p.ifd),
    (
        "bif",
        lambda p: (
            700 in p.ifd
            and (
                "Ventana" in p.software
                or p.software.startswith("ScanOutputManager")
                or p.description in {"Label Image", "Label_Image", "Probability_Image"}
            )
        ),
    ),
    ("philips", lambda p: p.software.startswith("Philips DP") and _tail(p, "</DataObject>", 16)),
)

_BUILDERS: dict[str, Callable[[TiffFile], list[Series] | None]] = {
    "shaped": shaped_series,
    "ome": ome_series,
    "imagej": imagej_series,
    "svs": svs_series,
    "scn": scn_series,
    "qpi": qpi_series,
    "ndpi": ndpi_series,
    "bif": bif_series,
    "philips": philips_series,
}


def layout_of(first: TiffPage) -> list[str]:
    """The layouts the first page's metadata claims, in the order they are tried."""
    return [name for name, claims in _LAYOUTS if claims(first)]


def find_series(tiff: TiffFile) -> list[Series]:
    """The file's series, numbered in order (empty for a file without pages)."""
    if not tiff.pages.has(1):
        return []
    claimed = layout_of(tiff.pages[0])
    found: list[Series] | None = None
    for name in claimed:
        found = _BUILDERS[name](tiff)
        if found or not (name == "ome" and "imagej" in claimed):
            break
    if not found:
        found = uniform_series(tiff) if not claimed and is_uniform(tiff) else generic_series(tiff)
    for index, series in enumerate(found):
        series.index = index
    return found

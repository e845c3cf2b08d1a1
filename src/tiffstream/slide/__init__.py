"""``tiffstream.slide``: openslide-python's API over tiffstream (``import tiffstream.slide as openslide``).

Whole-slide TIFFs (Aperio, Hamamatsu, Leica, Ventana, Philips, generic tiled TIFF) open as OpenSlide
opens them, plus OME-TIFF pyramids and QPTIFF; ``open_slide`` falls back to ``ImageSlide`` for pictures.
Needs Pillow (``pip install "tiffstream[slide]"``).
"""

from __future__ import annotations

from typing import Any

from . import lowlevel
from ._abstract import PROPERTY_NAME_BACKGROUND_COLOR, AbstractSlide
from ._errors import OpenSlideError, OpenSlideUnsupportedFormatError
from ._image import ImageSlide
from ._tiff import OpenSlide, OpenSlideCache

__all__ = [
    "PROPERTY_NAME_BACKGROUND_COLOR",
    "PROPERTY_NAME_BARCODE",
    "PROPERTY_NAME_BOUNDS_HEIGHT",
    "PROPERTY_NAME_BOUNDS_WIDTH",
    "PROPERTY_NAME_BOUNDS_X",
    "PROPERTY_NAME_BOUNDS_Y",
    "PROPERTY_NAME_COMMENT",
    "PROPERTY_NAME_MPP_X",
    "PROPERTY_NAME_MPP_Y",
    "PROPERTY_NAME_OBJECTIVE_POWER",
    "PROPERTY_NAME_QUICKHASH1",
    "PROPERTY_NAME_VENDOR",
    "AbstractSlide",
    "ImageSlide",
    "OpenSlide",
    "OpenSlideCache",
    "OpenSlideError",
    "OpenSlideUnsupportedFormatError",
    "lowlevel",
    "open_slide",
]

__version__ = "1.4.0"  # the openslide-python API level served
__library_version__ = "tiffstream"

PROPERTY_NAME_BARCODE = "openslide.barcode"
PROPERTY_NAME_BOUNDS_HEIGHT = "openslide.bounds-height"
PROPERTY_NAME_BOUNDS_WIDTH = "openslide.bounds-width"
PROPERTY_NAME_BOUNDS_X = "openslide.bounds-x"
PROPERTY_NAME_BOUNDS_Y = "openslide.bounds-y"
PROPERTY_NAME_COMMENT = "openslide.comment"
PROPERTY_NAME_MPP_X = "openslide.mpp-x"
PROPERTY_NAME_MPP_Y = "openslide.mpp-y"
PROPERTY_NAME_OBJECTIVE_POWER = "openslide.objective-power"
PROPERTY_NAME_QUICKHASH1 = "openslide.quickhash-1"
PROPERTY_NAME_VENDOR = "openslide.vendor"


def open_slide(filename: Any) -> OpenSlide | ImageSlide:
    """A whole-slide image as an ``OpenSlide``, anything else Pillow opens as an ``ImageSlide``."""
    try:
        return OpenSlide(filename)
    except OpenSlideUnsupportedFormatError:
        return ImageSlide(filename)

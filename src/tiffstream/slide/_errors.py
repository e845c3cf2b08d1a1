"""openslide-python's exception types, and the argument errors its low-level layer raises."""

from __future__ import annotations

import ctypes

from ..errors import TiffError

__all__ = ["OpenSlideError", "OpenSlideUnsupportedFormatError", "closed_slide", "not_a_path"]


class OpenSlideError(TiffError):
    """An error reading a slide (also a ``TiffError``, so tiffstream's handlers catch it)."""


class OpenSlideUnsupportedFormatError(OpenSlideError):
    """The file is not a slide tiffstream opens."""


def closed_slide() -> ctypes.ArgumentError:
    """What openslide-python raises on a closed slide (its test suite expects ``ctypes.ArgumentError``)."""
    return ctypes.ArgumentError("argument 1: ValueError: Passing closed slide object")


def not_a_path(value: object) -> ctypes.ArgumentError:
    return ctypes.ArgumentError(
        f"argument 1: TypeError: expected str, bytes or os.PathLike object, not {type(value).__name__}"
    )

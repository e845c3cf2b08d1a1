"""What openslide-python's ``lowlevel`` module tells callers: which library features exist.

openslide-python code checks ``lowlevel.<function>.available`` before using newer OpenSlide features
(ICC profiles, shared caches); every feature of OpenSlide 4.0 that ``tiffstream.slide`` serves is here,
available. There is no C library to call: the slide objects do the work.
"""

from __future__ import annotations

__all__ = [
    "cache_create",
    "detect_vendor",
    "get_version",
    "read_associated_image_icc_profile",
    "read_icc_profile",
    "set_cache",
]


class _Feature:
    """A library feature, with the ``available`` flag openslide-python code checks."""

    available = True

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<feature {self.name}: available>"


cache_create = _Feature("cache_create")
set_cache = _Feature("set_cache")
read_icc_profile = _Feature("read_icc_profile")
read_associated_image_icc_profile = _Feature("read_associated_image_icc_profile")
detect_vendor = _Feature("detect_vendor")
get_version = _Feature("get_version")

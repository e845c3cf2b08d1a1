"""CPU codec registry: TIFF Compression value -> codec module (one small module per compression).

``get_codec(code)`` returns the module or raises ``UnsupportedTiffError`` naming the compression.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import UnsupportedTiffError
from ..tiff.tags import Compression
from . import (
    ccitt,
    deflate,
    jpeg,
    jpeg2000,
    jpegxl,
    jpegxr,
    lerc,
    lzma,
    lzw,
    none,
    packbits,
    png,
    webp,
    zstd,
)
from ._base import BytesLike, ChunkContext

if TYPE_CHECKING:
    from ..plan import DecodePlan

__all__ = ["REGISTRY", "BytesLike", "ChunkContext", "codec_for", "compression_name", "get_codec"]

_MODULES: tuple[ModuleType, ...] = (
    none,
    lzw,
    deflate,
    packbits,
    zstd,
    lzma,
    ccitt,
    jpeg,
    jpeg2000,
    png,
    webp,
    jpegxl,
    jpegxr,
    lerc,
)
REGISTRY: dict[int, ModuleType] = {code: module for module in _MODULES for code in module.CODES}


def compression_name(code: int) -> str:
    """``"LZW (5)"``-style name of a TIFF Compression value."""
    try:
        return f"{Compression(code).name} ({code})"
    except ValueError:
        return f"compression {code}"


def get_codec(code: int, *, path: str | None = None, offset: int | None = None) -> ModuleType:
    """The codec module for TIFF Compression ``code``; ``UnsupportedTiffError`` (naming ``path`` and the IFD's
    ``offset``) when there is none here."""
    module = REGISTRY.get(code)
    if module is None or not module.available():
        name = compression_name(code)
        why = "no codec" if module is None else f"the {module.NAME} codec is not available in this imagecodecs build"
        raise UnsupportedTiffError(f"{name} is not supported: {why}", path=path, offset=offset)
    return module


def codec_for(plan: DecodePlan) -> ModuleType:
    """The codec of ``plan``'s compression; when there is none here, the error names the plan's file and IFD."""
    return get_codec(plan.compression, path=plan.source_name, offset=plan.ifd_offset)

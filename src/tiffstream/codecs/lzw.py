"""LZW (Compression 5), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    from ._base import ChunkContext

CODES = (5,)
NAME = "lzw"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.LZW.available)


def decode(data: bytes, /, *, context: ChunkContext) -> bytes:
    return bytes(imagecodecs.lzw_decode(data, out=context.nbytes))

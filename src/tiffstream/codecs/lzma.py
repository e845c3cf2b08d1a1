"""LZMA (Compression 34925), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    from ._base import ChunkContext

CODES = (34925,)
NAME = "lzma"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.LZMA.available)


def decode(data: bytes, /, *, context: ChunkContext) -> bytes:
    return bytes(imagecodecs.lzma_decode(data, out=context.nbytes))

"""PackBits (Compression 32773), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    from ._base import ChunkContext

CODES = (32773,)
NAME = "packbits"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.PACKBITS.available)


def decode(data: bytes, /, *, context: ChunkContext) -> bytes:
    return bytes(imagecodecs.packbits_decode(data, out=context.nbytes))

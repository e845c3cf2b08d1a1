"""Zstandard (Compression 50000 and the older 34926), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    from ._base import ChunkContext

CODES = (50000, 34926)
NAME = "zstd"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.ZSTD.available)


def decode(data: bytes, /, *, context: ChunkContext) -> bytes:
    return bytes(imagecodecs.zstd_decode(data, out=context.nbytes))

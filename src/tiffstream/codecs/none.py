"""Uncompressed chunks (Compression 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base import ChunkContext

CODES = (1,)
NAME = "none"
KIND = "bytes"


def available() -> bool:
    return True


def decode(data: bytes, /, *, context: ChunkContext) -> bytes:
    return data

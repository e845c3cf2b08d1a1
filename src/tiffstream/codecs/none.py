"""Uncompressed chunks (Compression 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._base import BytesLike, ChunkContext

CODES = (1,)
NAME = "none"
KIND = "bytes"


def available() -> bool:
    return True


def decode(data: BytesLike, /, *, context: ChunkContext) -> BytesLike:
    return data


def decode_into(data: BytesLike, out: np.ndarray, /) -> int:
    """Copy straight into ``out`` (1-D uint8); returns bytes written."""
    count = min(len(data), out.size)
    out[:count] = np.frombuffer(data, np.uint8, count)
    return count

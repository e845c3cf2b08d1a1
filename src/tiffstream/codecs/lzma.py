"""LZMA (Compression 34925), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs
import numpy as np

if TYPE_CHECKING:
    from ._base import BytesLike, ChunkContext

CODES = (34925,)
NAME = "lzma"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.LZMA.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> BytesLike:
    return bytes(imagecodecs.lzma_decode(data, out=context.nbytes))


def decode_into(data: BytesLike, out: np.ndarray, /) -> int:
    """Decode straight into out (1-D uint8, the chunk's place in the output); returns bytes written."""
    return len(imagecodecs.lzma_decode(data, out=out.data))

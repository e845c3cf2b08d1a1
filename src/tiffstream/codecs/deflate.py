"""Deflate / zlib (Compression 8 "Adobe Deflate", 32946 "Deflate", 50013 PixTIFF), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs
import numpy as np

if TYPE_CHECKING:
    from ._base import BytesLike, ChunkContext

CODES = (8, 32946, 50013)
NAME = "deflate"
KIND = "bytes"

_decode = imagecodecs.deflate_decode if imagecodecs.DEFLATE.available else imagecodecs.zlib_decode


def available() -> bool:
    return bool(imagecodecs.DEFLATE.available or imagecodecs.ZLIB.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> BytesLike:
    return bytes(_decode(data, out=context.nbytes))


def decode_into(data: BytesLike, out: np.ndarray, /) -> int:
    """Decode straight into ``out`` (1-D uint8, the chunk's place in the output); returns bytes written."""
    return len(_decode(data, out=out.data))

"""PackBits (Compression 32773), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs
import numpy as np

if TYPE_CHECKING:
    from ._base import BytesLike, ChunkContext

CODES = (32773,)
NAME = "packbits"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.PACKBITS.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> BytesLike:
    return bytes(imagecodecs.packbits_decode(data, out=context.nbytes))


def decode_into(data: BytesLike, out: np.ndarray, /) -> int:
    """Decode straight into out (1-D uint8, the chunk's place in the output); returns bytes written."""
    return len(imagecodecs.packbits_decode(data, out=out.data))

"""LZW (Compression 5), through imagecodecs.

Streams are decoded by imagecodecs' two-pass path (its size pass first, then the decode), never straight
into a given buffer: given an output, imagecodecs 2026.3.6 skips the pass that rejects corrupt streams
and can then crash the process on one (a code past the table after a Clear). The price is one more
pass over each stream (about 30% of LZW decode time) and a copy; the allocation is the stream's own
decoded size, at most about 3,840 times its bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs
import numpy as np

if TYPE_CHECKING:
    from ._base import BytesLike, ChunkContext

CODES = (5,)
NAME = "lzw"
KIND = "bytes"


def available() -> bool:
    return bool(imagecodecs.LZW.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> BytesLike:
    return imagecodecs.lzw_decode(data)[: context.nbytes]


def decode_into(data: BytesLike, out: np.ndarray, /) -> int:
    """Decode into out (1-D uint8, the chunk's place in the output); returns bytes written."""
    decoded = imagecodecs.lzw_decode(data)
    count = min(len(decoded), out.size)
    out[:count] = np.frombuffer(decoded, np.uint8, count)
    return count

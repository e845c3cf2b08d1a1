"""WebP (Compression 50001 and the older 34927), through imagecodecs; RGBA chunks may omit opaque alpha."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

from ._base import check_stream_size

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (50001, 34927)
NAME = "webp"
KIND = "image"
ACCEPTS_OUT = True


def available() -> bool:
    return bool(imagecodecs.WEBP.available)


def canvas_size(data: BytesLike) -> tuple[int, int] | None:
    """(height, width) from the RIFF container's first image chunk, read before decoding; None when unknown."""
    head = bytes(data[:30])
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    kind, payload = head[12:16], head[20:30]
    if kind == b"VP8X":
        return 1 + int.from_bytes(payload[7:10], "little"), 1 + int.from_bytes(payload[4:7], "little")
    if kind == b"VP8L" and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        return 1 + (bits >> 14 & 0x3FFF), 1 + (bits & 0x3FFF)
    if kind == b"VP8 " and payload[3:6] == b"\x9d\x01\x2a":
        return int.from_bytes(payload[8:10], "little") & 0x3FFF, int.from_bytes(payload[6:8], "little") & 0x3FFF
    return None


def decode(data: BytesLike, /, *, context: ChunkContext, out: np.ndarray | None = None) -> np.ndarray:
    """Decode one WebP chunk; ``out`` (a full-chunk buffer) is used when the stream fills it exactly."""
    check_stream_size("WebP", canvas_size(data), context)
    alpha = True if context.plan.samples_per_pixel == 4 else None
    if out is not None:
        try:
            return imagecodecs.webp_decode(data, hasalpha=alpha, out=out)
        except ValueError:  # not the full chunk size
            pass
    return imagecodecs.webp_decode(data, hasalpha=alpha)

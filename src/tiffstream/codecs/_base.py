"""The codec contract: one TIFF compression family, decoding one chunk's bytes (CPU, over imagecodecs).

A codec module defines ``CODES`` (TIFF Compression values), ``NAME``, ``KIND`` and ``decode``:

- ``KIND = "bytes"``: ``decode(data, /, *, context) -> bytes`` returns the uncompressed byte stream;
  the CPU backend then applies fill order, bit unpacking, byte order and predictors.
  A bytes codec may also define ``decode_into(data, out, /) -> int``: decode straight into ``out``
  (1-D uint8, the chunk's place in the output array) and return the bytes written.
- ``KIND = "image"``: ``decode(data, /, *, context) -> ndarray`` returns decoded samples, shaped
  ``(rows, columns[, samples])``; predictors and fill order do not apply (as in tifffile). An image
  codec that sets ``ACCEPTS_OUT = True`` also takes ``out=``: a reusable full-chunk buffer it fills
  when the stream has exactly that size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np

    from ..plan import DecodePlan

__all__ = ["BytesLike", "ChunkContext", "Codec", "check_stream_size"]

BytesLike = bytes | bytearray | memoryview  # compressed chunk data, usually a slice of one coalesced read
# A stream whose own header claims more pixels than its chunk holds is decoded and cropped, as libtiff and
# tifffile do, while it stays this small; a larger claim (65500x65500 in a 256x256 tile) is refused unread.
_MAX_OVERSIZED_STREAM = 64 << 20


@dataclass(frozen=True, slots=True)
class ChunkContext:
    """What a codec may need besides the bytes: the plan and the chunk's stored size."""

    plan: DecodePlan
    rows: int
    width: int
    samples: int  # samples per pixel stored in this chunk (1 for planar-separate)

    @property
    def nbytes(self) -> int:
        """Uncompressed size of a full chunk, in bytes (bits rounded up per row)."""
        bits = sum(self.plan.bits_per_sample[: self.samples]) if self.samples > 1 else self.plan.bits_per_sample[0]
        return self.rows * -(-self.width * bits // 8)


class Codec(Protocol):
    """A codec module, as the registry sees it."""

    CODES: tuple[int, ...]
    NAME: str
    KIND: Literal["bytes", "image"]

    def available(self) -> bool: ...

    def decode(self, data: BytesLike, /, *, context: ChunkContext) -> BytesLike | np.ndarray: ...


def check_stream_size(kind: str, size: tuple[int, int] | None, context: ChunkContext) -> None:
    """Refuse a stream whose header (``size``: height, width, read before decoding) claims far more than the
    chunk holds; ``kind`` names the codec in the message."""
    if size is None or (size[0] <= context.rows and size[1] <= context.width):
        return
    nbytes = size[0] * size[1] * max(context.samples, 1) * -(-max(context.plan.bits_per_sample) // 8)
    if nbytes > _MAX_OVERSIZED_STREAM:
        raise ValueError(
            f"the {kind} stream claims {size[0]}x{size[1]} pixels ({nbytes} bytes), "
            f"the chunk holds {context.rows}x{context.width}: refusing to decode it"
        )

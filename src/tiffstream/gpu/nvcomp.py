"""Batched Deflate and Zstd decompression of TIFF chunks on the GPU through nvcomp's Python API.

TIFF Deflate chunks are zlib streams: nvcomp's raw Deflate takes them without the 2-byte header and
the 4-byte Adler-32 trailer (see shared GPU notes). Zstd chunks go as they are.
"""

from __future__ import annotations

import functools
from typing import Any

import cupy as cp

from ..errors import BackendUnavailableError

__all__ = ["decompress"]


@functools.lru_cache(maxsize=None)
def _codec(algorithm: str, device: int, stream: int) -> Any:
    try:
        from nvidia import nvcomp
    except ImportError as exc:
        raise BackendUnavailableError("nvcomp is not installed: pip install 'tiffstream[gpu]'") from exc
    return nvcomp.Codec(algorithm=algorithm, bitstream_kind=nvcomp.BitstreamKind.RAW, device_id=device, cuda_stream=stream)


def decompress(algorithm: str, chunks: list[cp.ndarray], outputs: list[cp.ndarray]) -> list[int]:
    """Decompress device buffers (uint8) into preallocated ``outputs``; returns the bytes each decoded to."""
    from nvidia import nvcomp

    if not chunks:
        return []
    stream = cp.cuda.get_current_stream()
    codec = _codec(algorithm, cp.cuda.Device().id, stream.ptr)
    decoded = codec.decode([nvcomp.as_array(chunk) for chunk in chunks], out=outputs)
    return [int(array.buffer_size) if hasattr(array, "buffer_size") else int(cp.asarray(array).nbytes) for array in decoded]

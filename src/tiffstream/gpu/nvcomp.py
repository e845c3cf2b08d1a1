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


def decompress(algorithm: str, chunks: list[cp.ndarray]) -> list[cp.ndarray]:
    """Decompress device buffers (uint8) with nvcomp; returns one uint8 device array per chunk.

    (Passing preallocated CuPy outputs through ``out=`` crashed nvcomp 5.3's Python API on an H100,
    2026-11-25, so nvcomp allocates the outputs.)
    """
    from nvidia import nvcomp

    if not chunks:
        return []
    stream = cp.cuda.get_current_stream()
    codec = _codec(algorithm, cp.cuda.Device().id, stream.ptr)
    decoded = codec.decode([nvcomp.as_array(chunk) for chunk in chunks])
    return [cp.asarray(array).view(cp.uint8).reshape(-1) for array in decoded]

"""Batched Deflate and Zstd decompression of TIFF chunks on the GPU through nvcomp's Python API.

TIFF Deflate chunks are zlib streams: nvcomp's raw Deflate takes them without the 2-byte header and
the 4-byte Adler-32 trailer (see shared GPU notes). Zstd chunks go as they are.
"""

from __future__ import annotations

import functools
from typing import Any

import cupy as cp

from ..errors import BackendUnavailableError, UnsupportedTiffError

__all__ = ["decompress", "strip_zlib"]


@functools.lru_cache(maxsize=None)
def _codec(algorithm: str, device: int, stream: int) -> Any:
    try:
        from nvidia import nvcomp
    except ImportError as exc:
        raise BackendUnavailableError("nvcomp is not installed: pip install 'tiffstream[gpu]'") from exc
    return nvcomp.Codec(algorithm=algorithm, bitstream_kind=nvcomp.BitstreamKind.RAW, device_id=device, cuda_stream=stream)


def strip_zlib(data: memoryview, *, path: str, offset: int) -> memoryview:
    """The raw Deflate stream inside a zlib chunk; raises UnsupportedTiffError if it is not zlib."""
    if len(data) < 6 or (data[0] & 0x0F) != 8 or (data[0] << 8 | data[1]) % 31 or data[1] & 0x20:
        raise UnsupportedTiffError("a Deflate chunk is not a plain zlib stream", path=path, offset=offset)
    return data[2:-4]


def decompress(algorithm: str, chunks: list[cp.ndarray]) -> list[cp.ndarray]:
    """Decompress device buffers (uint8) with nvcomp; returns one uint8 device array per chunk."""
    from nvidia import nvcomp

    if not chunks:
        return []
    stream = cp.cuda.get_current_stream()
    codec = _codec(algorithm, cp.cuda.Device().id, stream.ptr)
    decoded = codec.decode([nvcomp.as_array(chunk) for chunk in chunks])
    return [cp.asarray(array).view(cp.uint8).reshape(-1) for array in decoded]

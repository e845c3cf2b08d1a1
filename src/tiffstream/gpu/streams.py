"""The CUDA streams of the GPU backend, made once per device: worker streams that decode groups in turn, and
one copy stream for chunk uploads (so uploads overlap the decoding of earlier groups), side streams where a
library decodes one chunk a call (nvJPEG2000), so that a group's chunks decode side by side, and one stream that
recipes are captured on."""

from __future__ import annotations

import functools
from typing import Any

import cupy as cp

__all__ = ["capture_stream", "copy_stream", "side_streams", "user_stream", "worker_streams"]


@functools.cache
def worker_streams(device: int, count: int) -> tuple[cp.cuda.Stream, ...]:
    """``count`` non-blocking streams that decode groups on ``device`` (created once)."""
    with cp.cuda.Device(device):
        return tuple(cp.cuda.Stream(non_blocking=True) for _ in range(count))


@functools.cache
def copy_stream(device: int) -> cp.cuda.Stream:
    """The non-blocking stream that uploads chunk bytes on ``device`` (created once)."""
    with cp.cuda.Device(device):
        return cp.cuda.Stream(non_blocking=True)


@functools.cache
def capture_stream(device: int) -> cp.cuda.Stream:
    """The non-blocking stream that recipes are captured on, on ``device`` (created once; ``recipes.py``)."""
    with cp.cuda.Device(device):
        return cp.cuda.Stream(non_blocking=True)


@functools.cache
def side_streams(device: int, stream: int, count: int) -> tuple[cp.cuda.Stream, ...]:
    """``count`` non-blocking streams beside stream ``stream`` (a pointer) of ``device`` (created once)."""
    with cp.cuda.Device(device):
        return tuple(cp.cuda.Stream(non_blocking=True) for _ in range(count))


class _StreamHandle:
    """A raw ``cudaStream_t`` as an object of the CUDA stream protocol."""

    def __init__(self, pointer: int) -> None:
        self.pointer = pointer

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.pointer)


def user_stream(handle: Any) -> cp.cuda.Stream:
    """The CuPy stream for ``decode(cuda_stream=...)``: a pointer, or a stream object (CuPy, PyTorch, ...);
    0 or None: the current stream."""
    if not handle:
        return cp.cuda.get_current_stream()
    if isinstance(handle, cp.cuda.Stream):
        return handle
    protocol = handle if hasattr(handle, "__cuda_stream__") else _StreamHandle(int(getattr(handle, "ptr", handle)))
    if hasattr(cp.cuda.Stream, "from_external"):  # CuPy >= 14 (ExternalStream is deprecated there)
        return cp.cuda.Stream.from_external(protocol)
    return cp.cuda.ExternalStream(protocol.__cuda_stream__()[1])

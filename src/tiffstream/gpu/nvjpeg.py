"""Batched JPEG decoding on the GPU: nvJPEG's C API through ctypes (``libnvjpeg`` of the ``nvidia-nvjpeg`` wheel).

One ``nvjpegDecodeBatched`` call decodes many TIFF tiles (complete JPEG streams in host memory) straight into
device buffers with a pitch. The hardware backend (the NVJPG engines of A100/H100/H200) is used where the
device has one and the streams are baseline; the GPU-assisted backend otherwise.
"""

from __future__ import annotations

import ctypes
import enum
import functools
from typing import Any

import cupy as cp
import numpy as np

from .libraries import load

__all__ = ["Engine", "NvJpeg", "OutputFormat", "library", "nvjpeg"]

_STATUS = (
    "success",
    "not initialized",
    "invalid parameter",
    "bad JPEG",
    "JPEG not supported",
    "allocator failure",
    "execution failed",
    "architecture mismatch",
    "internal error",
    "implementation not supported",
    "incomplete bitstream",
)


class Engine(enum.IntEnum):
    """nvJPEG's backends we use (``nvjpegBackend_t``)."""

    GPU_HYBRID = 2  # Huffman decoding on the GPU for batches of more than 50 streams
    HARDWARE = 3  # the NVJPG engines: baseline, single scan, not 4:1:0/4:1:1


class OutputFormat(enum.IntEnum):
    """``nvjpegOutputFormat_t`` values we ask for."""

    Y = 2  # luma only, one channel
    RGBI = 5  # YCbCr converted to interleaved RGB
    UNCHANGEDI = 10  # the components as stored, interleaved (RGB JPEG without colour transform)


class Image(ctypes.Structure):
    """``nvjpegImage_t``: up to four channel pointers and pitches (interleaved formats use the first)."""

    _fields_ = [("channel", ctypes.c_void_p * 4), ("pitch", ctypes.c_size_t * 4)]


_FLAGS_UPSAMPLING_WITH_INTERPOLATION = 1 << 5


@functools.cache
def library() -> ctypes.CDLL:
    """libnvjpeg from the ``nvidia-nvjpeg`` wheel, else the system's CUDA."""
    p, vp, sz, i = ctypes.POINTER, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    signatures: dict[str, list[Any]] = {
        "nvjpegCreateEx": [i, vp, vp, ctypes.c_uint, p(vp)],
        "nvjpegJpegStateCreate": [vp, p(vp)],
        "nvjpegGetHardwareDecoderInfo": [vp, p(ctypes.c_uint), p(ctypes.c_uint)],
        "nvjpegDecodeBatchedInitialize": [vp, vp, i, i, i],
        "nvjpegDecodeBatched": [vp, vp, vp, vp, vp, vp],
        "nvjpegDecodeBatchedParseJpegTables": [vp, vp, vp, sz],
    }
    missing = "nvJPEG is not installed: pip install 'tiffstream[gpu]'"
    return load("*/lib/libnvjpeg.so*", signatures, missing, ("libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"))


class NvJpegError(RuntimeError):
    """An nvJPEG call failed; ``status`` is its ``nvjpegStatus_t``."""

    def __init__(self, what: str, status: int) -> None:
        name = _STATUS[status] if 0 <= status < len(_STATUS) else "unknown"
        super().__init__(f"nvJPEG {what} failed: status {status} ({name})")
        self.status = status


class NvJpeg:
    """One nvJPEG handle on the current device with ``engine``, and one decode state per CUDA stream (a state
    holds the buffers of the batch queued on its stream, so streams must not share one)."""

    def __init__(self, engine: Engine, interpolate: bool = True) -> None:
        self.lib = library()
        self.engine = engine
        self.handle = ctypes.c_void_p()
        flags = _FLAGS_UPSAMPLING_WITH_INTERPOLATION if interpolate else 0
        self._check(self.lib.nvjpegCreateEx(int(engine), None, None, flags, ctypes.byref(self.handle)), "create")
        self._states: dict[tuple[int, int], ctypes.c_void_p] = {}

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            raise NvJpegError(f"{what} ({self.engine.name})", status)

    def hardware_engines(self) -> int:
        """NVJPG engines of the device (0 when this handle is not the hardware backend)."""
        engines, cores = ctypes.c_uint(0), ctypes.c_uint(0)
        status = self.lib.nvjpegGetHardwareDecoderInfo(self.handle, ctypes.byref(engines), ctypes.byref(cores))
        return int(engines.value) if status == 0 else 0

    def _state(self, stream: cp.cuda.Stream, slot: int = 0) -> ctypes.c_void_p:
        key = (stream.ptr, slot)
        state = self._states.get(key)
        if state is None:
            state = ctypes.c_void_p()
            self._check(self.lib.nvjpegJpegStateCreate(self.handle, ctypes.byref(state)), "state")
            self._states[key] = state
        return state

    def decode(
        self,
        data: np.ndarray,
        lengths: np.ndarray,
        outputs: np.ndarray,
        pitches: np.ndarray,
        output_format: OutputFormat,
        stream: cp.cuda.Stream,
        keep: list[Any],
        tables: bytes | None = None,
        slot: int = 0,
    ) -> None:
        """Queue decoding of ``len(data)`` JPEG streams on ``stream``: host addresses ``data`` of ``lengths``
        bytes each, into device addresses ``outputs`` with row pitches ``pitches`` (bytes). ``tables``: an
        abbreviated table stream the streams refer to (the TIFF JPEGTables). The call's host arrays go into
        ``keep``, to live until the stream is done with them. Raises ``NvJpegError``."""
        count = len(data)
        if not count:
            return
        state = self._state(stream, slot)
        self._check(self.lib.nvjpegDecodeBatchedInitialize(self.handle, state, count, 1, int(output_format)), "init")
        if tables:
            buffer = ctypes.create_string_buffer(tables, len(tables))
            keep.append(buffer)
            self._check(self.lib.nvjpegDecodeBatchedParseJpegTables(self.handle, state, buffer, len(tables)), "tables")
        images = (Image * count)()
        view = np.frombuffer(memoryview(images).cast("B"), np.uint64).reshape(count, 8)
        view[:, 0] = outputs
        view[:, 4] = pitches
        pointers = np.ascontiguousarray(data, np.uint64)
        sizes = np.ascontiguousarray(lengths, np.uint64)
        keep += [images, pointers, sizes]
        status = self.lib.nvjpegDecodeBatched(
            self.handle, state, pointers.ctypes.data, sizes.ctypes.data, ctypes.addressof(images), stream.ptr
        )
        self._check(status, "batched decode")


@functools.cache
def nvjpeg(engine: Engine, device: int, lane: int = 0) -> NvJpeg:
    """The (cached) nvJPEG handle for ``engine`` on ``device`` used by ``lane`` (host threads never share one);
    ``NvJpegError`` where the engine is absent."""
    with cp.cuda.Device(device):
        return NvJpeg(engine)

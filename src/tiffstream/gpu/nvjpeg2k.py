"""JPEG 2000 decoding on the GPU: nvJPEG2000's C API through ctypes (``libnvjpeg2k`` of ``nvidia-nvjpeg2k``).

nvJPEG2000 has no batched call: each code stream is parsed on the host and decoded on a stream with a decode
state and parsed-stream handle of its own, so tiles are spread over a few CUDA streams.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from dataclasses import dataclass
from typing import Any

import cupy as cp

from .libraries import load

__all__ = ["NvJpeg2k", "NvJpeg2kError", "Parsed", "library", "nvjpeg2k"]

_FORMAT_INTERLEAVED = 1
_UINT8, _UINT16 = 0, 1


class _ImageInfo(ctypes.Structure):
    _fields_ = [
        ("image_width", ctypes.c_uint32),
        ("image_height", ctypes.c_uint32),
        ("tile_width", ctypes.c_uint32),
        ("tile_height", ctypes.c_uint32),
        ("num_tiles_x", ctypes.c_uint32),
        ("num_tiles_y", ctypes.c_uint32),
        ("num_components", ctypes.c_uint32),
    ]


class _ComponentInfo(ctypes.Structure):
    _fields_ = [
        ("component_width", ctypes.c_uint32),
        ("component_height", ctypes.c_uint32),
        ("precision", ctypes.c_uint8),
        ("sgn", ctypes.c_uint8),
    ]


class _Image(ctypes.Structure):
    """``nvjpeg2kImage_t``: arrays of component pointers and pitches, the sample type, the component count."""

    _fields_ = [
        ("pixel_data", ctypes.POINTER(ctypes.c_void_p)),
        ("pitch_in_bytes", ctypes.POINTER(ctypes.c_size_t)),
        ("pixel_type", ctypes.c_int),
        ("num_components", ctypes.c_uint32),
    ]


class NvJpeg2kError(RuntimeError):
    """An nvJPEG2000 call failed; ``status`` is its ``nvjpeg2kStatus_t``."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"nvJPEG2000 {what} failed: status {status}")
        self.status = status


@functools.cache
def library() -> ctypes.CDLL:
    """libnvjpeg2k from the ``nvidia-nvjpeg2k`` wheel."""
    p, vp, sz, i = ctypes.POINTER, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    signatures: dict[str, list[Any]] = {
        "nvjpeg2kCreateSimple": [p(vp)],
        "nvjpeg2kDecodeStateCreate": [vp, p(vp)],
        "nvjpeg2kStreamCreate": [p(vp)],
        "nvjpeg2kStreamParse": [vp, vp, sz, i, i, vp],
        "nvjpeg2kStreamGetImageInfo": [vp, p(_ImageInfo)],
        "nvjpeg2kStreamGetImageComponentInfo": [vp, p(_ComponentInfo), ctypes.c_uint32],
        "nvjpeg2kDecodeParamsCreate": [p(vp)],
        "nvjpeg2kDecodeParamsSetOutputFormat": [vp, i],
        "nvjpeg2kDecodeImage": [vp, vp, vp, vp, p(_Image), vp],
    }
    return load(
        "nvjpeg2k/lib/libnvjpeg2k.so*", signatures, "nvJPEG2000 is not installed: pip install 'tiffstream[gpu]'"
    )


@dataclass(frozen=True)
class Parsed:
    """What a parsed code stream holds: its size, components, precision and sign, and whether every component
    has the image's full size."""

    height: int
    width: int
    components: int
    precision: int
    signed: bool
    full_components: bool


class NvJpeg2k:
    """One nvJPEG2000 handle on the current device and, per CUDA stream, a decode state and a parsed-stream
    handle. A stream takes one code stream at a time: its caller waits for each decode before the next parse
    (a state or parsed handle reused while a decode was queued gave wrong tiles)."""

    def __init__(self) -> None:
        self.lib = library()
        self.handle = ctypes.c_void_p()
        self._check(self.lib.nvjpeg2kCreateSimple(ctypes.byref(self.handle)), "create")
        self.params = ctypes.c_void_p()
        self._check(self.lib.nvjpeg2kDecodeParamsCreate(ctypes.byref(self.params)), "params")
        self._check(self.lib.nvjpeg2kDecodeParamsSetOutputFormat(self.params, _FORMAT_INTERLEAVED), "format")
        self._lanes: dict[int, tuple[ctypes.c_void_p, ctypes.c_void_p]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise NvJpeg2kError(what, status)

    def _lane(self, stream: cp.cuda.Stream) -> tuple[ctypes.c_void_p, ctypes.c_void_p]:
        """The decode state and parsed-stream handle of ``stream`` (made on its first use)."""
        with self._lock:
            found = self._lanes.get(stream.ptr)
            if found is None:
                state, parsed = ctypes.c_void_p(), ctypes.c_void_p()
                self._check(self.lib.nvjpeg2kDecodeStateCreate(self.handle, ctypes.byref(state)), "state")
                self._check(self.lib.nvjpeg2kStreamCreate(ctypes.byref(parsed)), "stream")
                found = self._lanes[stream.ptr] = (state, parsed)
            return found

    def parse(self, address: int, length: int, stream: cp.cuda.Stream) -> Parsed:
        """Parse one code stream at host ``address`` (kept until its decode has run) into ``stream``'s handle."""
        handle = self._lane(stream)[1]
        self._check(self.lib.nvjpeg2kStreamParse(self.handle, address, length, 0, 0, handle), "parse")
        info = _ImageInfo()
        self._check(self.lib.nvjpeg2kStreamGetImageInfo(handle, ctypes.byref(info)), "image info")
        components = [_ComponentInfo() for _ in range(info.num_components)]
        for number, component in enumerate(components):
            status = self.lib.nvjpeg2kStreamGetImageComponentInfo(handle, ctypes.byref(component), number)
            self._check(status, "component info")
        first = components[0] if components else _ComponentInfo()
        return Parsed(
            int(info.image_height),
            int(info.image_width),
            int(info.num_components),
            int(first.precision),
            bool(first.sgn),
            all(
                (c.component_width, c.component_height, c.precision, c.sgn)
                == (info.image_width, info.image_height, first.precision, first.sgn)
                for c in components
            ),
        )

    def decode(self, parsed: Parsed, output: int, pitch: int, wide: bool, stream: cp.cuda.Stream) -> None:
        """Queue decoding of the code stream ``stream`` last parsed (``parsed``) on ``stream``, its components
        interleaved, into device address ``output`` with row ``pitch`` (bytes); ``wide``: 16-bit samples."""
        pointers = (ctypes.c_void_p * 1)(output)
        pitches = (ctypes.c_size_t * 1)(pitch)
        image = _Image(pointers, pitches, _UINT16 if wide else _UINT8, parsed.components)
        state, handle = self._lane(stream)
        status = self.lib.nvjpeg2kDecodeImage(self.handle, state, handle, self.params, ctypes.byref(image), stream.ptr)
        self._check(status, "decode")


@functools.cache
def nvjpeg2k(device: int) -> NvJpeg2k:
    """The (cached) nvJPEG2000 handle of ``device``."""
    with cp.cuda.Device(device):
        return NvJpeg2k()

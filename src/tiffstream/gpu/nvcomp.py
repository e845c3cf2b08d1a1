"""Batched Deflate and Zstd decompression of TIFF chunks on the GPU: nvcomp's C API through ctypes.

One call decompresses every chunk of a batch from device pointer arrays (no Python object per chunk).
TIFF Deflate chunks are zlib streams: nvcomp's raw Deflate takes them without the 2-byte header and
the 4-byte Adler-32 trailer (see the shared GPU notes).
"""

from __future__ import annotations

import ctypes
import functools
import pathlib
from typing import Any

import cupy as cp

from ..errors import BackendUnavailableError

__all__ = ["Batched", "batched"]


class _DeflateOpts(ctypes.Structure):
    _fields_ = [
        ("backend", ctypes.c_int),
        ("sort_before_hw_decompress", ctypes.c_int),
        ("reserved", ctypes.c_char * 56),
    ]


class _ZstdOpts(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_int), ("reserved", ctypes.c_char * 60)]


class _Alignments(ctypes.Structure):
    _fields_ = [("input", ctypes.c_size_t), ("output", ctypes.c_size_t), ("temp", ctypes.c_size_t)]


@functools.cache
def _library() -> ctypes.CDLL:
    try:
        import nvidia.libnvcomp as package
    except ImportError as exc:
        raise BackendUnavailableError("nvcomp is not installed: pip install 'tiffstream[gpu]'") from exc
    for folder in package.__path__:
        for candidate in sorted(pathlib.Path(folder).glob("lib*/libnvcomp.so*")):
            return ctypes.CDLL(str(candidate))
    raise BackendUnavailableError("libnvcomp.so was not found in the nvidia-libnvcomp package")


class Batched:
    """nvcomp's batched decompressor for one algorithm ("Deflate" or "Zstd")."""

    def __init__(self, algorithm: str) -> None:
        lib = _library()
        self.name = algorithm
        self.opts = _DeflateOpts() if algorithm == "Deflate" else _ZstdOpts()
        opts_type = type(self.opts)
        prefix = f"nvcompBatched{algorithm}Decompress"
        self._align = getattr(lib, prefix + "GetRequiredAlignments")
        self._align.argtypes = [opts_type, ctypes.POINTER(_Alignments)]
        self._temp = getattr(lib, prefix + "GetTempSizeAsync")
        self._temp.argtypes = [
            ctypes.c_size_t,
            ctypes.c_size_t,
            opts_type,
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_size_t,
        ]
        self._run = getattr(lib, prefix + "Async")
        self._run.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_void_p,
            opts_type,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        for function in (self._align, self._temp, self._run):
            function.restype = ctypes.c_int
        alignments = _Alignments()
        self._check(self._align(self.opts, ctypes.byref(alignments)), "GetRequiredAlignments")
        self.input_alignment, self.output_alignment = int(alignments.input), int(alignments.output)
        self.temp_alignment = max(1, int(alignments.temp))

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"nvcomp {self.name} {what} failed with status {status}")

    def decompress(
        self,
        in_ptrs: cp.ndarray,
        in_sizes: cp.ndarray,
        out_ptrs: cp.ndarray,
        out_capacity: cp.ndarray,
        actual: cp.ndarray,
        max_out: int,
        total_out: int,
        keep: list[Any],
    ) -> cp.ndarray:
        """Queue decompression of ``len(in_ptrs)`` chunks on the current stream; nothing waits for the GPU.

        Pointer, size and capacity arrays are device arrays of uint64; ``actual`` (8-byte items) receives the
        decompressed sizes. Returns the device array of per-chunk statuses (0 = success); ``keep`` holds the
        temporary buffers until the caller has synchronised.
        """
        count = len(in_ptrs)
        temp_bytes = ctypes.c_size_t(0)
        self._check(self._temp(count, max_out, self.opts, ctypes.byref(temp_bytes), total_out), "GetTempSizeAsync")
        temp = cp.empty(max(int(temp_bytes.value), 1) + self.temp_alignment, cp.uint8)
        temp_ptr = temp.data.ptr + (-temp.data.ptr % self.temp_alignment)
        status = cp.zeros(count, cp.int32)
        keep += [temp, status]
        self._check(
            self._run(
                in_ptrs.data.ptr,
                in_sizes.data.ptr,
                out_capacity.data.ptr,
                actual.data.ptr,
                count,
                temp_ptr,
                int(temp_bytes.value),
                out_ptrs.data.ptr,
                self.opts,
                status.data.ptr,
                cp.cuda.get_current_stream().ptr,
            ),
            "DecompressAsync",
        )
        return status


@functools.cache
def batched(algorithm: str, device: int) -> Batched:
    """The (cached) batched decompressor for ``algorithm`` on ``device``."""
    with cp.cuda.Device(device):
        return Batched(algorithm)

"""A stand-in for the part of CuPy the GPU backend uses, on the host: device arrays are numpy arrays, copies
are memmoves, kernels only count their launches (LZW and PackBits report their whole capacity decoded; scatter
copies rows as on the GPU). Stream capture records copies and launches into a graph that ``launch`` runs again.

For what needs no GPU: the backend's host side (read staging, columns, descriptors: ``tests/test_gpu_staging.py``)
and its host cost (``benchmarks/gpu_host.py``). Put this folder first on ``sys.path`` in a process of its own;
never where the real CuPy is wanted.
"""

from __future__ import annotations

import collections
import ctypes
import time
import types
from typing import Any

import numpy as np

CALLS: collections.Counter[str] = collections.Counter()  # allocations, copies, launches, ... since cleared
uint8, int32, int64, uint64 = np.uint8, np.int32, np.int64, np.uint64
_BIG = 1 << 20
_reused: dict[int, np.ndarray] = {}


class _Pointer:
    def __init__(self, ptr: int) -> None:
        self.ptr = ptr


class ndarray(np.ndarray):  # CuPy's name
    @property
    def data(self) -> _Pointer:  # type: ignore[override]
        return _Pointer(self.__array_interface__["data"][0])

    def get(self) -> np.ndarray:
        return np.array(self)

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:  # what marks a device array (Image.on_device)
        return self.__array_interface__


def empty(shape: Any, dtype: Any = np.float64) -> ndarray:
    """Large arrays reuse one host buffer per size when ``reuse_large`` is set (no page faults in timings)."""
    CALLS["allocation"] += 1
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if memory_limit is not None and nbytes > memory_limit:
        raise cuda.memory.OutOfMemoryError(f"out of memory allocating {nbytes} bytes (stand-in limit)")
    if reuse_large and nbytes >= _BIG:
        if nbytes not in _reused:
            _reused[nbytes] = np.zeros(nbytes, np.uint8)
        return _reused[nbytes].view(dtype).reshape(shape).view(ndarray)
    return np.empty(shape, dtype).view(ndarray)


reuse_large = False  # host timing: large arrays share a buffer per size, and large copies are skipped
memory_limit: int | None = None  # an allocation larger than this raises OutOfMemoryError, as the GPU would


def zeros(shape: Any, dtype: Any = np.float64) -> ndarray:
    array = empty(shape, dtype)
    array[...] = 0
    return array


def full(shape: Any, value: Any, dtype: Any = None) -> ndarray:
    array = empty(shape, dtype)
    array[...] = value
    return array


may_share_memory = np.may_share_memory


def asarray(array: Any, dtype: Any = None) -> ndarray:
    return np.asarray(array, dtype).view(ndarray)


def stack(arrays: Any, axis: int = 0) -> ndarray:
    return np.stack(arrays, axis).view(ndarray)


def ascontiguousarray(array: Any, dtype: Any = None) -> ndarray:
    return np.ascontiguousarray(array, dtype).view(ndarray)


class _Pool:
    def free_all_blocks(self) -> None:
        pass


def get_default_memory_pool() -> _Pool:
    return _Pool()


_captured: list[Any] | None = None  # operations recorded while a stream captures (one capture at a time here)


def _queue(operation: Any) -> None:
    """Run ``operation`` now, or record it into the graph being captured."""
    if _captured is None:
        operation()
    else:
        _captured.append(operation)


class _Graph:
    def __init__(self, operations: list[Any]) -> None:
        self._operations = operations

    def launch(self, stream: Stream | None = None) -> None:
        CALLS["graph launch"] += 1
        for operation in self._operations:
            operation()


class Stream:
    def __init__(self, non_blocking: bool = False) -> None:
        self.ptr = id(self)

    def begin_capture(self, mode: int | None = None) -> None:
        global _captured
        assert _captured is None, "one capture at a time"
        _captured = []

    def end_capture(self) -> _Graph:
        global _captured
        assert _captured is not None, "the stream is not capturing"
        graph, _captured = _Graph(_captured), None
        return graph

    def __enter__(self) -> Stream:
        _current.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.pop()

    def synchronize(self) -> None:
        CALLS["synchronize"] += 1

    def wait_event(self, event: Event) -> None:
        pass


class Event:
    def __init__(self, disable_timing: bool = False) -> None:
        self.time = time.perf_counter()

    def record(self, stream: Stream | None = None) -> None:
        self.time = time.perf_counter()

    @property
    def done(self) -> bool:
        return True


class Device:
    def __init__(self, number: int = 0) -> None:
        self.id = number
        self.attributes = {"MultiProcessorCount": 132, "MaxSharedMemoryPerBlockOptin": 232448}

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def synchronize(self) -> None:
        pass


class PinnedMemory:
    def __init__(self, size: int) -> None:
        CALLS["pinned"] += 1
        self._buffer = (ctypes.c_ubyte * size)()
        self.size, self.ptr = size, ctypes.addressof(self._buffer)


_current: list[Stream] = []
_null = Stream()


def _copy(dst: int, src: int, nbytes: int, kind: int, stream: int) -> None:
    CALLS["copy"] += 1
    if not (reuse_large and nbytes >= _BIG):
        _queue(lambda: ctypes.memmove(dst, src, nbytes))


cuda = types.SimpleNamespace(
    Stream=Stream,
    Event=Event,
    Device=Device,
    PinnedMemory=PinnedMemory,
    get_current_stream=lambda: _current[-1] if _current else _null,
    get_elapsed_time=lambda start, end: (end.time - start.time) * 1e3,
    runtime=types.SimpleNamespace(
        memcpyHostToDevice=1,
        memcpyDeviceToDevice=3,
        memcpyAsync=_copy,
        getDeviceCount=lambda: 1,
        CUDARuntimeError=type("CUDARuntimeError", (RuntimeError,), {}),
    ),
    memory=types.SimpleNamespace(OutOfMemoryError=type("OutOfMemoryError", (MemoryError,), {})),
)


class _Kernel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, grid: Any, block: Any, args: tuple[Any, ...], shared_mem: int = 0) -> None:
        CALLS["launch"] += 1
        _queue(lambda: self._run(args))

    def _run(self, args: tuple[Any, ...]) -> None:
        if self.name.startswith(("lzw_decode", "packbits_decode")):  # (sources, sizes, outputs, capacities, written, n)
            count = int(args[-1])
            np.asarray(args[4])[:count] = np.asarray(args[3])[:count]
        elif self.name == "decoded_rows":
            sizes, row_bytes, heights, rows, _ = (np.asarray(a) for a in args)
            rows[:] = np.minimum(sizes // np.maximum(row_bytes, 1), heights)
        elif self.name == "scatter" and not reuse_large:  # host timing: no copies
            _scatter(*(np.asarray(a) for a in args[:-1]), int(args[-1]))


def _scatter(
    src: Any, src_pitch: Any, src_rows: Any, first: Any, skip: Any, dst: Any, pitch: Any, rows: Any, width: Any, n: int
) -> None:
    """The scatter kernel (cuda/tiff.cu): each chunk's visible rows copied to their place in its output."""
    for c in range(n):
        count = min(int(rows[c]), int(src_rows[c]) - int(first[c]))
        for r in range(max(count, 0)):
            at = int(src[c]) + int(skip[c]) + r * int(src_pitch[c])
            ctypes.memmove(int(dst[c]) + r * int(pitch[c]), at, int(width[c]))


class RawModule:
    def __init__(self, code: str | None = None, options: tuple[str, ...] = ()) -> None:
        pass

    def get_function(self, name: str) -> _Kernel:
        return _Kernel(name)

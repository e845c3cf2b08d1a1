"""Decoder, DecodeParams, ColorSpec, BackendKind, Backend: nvImageCodec's decoding API, on our backends.

The CPU backend is built in. A request for a GPU backend that cannot run here falls back to the
CPU with one ``BackendFallbackWarning`` (a ``RuntimeWarning``), unless ``TIFFSTREAM_STRICT_BACKENDS=1``,
in which case ``BackendUnavailableError`` is raised.
"""

from __future__ import annotations

import contextlib
import gc
import os
import warnings
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from .codestream import CodeStream
from .color import ColorMode, convert, convert_plain
from .cpu.backend import prepare, run_tasks
from .errors import BackendUnavailableError, DecodeError, TiffError, TiffstreamWarning, UnsupportedTiffError
from .image import Image
from .plan import check_allocation, check_truncation

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from .source import SourceLike

__all__ = ["Backend", "BackendFallbackWarning", "BackendKind", "ColorSpec", "DecodeParams", "Decoder"]


class BackendFallbackWarning(TiffstreamWarning, RuntimeWarning):
    """A requested backend cannot run here; decoding happens on the CPU instead."""


class BackendKind(Enum):
    """nvImageCodec's backend kinds."""

    CPU_ONLY = 1
    GPU_ONLY = 2
    HYBRID_CPU_GPU = 3
    HW_GPU_ONLY = 4


class Backend:
    """A backend choice with its options (nvImageCodec's ``Backend``)."""

    def __init__(self, backend_kind: BackendKind = BackendKind.GPU_ONLY, load_hint: float = 1.0, **_: Any) -> None:
        if not isinstance(backend_kind, BackendKind):
            raise TypeError(f"backend_kind must be a BackendKind, got {backend_kind!r}")
        self.backend_kind = backend_kind
        self.load_hint = load_hint

    def __repr__(self) -> str:
        return f"Backend({self.backend_kind})"


class ColorSpec(Enum):
    """Output colour of a decode: see ``DecodeParams``."""

    UNCHANGED = 0
    YCC = 1
    GRAY = 2
    SRGB = 3
    UNSUPPORTED = -1
    SYCC = 4


_COLOR_MODES: dict[ColorSpec, ColorMode] = {
    ColorSpec.UNCHANGED: "unchanged",
    ColorSpec.SRGB: "srgb",
    ColorSpec.GRAY: "gray",
}


@dataclass(frozen=True)
class DecodeParams:
    """How to decode (nvImageCodec's meaning).

    Parameters
    ----------
    color_spec
        ``UNCHANGED``: the stored samples, interleaved HWC (palette images give their indices).
        ``SRGB`` (default): 3 channels RGB; gray is replicated, MINISWHITE inverted, palettes looked up,
        CMYK converted as libtiff does (``(max-C)(max-K)/max``), YCbCr to RGB (JPEG YCbCr decodes to
        RGB), alpha and extra samples dropped. ``GRAY``: 1 channel; colour by 0.299 R + 0.587 G + 0.114 B.
    allow_any_depth
        ``False`` (default): scale to uint8, ``v * 255 / (2**bits - 1)`` for unsigned samples (signed: from 0
        to their positive maximum; floats: from [0, 1]; palettes: from 16-bit colour map values), rounded and
        clipped. ``True``: keep the stored dtype.
    apply_exif_orientation
        Accepted for compatibility; TIFF Orientation is not applied (as tifffile does not).
    """

    color_spec: ColorSpec = ColorSpec.SRGB
    allow_any_depth: bool = False
    apply_exif_orientation: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.color_spec, ColorSpec):
            raise TypeError(f"color_spec must be a ColorSpec, got {self.color_spec!r}")
        if self.color_spec not in _COLOR_MODES:
            raise BackendUnavailableError(f"ColorSpec.{self.color_spec.name} output is not supported")


def _strict_backends() -> bool:
    return os.environ.get("TIFFSTREAM_STRICT_BACKENDS", "") not in ("", "0")


class Decoder:
    """Decodes code streams to ``Image`` objects, one at a time or as a batch.

    Parameters
    ----------
    device_id
        GPU to use (GPU backends only).
    max_num_cpu_threads
        Threads decoding chunks on the CPU; 0 means one per core.
    backends
        ``BackendKind`` values or ``Backend`` objects; default: every backend available.
    options
        nvImageCodec option string; accepted and ignored.
    """

    def __init__(
        self,
        device_id: int = 0,
        max_num_cpu_threads: int = 0,
        backends: Sequence[Backend | BackendKind] | None = None,
        options: str = "",
        *,
        backend_kinds: Sequence[BackendKind] | None = None,
    ) -> None:
        if max_num_cpu_threads < 0:
            raise ValueError(f"max_num_cpu_threads must be >= 0, got {max_num_cpu_threads}")
        kinds = [b.backend_kind if isinstance(b, Backend) else b for b in (backends or backend_kinds or [])]
        for kind in kinds:
            if not isinstance(kind, BackendKind):
                raise TypeError(f"backends takes BackendKind values or Backend objects, got {kind!r}")
        self.device_id = device_id
        self.backends = tuple(kinds) or tuple(BackendKind)
        self.max_num_cpu_threads = max_num_cpu_threads or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: Any = None  # a weakref.finalize that stops the pool
        self._cpu_allowed = any(kind in (BackendKind.CPU_ONLY, BackendKind.HYBRID_CPU_GPU) for kind in self.backends)
        self._gpu = False
        if any(kind != BackendKind.CPU_ONLY for kind in self.backends):
            self._gpu, why = _gpu_available()
            if not self._gpu and not self._cpu_allowed:
                missing = ", ".join(kind.name for kind in self.backends)
                message = f"the GPU backend ({missing}) cannot run here ({why}); decoding on the CPU"
                if _strict_backends():
                    raise BackendUnavailableError(message + " is refused (TIFFSTREAM_STRICT_BACKENDS=1)")
                warnings.warn(message, BackendFallbackWarning, stacklevel=2)

    def _executor(self) -> ThreadPoolExecutor | None:
        if self.max_num_cpu_threads <= 1:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_num_cpu_threads, thread_name_prefix="tiffstream-decoder")
            self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)
        return self._pool

    def close(self) -> None:
        """Stop the decoder's worker threads."""
        if self._finalizer is not None:
            self._finalizer()
        self._pool = None

    def __enter__(self) -> Decoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def decode(
        self,
        data: CodeStream | bytes | Sequence[CodeStream | bytes],
        params: DecodeParams | None = None,
        cuda_stream: Any = 0,
    ) -> Image | list[Image]:
        """Decode one code stream (its current image, or region) to an ``Image``, or a list to a list.

        ``cuda_stream`` (GPU backends): a ``cudaStream_t`` pointer or a stream object (CuPy, PyTorch, anything
        with ``__cuda_stream__``); device results are ready in that stream's order (default: the current one).

        All chunks of all images of a list are decoded together on the decoder's thread pool. A failure
        raises a ``TiffError`` naming the file, the image and the chunk.
        """
        if isinstance(data, (list, tuple)):
            return self._decode_batch([self._as_stream(item) for item in data], params or DecodeParams(), cuda_stream)
        return self._decode_batch([self._as_stream(data)], params or DecodeParams(), cuda_stream)[0]

    def read(self, path: SourceLike | Sequence[SourceLike], params: DecodeParams | None = None) -> Image | list[Image]:
        """Open and decode a file (image 0), or a list of files."""
        if isinstance(path, (list, tuple)):
            return self.decode([CodeStream(p) for p in path], params)
        return self.decode(CodeStream(path), params)

    @staticmethod
    def _as_stream(item: object) -> CodeStream:
        if isinstance(item, CodeStream):
            return item
        if isinstance(item, (bytes, bytearray, memoryview, np.ndarray)):
            return CodeStream(item)
        raise TypeError(f"decode takes CodeStream objects or encoded bytes, got {type(item).__name__}")

    def _queue(
        self,
        number: int,
        stream: CodeStream,
        jobs: list[Any],
        tasks: list[Any],
        gpu_batch: Any,
        cuda_stream: Any,
        claimed: Counter[int],
    ) -> Any:
        """Plan one image and hand it to the GPU batch (made on first use; returned) or the CPU task list.

        ``claimed``: bytes of outputs (CPU and GPU) allocated so far per source (by ``id``), so the batch as a
        whole stays within what the files justify.
        """
        try:
            plain = stream.plain_image
            if plain is not None:
                jobs.append((stream, None, plain.decode()))
                return gpu_batch
            region = stream.region
            bounds = None if region is None else (region.start_y, region.start_x, region.end_y, region.end_x)
            plan = stream.plan
            key = id(stream.source)
            if self._gpu:
                gpu = _gpu_module()
                why = gpu.supports(plan)
                if why is None:
                    # the CPU backend makes both checks in prepare; the GPU's own check is per image
                    shape = plan.output_shape(plan.bounds(bounds))
                    claimed[key] += check_allocation(
                        plan, stream.source, shape, np.dtype(plan.dtype), claimed=claimed[key]
                    )
                    check_truncation(plan, stream.source, bounds)
                    gpu_batch = gpu_batch or self._gpu_batch(cuda_stream)
                    gpu_batch.add(gpu.backend.GpuJob(plan, stream.source, bounds))
                    jobs.append((stream, plan, len(gpu_batch.jobs) - 1))
                    return gpu_batch
                if not self._cpu_allowed:
                    raise UnsupportedTiffError(
                        f"the GPU backend cannot decode {why} (use HYBRID_CPU_GPU or CPU_ONLY)",
                        path=plan.source_name,
                        offset=plan.ifd_offset,
                    )
            out, image_tasks = prepare(
                plan, stream.source, region=bounds, workers=self.max_num_cpu_threads, claimed=claimed[key]
            )
            claimed[key] += out.nbytes
        except TiffError as exc:
            raise _in_image(exc, number, stream) from exc
        jobs.append((stream, plan, out))
        tasks += [(number, stream, task) for task in image_tasks]
        return gpu_batch

    def _decode_batch(self, streams: list[CodeStream], params: DecodeParams, cuda_stream: Any) -> list[Image]:
        pool = self._executor()
        jobs: list[Any] = []  # (stream, plan or None, array or GPU job index)
        tasks: list[Any] = []  # (image number, stream, CPU task)
        gpu_batch: Any = None  # a GpuBatch from the first GPU image on: it decodes while later plans are built
        claimed: Counter[int] = Counter()
        try:
            with _collection_paused():  # plans allocate many small objects: no GC passes among them
                for number, stream in enumerate(streams):
                    gpu_batch = self._queue(number, stream, jobs, tasks, gpu_batch, cuda_stream, claimed)
                device_outputs = gpu_batch.finish() if gpu_batch is not None else []
        except BaseException:
            if gpu_batch is not None:
                gpu_batch.close()
            raise
        try:
            run_tasks([_labelled(number, stream, task) for number, stream, task in tasks], pool)
        except _ImageFailure as failure:
            raise failure.error from failure.error.__cause__
        tasks.clear()  # their closures hold the decoded arrays, which go as each image is converted below
        images = []
        mode = _COLOR_MODES[params.color_spec]
        for number in range(len(jobs)):
            stream, plan, out = jobs[number]
            jobs[number] = None  # each image's decoded samples go once it is converted: the peak stays near the outputs
            try:
                if plan is None:
                    array, precision = convert_plain(out, mode, params.allow_any_depth)
                elif isinstance(out, int):
                    import cupy

                    with gpu_batch.stream:  # colour conversion in the order of the caller's stream too
                        array, precision = convert(
                            device_outputs[out], plan, color=mode, any_depth=params.allow_any_depth, xp=cupy
                        )
                else:
                    array, precision = convert(out, plan, color=mode, any_depth=params.allow_any_depth)
            except TiffError as exc:
                raise _in_image(exc, number, stream) from exc
            del out
            image = Image(array, precision=precision)
            images.append(image.cuda() if self._gpu and not image.on_device else image)  # hybrid: uploaded
        return images

    def _gpu_batch(self, cuda_stream: Any) -> Any:
        """A GpuBatch on this decoder's device whose results are ready on the caller's CUDA stream."""
        import cupy

        gpu = _gpu_module()
        with cupy.cuda.Device(self.device_id):
            return gpu.backend.GpuBatch(_user_stream(cupy, cuda_stream))


class _StreamHandle:
    """A raw ``cudaStream_t`` as an object of the CUDA stream protocol."""

    def __init__(self, pointer: int) -> None:
        self.pointer = pointer

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.pointer)


def _user_stream(cupy: Any, handle: Any) -> Any:
    """The CuPy stream for ``decode(cuda_stream=...)``: a pointer, or a stream object (CuPy, PyTorch, ...)."""
    if not handle:
        return cupy.cuda.get_current_stream()
    if isinstance(handle, cupy.cuda.Stream):
        return handle
    protocol = handle if hasattr(handle, "__cuda_stream__") else _StreamHandle(int(getattr(handle, "ptr", handle)))
    if hasattr(cupy.cuda.Stream, "from_external"):  # CuPy >= 14 (ExternalStream is deprecated there)
        return cupy.cuda.Stream.from_external(protocol)
    return cupy.cuda.ExternalStream(protocol.__cuda_stream__()[1])


def _gpu_available() -> tuple[bool, str]:
    """Whether the GPU backend can run here; the backend is imported only now, on request."""
    try:
        from . import gpu
    except ImportError as exc:  # pragma: no cover - the package always ships gpu/
        return False, str(exc)
    return gpu.available()


def _gpu_module() -> Any:
    from . import gpu
    from .gpu import backend  # noqa: F401  # loads CuPy and the kernels

    return gpu


class _ImageFailure(Exception):
    def __init__(self, error: TiffError) -> None:
        self.error = error


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch's plans are built, if it runs; resume it after.

    Plans are many small long-lived objects: on Python 3.12, collections among those of 192 pages took 8 of
    27 ms. Nothing here makes cycles, and the pause lasts as long as building and queueing the batch.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _in_image(exc: TiffError, number: int, stream: CodeStream) -> TiffError:
    """The same kind of error, its message saying which image of the call failed."""
    error = type(exc)(
        f"image {number} (index {stream.image_idx} of its stream): {exc.message}", path=exc.path, offset=exc.offset
    )
    return error


def _labelled(number: int, stream: CodeStream, task: Any) -> Any:
    def run() -> None:
        try:
            task()
        except TiffError as exc:
            raise _ImageFailure(_in_image(exc, number, stream)) from exc
        except Exception as exc:  # an unexpected failure still names the image
            error = DecodeError(f"image {number}: {type(exc).__name__}: {exc}", path=stream.source.name)
            raise _ImageFailure(error) from exc

    return run

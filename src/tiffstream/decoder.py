"""Decoder, DecodeParams, ColorSpec, BackendKind, Backend: nvImageCodec's decoding API, on our backends.

The CPU backend is built in. A request for a GPU backend that cannot run here falls back to the
CPU with one ``BackendFallbackWarning`` (a ``RuntimeWarning``), unless ``TIFFSTREAM_STRICT_BACKENDS=1``,
in which case ``BackendUnavailableError`` is raised.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import warnings
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from . import stream_format
from .backends import ImageFailed
from .codestream import CodeStream
from .color import convert, convert_plain
from .cpu.batch import CpuBackend
from .enums import BackendKind, ColorSpec, LoadHintPolicy, MetadataKind
from .errors import BackendUnavailableError, TiffError, TiffstreamWarning, UnsupportedTiffError
from .image import Image
from .metadata import Metadata, stream_metadata
from .params import DecodeParams

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from .backends import Bounds, DecodeBackend, DecodeBatch
    from .gpu.settings import GpuSettings
    from .plan import DecodePlan
    from .region import Region
    from .source import ByteSource, SourceLike

__all__ = ["Backend", "BackendFallbackWarning", "Decoder"]

_log = logging.getLogger("tiffstream")
_OUTPUT_COLORS = {"srgb": ColorSpec.SRGB, "gray": ColorSpec.GRAY}  # "unchanged": the stream's own colour


class BackendFallbackWarning(TiffstreamWarning, RuntimeWarning):
    """A requested backend cannot run here; decoding happens on the CPU instead."""


class Backend:
    """A backend choice with its options (nvImageCodec's ``Backend``; the load hint is accepted, our decoder
    routes by its own measure)."""

    def __init__(
        self,
        backend_kind: BackendKind = BackendKind.GPU_ONLY,
        load_hint: float = 1.0,
        load_hint_policy: LoadHintPolicy = LoadHintPolicy.FIXED,
    ) -> None:
        if not isinstance(backend_kind, BackendKind):
            raise TypeError(f"backend_kind must be a BackendKind, got {backend_kind!r}")
        if not isinstance(load_hint_policy, LoadHintPolicy):
            raise TypeError(f"load_hint_policy must be a LoadHintPolicy, got {load_hint_policy!r}")
        self.backend_kind = backend_kind
        self.load_hint = float(load_hint)
        self.load_hint_policy = load_hint_policy

    def __repr__(self) -> str:
        return f"Backend({self.backend_kind!r}, load_hint={self.load_hint}, load_hint_policy={self.load_hint_policy!r})"


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
    gpu_settings
        How the GPU backend pipelines batches and routes small ones (``GpuSettings``; defaults measured).
    on_error
        What a list decode does when one of its images fails: ``"raise"`` (default) a ``TiffError`` naming it;
        ``"none"`` its place in the result is None, as nvImageCodec returns, every other image is decoded, and
        ``last_errors`` maps its number to the error. A single decode always raises.

    After each call, ``last_batch_stats`` says where its images decoded: ``{"gpu": n, "cpu": n, "host_routed":
    n}`` (``host_routed``: images the GPU takes but host threads decode quicker, uploaded after); the same
    goes to the ``tiffstream`` logger at DEBUG level.
    """

    def __init__(
        self,
        device_id: int = 0,
        max_num_cpu_threads: int = 0,
        backends: Sequence[Backend | BackendKind] | None = None,
        options: str = "",
        *,
        backend_kinds: Sequence[BackendKind] | None = None,
        gpu_settings: GpuSettings | None = None,
        on_error: str = "raise",
    ) -> None:
        if on_error not in ("raise", "none"):
            raise ValueError(f"on_error must be 'raise' or 'none', got {on_error!r}")
        if max_num_cpu_threads < 0:
            raise ValueError(f"max_num_cpu_threads must be >= 0, got {max_num_cpu_threads}")
        kinds = [b.backend_kind if isinstance(b, Backend) else b for b in (backends or backend_kinds or [])]
        for kind in kinds:
            if not isinstance(kind, BackendKind):
                raise TypeError(f"backends takes BackendKind values or Backend objects, got {kind!r}")
        self.device_id = device_id
        self.backends = tuple(kinds) or tuple(BackendKind)
        self.max_num_cpu_threads = max_num_cpu_threads or os.cpu_count() or 1
        self.gpu_settings = gpu_settings
        self.on_error = on_error
        self.last_batch_stats: dict[str, int] = {}
        self.last_errors: dict[int, TiffError] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: Any = None  # a weakref.finalize that stops the pool
        self._cpu_backend: CpuBackend | None = None
        self._gpu_backend: Any = None
        self._cpu_allowed = any(kind in (BackendKind.CPU_ONLY, BackendKind.HYBRID_CPU_GPU) for kind in self.backends)
        self._gpu = False
        if any(kind != BackendKind.CPU_ONLY for kind in self.backends):
            self._gpu, why = gpu_available()
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
        *,
        image: Image | None = None,
        images: Sequence[Image | None] | None = None,
    ) -> Image | list[Image | None]:
        """Decode one code stream (its current image, or region) to an ``Image``, or a list to a list.

        ``cuda_stream`` (GPU backends): a ``cudaStream_t`` pointer or a stream object (CuPy, PyTorch, anything
        with ``__cuda_stream__``); device results are ready in that stream's order (default: the current one).
        ``image`` / ``images`` (nvImageCodec 0.9): Images to decode into, returned: one of the same shape, dtype
        and memory gets the pixels in its buffer (a caller's buffer wrapped by ``as_image`` too); a decoder-made
        one of another shape is resized.

        All chunks of all images of a list are decoded together on the decoder's thread pool. A failure
        raises a ``TiffError`` naming the file, the image and the chunk.
        """
        if isinstance(data, (list, tuple)):
            streams = [self._as_stream(item) for item in data]
            if images is not None and len(images) != len(streams):
                raise ValueError(f"images must have one Image per code stream ({len(streams)}), got {len(images)}")
            decoded = self._decode_batch(streams, params or DecodeParams(), cuda_stream, self.on_error == "none")
            targets = images or [None] * len(decoded)
            return [_into(target, got) for target, got in zip(targets, decoded, strict=True)]
        one = _into(image, self._decode_batch([self._as_stream(data)], params or DecodeParams(), cuda_stream, False)[0])
        assert one is not None  # a single decode raises
        return one

    def read(
        self, path: SourceLike | Sequence[SourceLike], params: DecodeParams | None = None
    ) -> Image | list[Image | None]:
        """Open and decode a file (image 0), or a list of files."""
        if isinstance(path, (list, tuple)):
            return self.decode([CodeStream(p) for p in path], params)
        return self.decode(CodeStream(path), params)

    def get_metadata(
        self,
        code_stream: CodeStream,
        *,
        kind: MetadataKind | None = None,
        id: int | None = None,  # nvImageCodec's name
    ) -> list[Metadata] | Metadata | None:
        """The metadata of the stream's current image (nvImageCodec 0.9): every entry, or those of ``kind``
        (TIFF tags, ICC profile, GeoTIFF tags, Aperio/Philips/Leica/Ventana metadata). With ``id``: the entry of
        that TIFF tag (of ``kind``, default ``TIFF_TAG``), or None."""
        if not isinstance(code_stream, CodeStream):
            raise TypeError(f"get_metadata takes a CodeStream, got {type(code_stream).__name__}")
        if id is None:
            return stream_metadata(code_stream, kind)
        found = stream_metadata(code_stream, kind or MetadataKind.TIFF_TAG, id)
        return found[0] if found else None

    @staticmethod
    def _as_stream(item: object) -> CodeStream:
        if isinstance(item, CodeStream):
            return item
        if isinstance(item, (bytes, bytearray, memoryview, np.ndarray)):
            return CodeStream(item)
        raise TypeError(f"decode takes CodeStream objects or encoded bytes, got {type(item).__name__}")

    def _backends(self) -> tuple[CpuBackend, Any]:
        """The CPU backend and, when a GPU kind runs here, the GPU backend (made on first use)."""
        if self._cpu_backend is None:
            self._cpu_backend = CpuBackend(self.max_num_cpu_threads, self._executor)
        if self._gpu and self._gpu_backend is None:
            self._gpu_backend = _gpu_module().backend.GpuBackend(self.device_id, self.gpu_settings)
        return self._cpu_backend, self._gpu_backend

    def _choose(self, plan: DecodePlan, bounds: Bounds | None, images: int) -> tuple[DecodeBackend, bool]:
        """The backend that decodes ``plan`` (of a call of ``images`` images), and whether the GPU would have
        taken it but host threads are quicker (few large Deflate/Zstd chunks: the result is uploaded)."""
        cpu, gpu = self._backends()
        if gpu is None:
            return cpu, False
        why = gpu.supports(plan)
        if why is None:
            routed = gpu.prefers_host(plan, bounds, images)
            return (cpu, True) if routed else (gpu, False)
        if not self._cpu_allowed:
            raise UnsupportedTiffError(
                f"the GPU backend cannot decode {why} (use HYBRID_CPU_GPU or CPU_ONLY)",
                path=plan.source_name,
                offset=plan.ifd_offset,
            )
        return cpu, False

    def decode_plans(
        self, items: Sequence[tuple[DecodePlan, ByteSource, Bounds | None]], cuda_stream: Any = 0
    ) -> list[Any]:
        """Decode planned images (plan, byte source, region or None) to their stored samples, in the plan's
        output shape: numpy arrays, or device arrays for those a GPU decoded (for integrations that hold
        plans, not code streams)."""
        planned = ((number, plan, source, bounds) for number, (plan, source, bounds) in enumerate(items))
        decoded = self._decode_planned(planned, len(items), cuda_stream, _numbered, None)
        return [decoded[number][1] for number in range(len(items))]

    def _decode_batch(
        self, streams: list[CodeStream], params: DecodeParams, cuda_stream: Any, keep_going: bool
    ) -> list[Image | None]:
        plain: dict[int, Any] = {}  # decoded plain (non-TIFF) images by number
        plans: dict[int, DecodePlan] = {}
        failures: dict[int, TiffError] = {}  # images that failed, when keep_going

        def failed(exc: TiffError, number: int) -> None:
            error = _in_image(exc, number, streams[number])
            if not keep_going:
                raise error from exc
            failures[number] = error

        def planned() -> Iterator[tuple[int, DecodePlan, ByteSource, Bounds | None]]:
            for number, stream in enumerate(streams):
                try:
                    image = stream.plain_image
                    if image is not None:
                        plain[number] = image.decode()
                        continue
                    plan = plans[number] = stream.plan
                    region = stream.region
                    bounds = None if region is None else region.bounds_within(plan.height, plan.width)
                except TiffError as exc:
                    failed(exc, number)
                    continue
                yield number, plan, stream.source, bounds

        decoded = self._decode_planned(
            planned(),
            len(streams),
            cuda_stream,
            lambda exc, number: _in_image(exc, number, streams[number]),
            failures if keep_going else None,
        )
        images: list[Image | None] = []
        mode = params.color_mode
        for number, stream in enumerate(streams):
            if number in failures:
                images.append(None)
                continue
            try:
                if number in plain:
                    array, precision = convert_plain(plain.pop(number), mode, params.allow_any_depth)
                else:
                    batch, out = decoded.pop(number)  # each image's samples go once it is converted
                    with batch.ordered():  # colour conversion in the order of the caller's stream too
                        array, precision = convert(
                            out, plans[number], color=mode, any_depth=params.allow_any_depth, xp=batch.array_module
                        )
                        if stream.region is not None:
                            array = _placed(array, stream.region, batch.array_module)
                        if params.apply_exif_orientation:
                            array = _oriented(array, stream.page.ifd.get(274), batch.array_module)
                    del out
            except TiffError as exc:
                failed(exc, number)
                images.append(None)
                continue
            color = _OUTPUT_COLORS.get(mode) or (stream_format.color_spec(stream.page) if number in plans else None)
            image = Image(array, precision=precision, color_spec=color)
            images.append(image.cuda() if self._gpu and not image.on_device else image)  # hybrid: uploaded
        self.last_errors = failures
        for number, error in failures.items():
            _log.warning("image %d of the batch failed: %s", number, error)
        return images

    def _decode_planned(
        self,
        items: Iterable[tuple[int, DecodePlan, ByteSource, Bounds | None]],
        images: int,
        cuda_stream: Any,
        label: Callable[[TiffError, int], TiffError],
        failures: dict[int, TiffError] | None,
    ) -> dict[int, tuple[DecodeBatch, Any]]:
        """Decode ``items`` (number, plan, source, region; made as they are consumed, so the GPU starts on the
        first while later plans are built) on the backend chosen per image: one batch per backend, driven
        through the contract of ``backends.py``. Returns {number: (its batch, its decoded samples)};
        ``label(error, number)``: the error naming image ``number``. ``failures`` is None to raise the first
        failure, or a dict that collects them (number -> error) while the other images decode."""
        keep_going = failures is not None
        placed: dict[tuple[str, int], int] = {}  # (backend name, handle) -> image number
        batches: dict[str, DecodeBatch] = {}
        claims: Counter[int] = Counter()  # output bytes per source: the files must justify the whole call
        stats = Counter({"gpu": 0, "cpu": 0, "host_routed": 0})
        try:
            with _collection_paused():  # plans allocate many small objects: no GC passes among them
                for number, plan, source, bounds in items:
                    try:
                        backend, routed = self._choose(plan, bounds, images)
                        if backend.name not in batches:
                            batches[backend.name] = backend.start(claims, cuda_stream)
                        handle = batches[backend.name].add(plan, source, bounds)
                    except TiffError as exc:
                        if failures is not None:
                            failures[number] = label(exc, number)
                            continue
                        raise label(exc, number) from exc
                    placed[backend.name, handle] = number
                    stats[backend.name] += 1
                    stats["host_routed"] += routed
                outputs = {}
                for name in sorted(batches):  # "cpu" first: it decodes while the GPU works through its queue
                    try:
                        outputs[name] = batches[name].finish(keep_going)
                    except ImageFailed as failure:
                        number = placed[name, failure.handle]
                        raise label(failure.error, number) from failure.error
                    for handle, error in batches[name].failures.items():  # only with keep_going
                        failures[placed[name, handle]] = label(error, placed[name, handle])  # type: ignore[index]
        finally:
            for batch in batches.values():
                batch.close()
        self.last_batch_stats = dict(stats)
        _log.debug(
            "decoded %d images: %d on the GPU, %d on the CPU (%d of them routed from the GPU to host threads)",
            len(placed),
            stats["gpu"],
            stats["cpu"],
            stats["host_routed"],
        )
        return {
            number: (batches[name], outputs[name][handle])
            for (name, handle), number in placed.items()
            if failures is None or number not in failures
        }


def gpu_available() -> tuple[bool, str]:
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


def _into(target: Image | None, decoded: Image | None) -> Image | None:
    """``decoded``'s pixels in ``target`` (nvImageCodec 0.9's image reuse), or ``decoded`` itself."""
    if target is None or decoded is None:
        return decoded
    target.take(decoded)
    return target


def _oriented(array: Any, orientation: Any, xp: Any) -> Any:
    """``array`` (HWC, as stored) as TIFF Orientation ``orientation`` says it is shown: 1 top-left as stored,
    2 mirrored, 3 turned 180 degrees, 4 flipped, 5 transposed, 6 turned 90 clockwise, 7 transversed, 8 turned
    90 counter-clockwise. Other values (0, 9+) are left alone, as libtiff does."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation in (5, 6, 7, 8):
        turned = xp.swapaxes(array, 0, 1)  # 5: transposed
        if orientation == 6:
            turned = turned[:, ::-1]
        elif orientation == 7:
            turned = turned[::-1, ::-1]
        elif orientation == 8:
            turned = turned[::-1]
        return xp.ascontiguousarray(turned)
    return array


def _placed(array: Any, region: Region, xp: Any) -> Any:
    """``array`` (the part of ``region`` inside the image) where it lies in the region, the rest
    ``region.out_of_bounds_sample`` (nvImageCodec 0.9); ``array`` itself when the region is inside."""
    if not region.ndim or (region.start_y >= 0 and region.start_x >= 0 and region.shape == array.shape[:2]):
        return array
    rows, cols = region.shape
    out = xp.full((rows, cols, *array.shape[2:]), region.out_of_bounds_sample, dtype=array.dtype)
    top, left = max(-region.start_y, 0), max(-region.start_x, 0)
    out[top : top + array.shape[0], left : left + array.shape[1]] = array
    return out


def _numbered(exc: TiffError, number: int) -> TiffError:
    """The same kind of error, its message saying which image of the call failed."""
    return type(exc)(f"image {number}: {exc.message}", path=exc.path, offset=exc.offset)


def _in_image(exc: TiffError, number: int, stream: CodeStream) -> TiffError:
    """The same kind of error, its message saying which image of the call failed."""
    error = type(exc)(
        f"image {number} (index {stream.image_idx} of its stream): {exc.message}", path=exc.path, offset=exc.offset
    )
    return error

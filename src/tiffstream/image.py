"""Image: a decoded image in host (or, with the GPU backend, device) memory, HWC, zero-copy to numpy.

nvImageCodec's ``Image``: ``shape`` (height, width, channels), ``dtype``, ``strides``, ``buffer_kind``,
``precision``, ``color_spec``, ``sample_format``, ``device_id``, ``cuda_stream``, ``cpu()``, ``cuda()``, the
array interface and DLPack; ``as_image``, ``as_images`` and ``from_dlpack`` wrap buffers made elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .enums import ColorSpec, ImageBufferKind, SampleFormat
from .errors import BackendUnavailableError

__all__ = ["Image", "ImageBufferKind", "as_image", "as_images", "from_dlpack"]

_FORMATS = {  # (colour, channels) -> interleaved sample format
    (ColorSpec.GRAY, 1): SampleFormat.I_Y,
    (ColorSpec.GRAY, 2): SampleFormat.I_YA,
    (ColorSpec.SRGB, 3): SampleFormat.I_RGB,
    (ColorSpec.SRGB, 4): SampleFormat.I_RGBA,
    (ColorSpec.SYCC, 3): SampleFormat.I_YCC,
    (ColorSpec.CMYK, 4): SampleFormat.I_CMYK,
}


class Image:
    """A decoded image: a thin, zero-copy wrapper around a ``(height, width, channels)`` numpy (host) or
    CuPy (device) array."""

    __slots__ = ("_array", "_color_spec", "_cuda_stream", "_external", "_precision")

    def __init__(
        self, array: Any, *, precision: int = 0, color_spec: ColorSpec | None = None, cuda_stream: int = 0
    ) -> None:
        if array.ndim == 2:
            array = array[:, :, np.newaxis]
        if array.ndim != 3:
            raise ValueError(f"an Image is (height, width, channels), got shape {array.shape}")
        self._array = array
        self._precision = precision
        channels = int(array.shape[2])
        self._color_spec = color_spec if color_spec is not None else _color_of(channels)
        self._cuda_stream = int(cuda_stream)
        self._external = False  # wraps a caller's buffer (as_image): never replaced by another

    def take(self, other: Image) -> None:
        """Hold ``other``'s pixels: copied into this image's buffer when shape, dtype and memory match, else
        (for an image the decoder made) this image's buffer becomes ``other``'s; a caller's buffer of another
        shape is a ``ValueError``."""
        same = self.shape == other.shape and self.dtype == other.dtype and self.on_device == other.on_device
        if same:
            self._array[...] = other._array
        elif self._external:
            raise ValueError(
                f"the image to decode into is {self.shape} {self.dtype}, the decoded one {other.shape} {other.dtype}"
            )
        else:
            self._array = other._array
        self._precision, self._color_spec, self._cuda_stream = other._precision, other._color_spec, other._cuda_stream

    @property
    def color_spec(self) -> ColorSpec:
        """The pixels' colour: what the decode asked for (``UNCHANGED`` decodes report the stored colour)."""
        return self._color_spec

    @property
    def sample_format(self) -> SampleFormat:
        """Interleaved components of the pixels (``I_RGB``, ``I_Y``, ...; ``I_UNCHANGED`` otherwise)."""
        return _FORMATS.get((self._color_spec, self.num_channels), SampleFormat.I_UNCHANGED)

    @property
    def device_id(self) -> int | None:
        """The CUDA device holding a device image; None for a host image."""
        return int(self._array.device.id) if self.on_device else None

    @property
    def cuda_stream(self) -> int | None:
        """The ``cudaStream_t`` (as an integer) a device image's work is ordered on; None for a host image."""
        return self._cuda_stream if self.on_device else None

    @property
    def capacity(self) -> int:
        """Bytes of the buffer behind the image."""
        return int(self._array.nbytes)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self._array.shape

    @property
    def height(self) -> int:
        return int(self._array.shape[0])

    @property
    def width(self) -> int:
        return int(self._array.shape[1])

    @property
    def num_channels(self) -> int:
        return int(self._array.shape[2])

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def strides(self) -> tuple[int, ...]:
        return self._array.strides

    @property
    def size(self) -> int:
        """Bytes of pixel data."""
        return int(self._array.nbytes)

    @property
    def precision(self) -> int:
        """Significant bits per sample; 0 when that is the full width of ``dtype``."""
        return self._precision

    @property
    def on_device(self) -> bool:
        return hasattr(self._array, "__cuda_array_interface__")

    @property
    def buffer_kind(self) -> ImageBufferKind:
        return ImageBufferKind.STRIDED_DEVICE if self.on_device else ImageBufferKind.STRIDED_HOST

    def cpu(self) -> Image:
        """This image in host memory (itself, for a host image; a copy of a device image)."""
        if not self.on_device:
            return self
        return Image(self._array.get(), precision=self._precision, color_spec=self._color_spec)

    def cuda(self, synchronize: bool = True, device_id: int = -1, cuda_stream: int = 0) -> Image:
        """This image in memory of GPU ``device_id`` (-1: the current one; itself when it is there already),
        copied on ``cuda_stream`` (0: the current stream), waited for unless ``synchronize`` is False."""
        try:
            import cupy
        except ImportError as exc:
            raise BackendUnavailableError(
                "copying an image to the GPU needs CuPy: pip install 'tiffstream[gpu]'"
            ) from exc
        target = cupy.cuda.Device().id if device_id < 0 else device_id
        if self.on_device and self.device_id == target:
            return self
        stream = cupy.cuda.ExternalStream(cuda_stream) if cuda_stream else cupy.cuda.get_current_stream()
        with cupy.cuda.Device(target), stream:
            copied = cupy.asarray(self._array)
        if synchronize:
            stream.synchronize()
        return Image(copied, precision=self._precision, color_spec=self._color_spec, cuda_stream=stream.ptr)

    def to_dlpack(self, cuda_stream: Any = None) -> Any:
        """The image as a DLPack capsule, zero-copy (``cuda_stream``: the stream the consumer will use)."""
        return self.__dlpack__(stream=cuda_stream) if self.on_device else self.__dlpack__()

    def numpy(self) -> np.ndarray:
        """The pixels as a numpy array (no copy for a host image)."""
        return self._array.get() if self.on_device else self._array

    @property
    def __array_interface__(self) -> dict[str, Any]:
        if self.on_device:
            raise AttributeError("a device image has no __array_interface__: use .cpu()")
        return self._array.__array_interface__

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        if not self.on_device:
            raise AttributeError("a host image has no __cuda_array_interface__: use .cuda()")
        return self._array.__cuda_array_interface__

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self.on_device:
            if copy is False:
                raise ValueError("a device image reaches numpy only by a copy: use .cpu()")
            host = self._array.get()
            return host if dtype is None else host.astype(dtype)
        if copy:
            return np.array(self._array, dtype=dtype, copy=True)
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            if copy is False:
                raise ValueError("a dtype conversion needs a copy")
            return self._array.astype(dtype)
        return self._array

    def __dlpack__(self, *, stream: Any = None, **kwargs: Any) -> Any:
        if self.on_device:
            return self._array.__dlpack__(stream=stream, **kwargs)
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._array.__dlpack_device__()

    def __repr__(self) -> str:
        return f"Image(shape={self.shape}, dtype={self.dtype}, buffer_kind={self.buffer_kind.name})"


def _color_of(channels: int) -> ColorSpec:
    return {1: ColorSpec.GRAY, 2: ColorSpec.GRAY, 3: ColorSpec.SRGB, 4: ColorSpec.SRGB}.get(channels, ColorSpec.UNKNOWN)


def as_image(
    source: Any,
    cuda_stream: int = 0,
    *,
    sample_format: SampleFormat | None = None,
    color_spec: ColorSpec | None = None,
    precision: int | None = None,
) -> Image:
    """Wrap a buffer made elsewhere as an ``Image``, zero-copy: anything with ``__cuda_array_interface__``,
    ``__array_interface__`` or DLPack, ``(height, width)`` or ``(height, width, channels)``. ``sample_format``
    (interleaved only) names the components; ``color_spec`` and ``precision`` what they hold."""
    if sample_format is not None and sample_format.name.startswith("P_"):
        raise BackendUnavailableError(f"planar images ({sample_format.name}) are not supported")
    array = _array_of(source)
    if color_spec is None and sample_format is not None:
        color_spec = next((color for (color, _), fmt in _FORMATS.items() if fmt == sample_format), None)
    image = Image(array, precision=precision or 0, color_spec=color_spec, cuda_stream=cuda_stream)
    image._external = True
    return image


def as_images(sources: list[Any], cuda_stream: int = 0, **options: Any) -> list[Image]:
    """``as_image`` of each buffer."""
    return [as_image(source, cuda_stream, **options) for source in sources]


def from_dlpack(
    source: Any,
    cuda_stream: int = 0,
    *,
    sample_format: SampleFormat | None = None,
    color_spec: ColorSpec | None = None,
    precision: int | None = None,
) -> Image:
    """An ``Image`` over a DLPack tensor (an object with ``__dlpack__``, or a capsule on a device), zero-copy."""
    return as_image(source, cuda_stream, sample_format=sample_format, color_spec=color_spec, precision=precision)


def _array_of(source: Any) -> Any:
    """A numpy or CuPy array over ``source``'s buffer, without a copy."""
    if isinstance(source, Image):
        return source._array
    if hasattr(source, "__cuda_array_interface__") or type(source).__name__ == "PyCapsule":
        try:
            import cupy
        except ImportError as exc:
            raise BackendUnavailableError("a device buffer needs CuPy: pip install 'tiffstream[gpu]'") from exc
        if type(source).__name__ == "PyCapsule":
            return cupy.from_dlpack(source)
        return cupy.asarray(source)
    if hasattr(source, "__array_interface__") or isinstance(source, np.ndarray):
        return np.asarray(source)
    if hasattr(source, "__dlpack__"):
        kind = source.__dlpack_device__()[0] if hasattr(source, "__dlpack_device__") else 1
        if kind == 1:  # kDLCPU
            return np.from_dlpack(source)
        import cupy

        return cupy.from_dlpack(source)
    raise TypeError(f"as_image takes an array-like buffer, got {type(source).__name__}")

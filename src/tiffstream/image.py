"""Image: a decoded image in host (or, with the GPU backend, device) memory, HWC, zero-copy to numpy.

nvImageCodec's ``Image``: ``shape`` (height, width, channels), ``dtype``, ``strides``, ``buffer_kind``,
``precision``, ``cpu()``, ``cuda()``, the array interface and DLPack.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .enums import ImageBufferKind
from .errors import BackendUnavailableError

__all__ = ["Image", "ImageBufferKind"]


class Image:
    """A decoded image: a thin, zero-copy wrapper around a ``(height, width, channels)`` numpy (host) or
    CuPy (device) array."""

    __slots__ = ("_array", "_precision")

    def __init__(self, array: Any, *, precision: int = 0) -> None:
        if array.ndim == 2:
            array = array[:, :, np.newaxis]
        if array.ndim != 3:
            raise ValueError(f"an Image is (height, width, channels), got shape {array.shape}")
        self._array = array
        self._precision = precision

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
        return Image(self._array.get(), precision=self._precision)

    def cuda(self, synchronize: bool = True) -> Image:
        """This image in device memory (itself, for a device image); needs CuPy."""
        if self.on_device:
            return self
        try:
            import cupy
        except ImportError as exc:
            raise BackendUnavailableError(
                "copying an image to the GPU needs CuPy: pip install 'tiffstream[gpu]'"
            ) from exc
        image = Image(cupy.asarray(self._array), precision=self._precision)
        if synchronize:
            cupy.cuda.get_current_stream().synchronize()
        return image

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

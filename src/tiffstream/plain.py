"""Plain single-image files (JPEG, PNG, JPEG 2000, WebP, BMP) as one-image code streams, decoded by imagecodecs.

nvImageCodec scripts open these with ``CodeStream`` too; here they have one image, no SubIFDs, and
decode on the CPU. The pixels are decoded once, on first use, and kept.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

import imagecodecs
import numpy as np

from .errors import DecodeError, NotATiffError, UnsupportedTiffError

if TYPE_CHECKING:
    from .source import ByteSource

__all__ = ["PlainImage", "detect_codec"]

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg", "jpeg8_decode"),
    (b"\x89PNG\r\n\x1a\n", "png", "png_decode"),
    (b"\xff\x4f\xff\x51", "jpeg2k", "jpeg2k_decode"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2k", "jpeg2k_decode"),
    (b"BM", "bmp", "bmp_decode"),
)


def detect_codec(head: bytes) -> tuple[str, str] | None:
    """(codec name, imagecodecs function) for a plain image's first bytes, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "webp_decode"
    for signature, name, function in _SIGNATURES:
        if head.startswith(signature):
            return name, function
    return None


class PlainImage:
    """One plain image: the page-like properties ``CodeStream`` reads, and ``decode()``."""

    subifd_offsets: ClassVar[list[int]] = []  # a plain image has none
    photometric = 2
    next_offset = 0

    def __init__(self, source: ByteSource) -> None:
        found = detect_codec(source.read_at_most(0, 16))
        if found is None:
            raise NotATiffError("not a TIFF, JPEG, PNG, JPEG 2000, WebP or BMP file", path=source.name, offset=0)
        self.source = source
        self.codec_name, self._function = found
        self._array: np.ndarray | None = None
        self._lock = threading.Lock()

    def decode(self) -> np.ndarray:
        """The decoded pixels, ``(height, width[, samples])``."""
        with self._lock:
            if self._array is None:
                data = self.source.read(0, self.source.size)
                try:
                    self._array = np.asarray(getattr(imagecodecs, self._function)(data))
                except Exception as exc:  # any codec failure is a DecodeError
                    raise DecodeError(
                        f"{self.codec_name} data could not be decoded: {exc}", path=self.source.name
                    ) from exc
            return self._array

    @property
    def height(self) -> int:
        return int(self.decode().shape[0])

    @property
    def width(self) -> int:
        return int(self.decode().shape[1])

    @property
    def samples_per_pixel(self) -> int:
        array = self.decode()
        return 1 if array.ndim == 2 else int(array.shape[2])

    @property
    def dtype(self) -> np.dtype:
        return self.decode().dtype

    @property
    def bits_per_sample(self) -> tuple[int, ...]:
        return (self.dtype.itemsize * 8,)

    @property
    def chunk_shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def plan(self) -> None:
        raise UnsupportedTiffError(f"a {self.codec_name} image has no TIFF decode plan", path=self.source.name)

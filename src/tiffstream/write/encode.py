"""Chunk encoding for the writer: predictor then compression, through imagecodecs (one entry per scheme)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import imagecodecs
import numpy as np

from ..errors import TiffWriteError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["COMPRESSIONS", "Compressor", "compressor"]


@dataclass(frozen=True)
class Compressor:
    """One compression scheme: its TIFF code, encoder, and whether it is an image codec (no predictor)."""

    name: str
    code: int
    encode: Callable[[np.ndarray, int | None], bytes]
    image: bool = False
    dtypes: tuple[str, ...] = ()  # dtypes an image codec accepts (empty: any)


def _packbits(chunk: np.ndarray, level: int | None) -> bytes:
    rows = chunk.reshape(chunk.shape[0], -1)  # PackBits runs never cross rows (TIFF 6.0, section 9)
    return b"".join(imagecodecs.packbits_encode(row.tobytes()) for row in rows)


COMPRESSIONS: dict[str, Compressor] = {
    "none": Compressor("none", 1, lambda chunk, level: chunk.tobytes()),
    "deflate": Compressor(
        "deflate", 8, lambda chunk, level: imagecodecs.deflate_encode(chunk.tobytes(), level=level or 6)
    ),
    "zstd": Compressor("zstd", 50000, lambda chunk, level: imagecodecs.zstd_encode(chunk.tobytes(), level=level or 5)),
    "lzw": Compressor("lzw", 5, lambda chunk, level: imagecodecs.lzw_encode(chunk.tobytes())),
    "packbits": Compressor("packbits", 32773, _packbits),
    # 4:4:4, as libtiff requires of JPEG in an RGB or gray TIFF (subsampled JPEG needs photometric YCbCr)
    "jpeg": Compressor(
        "jpeg",
        7,
        lambda chunk, level: imagecodecs.jpeg8_encode(chunk, level=level or 90, subsampling="444"),
        True,
        ("uint8",),
    ),
    "webp": Compressor(
        "webp",
        50001,
        lambda chunk, level: imagecodecs.webp_encode(chunk, level=level or 90, lossless=level is None),
        True,
        ("uint8",),
    ),
    "jpeg2000": Compressor(
        "jpeg2000",
        34712,
        lambda chunk, level: imagecodecs.jpeg2k_encode(chunk, level=level or 0),
        True,
        ("uint8", "uint16", "int8", "int16"),
    ),
}
_ALIASES = {None: "none", "zlib": "deflate", "adobe_deflate": "deflate", "jpeg2k": "jpeg2000", "j2k": "jpeg2000"}


def compressor(name: str | None) -> Compressor:
    """The compressor called ``name`` (``None``/``"none"``, ``"deflate"``/``"zlib"``, ``"zstd"``, ...)."""
    key = _ALIASES.get(name.lower() if isinstance(name, str) else name, name.lower() if isinstance(name, str) else name)
    if key not in COMPRESSIONS:
        raise TiffWriteError(f"unknown compression {name!r}; choose one of {', '.join(COMPRESSIONS)}")
    return COMPRESSIONS[key]


def encode_chunk(
    chunk: np.ndarray, scheme: Compressor, predictor: int, byteorder: Literal["<", ">"], level: int | None
) -> bytes:
    """Encode one ``(rows, width, samples)`` chunk: to file byte order, predictor, compression."""
    if scheme.image:
        samples = chunk.shape[2]
        return scheme.encode(chunk[:, :, 0] if samples == 1 else chunk, level)
    data = np.ascontiguousarray(chunk.astype(chunk.dtype.newbyteorder("="), copy=False))
    if predictor == 3:  # byte planes, most significant first: the same bytes in either file byte order
        return scheme.encode(imagecodecs.floatpred_encode(data, axis=-2), level)
    if predictor == 2:  # differences in native order, then stored in the file's byte order
        data = imagecodecs.delta_encode(data, axis=-2)
    return scheme.encode(np.ascontiguousarray(data.astype(data.dtype.newbyteorder(byteorder), copy=False)), level)

"""Encoder, EncodeParams, JpegEncodeParams, Jpeg2kEncodeParams: nvImageCodec 0.9's encoding API.

TIFF goes through our writer (tiles, compression, predictor, SubIFD pyramid levels, OME-XML); plain JPEG,
JPEG 2000, PNG, WebP and BMP through imagecodecs. Images may be on the host or a GPU (they are copied to the
host: encoding runs on the CPU for now).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from .codestream import CodeStream
from .enums import ChromaSubsampling, ColorSpec, Jpeg2kBitstreamType, Jpeg2kProgOrder, QualityType
from .errors import TiffError, TiffWriteError, UnsupportedTiffError
from .image import Image, as_image
from .write import imwrite

__all__ = ["EncodeParams", "Encoder", "Jpeg2kEncodeParams", "JpegEncodeParams"]

_CODECS = {  # codec names and file extensions -> our codec
    "jpeg": "jpeg", ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg",
    "jpeg2k": "jpeg2k", ".jp2": "jpeg2k", ".j2k": "jpeg2k", ".j2c": "jpeg2k", ".jph": "jpeg2k",
    "png": "png", ".png": "png",
    "webp": "webp", ".webp": "webp",
    "bmp": "bmp", ".bmp": "bmp",
    "tiff": "tiff", ".tif": "tiff", ".tiff": "tiff",
}  # fmt: skip
_SUBSAMPLING = {ChromaSubsampling.CSS_444: "444", ChromaSubsampling.CSS_422: "422", ChromaSubsampling.CSS_420: "420"}


class JpegEncodeParams:
    """JPEG options: progressive scans, optimized Huffman tables."""

    def __init__(self, progressive: bool = False, optimized_huffman: bool = False) -> None:
        self.progressive = progressive
        self.optimized_huffman = optimized_huffman


class Jpeg2kEncodeParams:
    """JPEG 2000 options: code blocks, resolutions, J2K or JP2, progression order, colour transform (MCT), HT."""

    def __init__(
        self,
        code_block_size: tuple[int, int] = (64, 64),
        num_resolutions: int = 6,
        bitstream_type: Jpeg2kBitstreamType = Jpeg2kBitstreamType.JP2,
        prog_order: Jpeg2kProgOrder = Jpeg2kProgOrder.RPCL,
        mct_mode: int = 0,
        ht: bool = False,
    ) -> None:
        self.code_block_size = code_block_size
        self.num_resolutions = num_resolutions
        self.bitstream_type = bitstream_type
        self.prog_order = prog_order
        self.mct_mode = mct_mode
        self.ht = ht


class EncodeParams:
    """How to encode (nvImageCodec 0.9's arguments, plus ours for TIFF).

    ``quality_type``/``quality_value``: ``QUALITY`` 1-100 (JPEG, WebP; default 95), ``PSNR`` in dB (JPEG
    2000), ``LOSSLESS`` (JPEG 2000 reversible, lossless WebP and JPEG). ``tile_width``/``tile_height``: tiled
    TIFF. Ours, for TIFF: ``tiff_compression`` (``"deflate"``, ``"zstd"``, ``"lzw"``, ``"jpeg"``, ...; default
    none), ``predictor``, ``pyramid_levels`` (halved levels as SubIFDs) and ``ome`` (OME-XML).
    """

    def __init__(
        self,
        quality_type: QualityType = QualityType.DEFAULT,
        quality_value: float = 0,
        color_spec: ColorSpec = ColorSpec.UNCHANGED,
        chroma_subsampling: ChromaSubsampling | None = None,
        jpeg_encode_params: JpegEncodeParams | None = None,
        jpeg2k_encode_params: Jpeg2kEncodeParams | None = None,
        tile_width: int | None = None,
        tile_height: int | None = None,
        *,
        tiff_compression: str | None = None,
        predictor: bool = False,
        pyramid_levels: int = 0,
        ome: bool = False,
    ) -> None:
        self.quality_type = quality_type
        self.quality_value = float(quality_value)
        self.color_spec = color_spec
        self.chroma_subsampling = chroma_subsampling
        self.jpeg_params = jpeg_encode_params or JpegEncodeParams()
        self.jpeg2k_params = jpeg2k_encode_params or Jpeg2kEncodeParams()
        self.tile_width = tile_width or 0
        self.tile_height = tile_height or 0
        self.tiff_compression = tiff_compression
        self.predictor = predictor
        self.pyramid_levels = pyramid_levels
        self.ome = ome


class Encoder:
    """Encodes images (``Image``, numpy, CuPy or anything ``as_image`` takes) to code streams or files.

    ``on_error``: for lists, ``"raise"`` (default) or ``"none"`` (nvImageCodec's None in place of an image
    that could not be encoded); a single image always raises a clear error.
    """

    def __init__(
        self,
        device_id: int = -1,
        max_num_cpu_threads: int = 0,
        backends: Any = None,
        options: str = "",
        *,
        on_error: str = "raise",
    ) -> None:
        if on_error not in ("raise", "none"):
            raise ValueError(f"on_error must be 'raise' or 'none', got {on_error!r}")
        self.device_id = device_id
        self.max_num_cpu_threads = max_num_cpu_threads or os.cpu_count() or 1
        self.on_error = on_error

    def encode(
        self,
        image_s: Any,
        codec: str,
        *,
        code_stream_s: Any = None,
        params: EncodeParams | None = None,
        cuda_stream: int = 0,
    ) -> CodeStream | list[CodeStream | None] | None:
        """Encode an image (or a list) as ``codec`` (``"jpeg"``, ``".jp2"``, ``"tiff"``, ...): a ``CodeStream``
        over the encoded bytes (or a list)."""
        if isinstance(image_s, (list, tuple)):
            return [self._each(lambda image: CodeStream(encode_bytes(image, codec, params)), im) for im in image_s]
        return CodeStream(encode_bytes(image_s, codec, params))

    def write(
        self,
        file_name_s: str | os.PathLike[str] | list[Any],
        image_s: Any,
        codec: str = "",
        params: EncodeParams | None = None,
        cuda_stream: int = 0,
    ) -> Any:
        """Encode an image to a file (or images to files); the codec is the file's extension unless given
        (``"jpeg"`` for a name without one). Returns the file name(s)."""
        if isinstance(file_name_s, (list, tuple)):
            pairs = zip(file_name_s, image_s, strict=True)
            return [self._each(lambda pair: _write(pair[0], pair[1], codec, params), pair) for pair in pairs]
        return _write(file_name_s, image_s, codec, params)

    def _each(self, job: Any, item: Any) -> Any:
        try:
            return job(item)
        except (TiffError, TypeError, ValueError):
            if self.on_error == "raise":
                raise
            return None


def _write(path: Any, image: Any, codec: str, params: EncodeParams | None) -> str:
    name = os.fspath(path)
    extension = os.path.splitext(name)[1].lower()
    data = encode_bytes(image, codec or extension or "jpeg", params)
    with open(name, "wb") as handle:
        handle.write(data)
    return name


def encode_bytes(image: Any, codec: str, params: EncodeParams | None = None) -> bytes:
    """The encoded bytes of one image (host copy of a device image)."""
    kind = _CODECS.get(codec.lower())
    if kind is None:
        raise UnsupportedTiffError(f"no encoder for {codec!r}; choose one of {', '.join(sorted(set(_CODECS)))}")
    params = params or EncodeParams()
    wrapped = image if isinstance(image, Image) else as_image(image)
    pixels = np.ascontiguousarray(wrapped.cpu().numpy())
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if kind == "tiff":
        return _tiff_bytes(pixels, params)
    return _plain_bytes(kind, pixels, params)


def _plain_bytes(kind: str, pixels: np.ndarray, params: EncodeParams) -> bytes:
    import imagecodecs

    lossless = params.quality_type == QualityType.LOSSLESS
    quality = int(params.quality_value) if params.quality_type == QualityType.QUALITY else 95
    if kind == "jpeg":
        subsampling = _SUBSAMPLING.get(params.chroma_subsampling or ChromaSubsampling.CSS_420)
        if subsampling is None:
            raise UnsupportedTiffError(f"JPEG chroma subsampling {params.chroma_subsampling!r} is not supported")
        options = {"optimize": params.jpeg_params.optimized_huffman or None}
        if lossless:
            return bytes(imagecodecs.ljpeg_encode(pixels))
        return bytes(imagecodecs.jpeg8_encode(pixels, level=quality, subsampling=subsampling, **options))
    if kind == "jpeg2k":
        j2k = params.jpeg2k_params
        psnr = params.quality_value if params.quality_type == QualityType.PSNR else None
        return bytes(
            imagecodecs.jpeg2k_encode(
                pixels,
                level=None if lossless else psnr,
                codecformat="J2K" if j2k.bitstream_type == Jpeg2kBitstreamType.J2K else "JP2",
                reversible=lossless or psnr is None,
                resolutions=j2k.num_resolutions,
                mct=bool(j2k.mct_mode),
            )
        )
    if kind == "png":
        return bytes(imagecodecs.png_encode(pixels))
    if kind == "webp":
        return bytes(imagecodecs.webp_encode(pixels, level=quality, lossless=lossless or None))
    return bytes(imagecodecs.bmp_encode(pixels))


def _tiff_bytes(pixels: np.ndarray, params: EncodeParams) -> bytes:
    tile = (params.tile_height, params.tile_width) if params.tile_width and params.tile_height else None
    options: dict[str, Any] = {"compression": params.tiff_compression, "predictor": params.predictor}
    if tile is not None:
        options["tile"] = tile
    if params.pyramid_levels:
        options["subifds"] = params.pyramid_levels
    if params.tiff_compression == "jpeg" and params.quality_type == QualityType.QUALITY:
        options["level"] = int(params.quality_value)
    with tempfile.TemporaryDirectory(prefix="tiffstream-encode-") as folder:
        path = os.path.join(folder, "image.tif")
        try:
            imwrite(path, pixels, ome=params.ome, **options)
        except TypeError as exc:
            raise TiffWriteError(f"cannot encode this image as TIFF: {exc}") from exc
        with open(path, "rb") as handle:
            return handle.read()

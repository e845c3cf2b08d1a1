"""JPEG (Compression 7 and old-style 6, 33007, 34892 lossy DNG), with shared JPEGTables, through imagecodecs.

Colour handling follows tifffile: YCbCr decodes to RGB, RGB stays RGB (Adobe/Aperio streams without
JFIF are told so), CMYK stays CMYK, planar-separate planes decode to gray.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import imagecodecs

from ._base import check_stream_size

if TYPE_CHECKING:
    import numpy as np

    from ..plan import DecodePlan
    from ._base import BytesLike, ChunkContext

CODES = (6, 7, 33007, 34892)
NAME = "jpeg"
KIND = "image"
ACCEPTS_OUT = True


def available() -> bool:
    return bool(imagecodecs.JPEG8.available)


def colorspaces(
    photometric: int, planar: int, extra_samples: tuple[int, ...], jfif: bool
) -> tuple[int | None, int | str | None]:
    """(JPEG colour space, output colour space) for ``imagecodecs.jpeg_decode``; None keeps the default."""
    colorspace: int | None = None
    out: int | str | None = None
    if not extra_samples:
        if photometric == 6:
            out = 2
        elif photometric == 2:
            if not jfif:
                colorspace = 2
            out = 2
        elif photometric == 5:
            out = 4
        elif photometric > 3:
            from ..tiff.tags import Photometric

            out = Photometric(photometric).name
    if planar != 1:
        out = 1
    return colorspace, out


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FrameHeader(NamedTuple):
    """What a JPEG stream says before its scan: the frame header's marker (0xC0 baseline, 0xC1 extended, 0xC2
    progressive, 0xC3 lossless, ...), sample precision, height, width, number of components and where the marker
    is; whether a JFIF marker came before it, the Adobe marker's colour transform (-1: none), and whether the
    first three components are called 'R', 'G', 'B'."""

    marker: int
    precision: int
    height: int
    width: int
    components: int
    position: int
    jfif: bool = False
    adobe: int = -1
    rgb_ids: bool = False

    @property
    def stored_rgb(self) -> bool:
        """Whether libjpeg reads three components as RGB, not YCbCr (jdapimin.c's default colour space)."""
        return not self.jfif and (self.adobe == 0 or (self.adobe < 0 and self.rgb_ids))


def frame_header(data: BytesLike) -> FrameHeader | None:
    """The stream's frame header, read before decoding; None when there is none before the scan."""
    view = memoryview(data)
    at, end = 2, len(view)
    jfif, adobe = False, -1
    while at + 4 <= end:
        if view[at] != 0xFF:
            return None
        marker = view[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            at += 2
            continue
        length = view[at + 2] << 8 | view[at + 3]
        if marker == 0xE0 and bytes(view[at + 4 : at + 9]) == b"JFIF\0":
            jfif = True
        elif marker == 0xEE and length >= 12 and bytes(view[at + 4 : at + 9]) == b"Adobe" and at + 15 < end:
            adobe = view[at + 15]
        if marker in _SOF and at + 10 <= end:
            height, width = view[at + 5] << 8 | view[at + 6], view[at + 7] << 8 | view[at + 8]
            ids = bytes(view[at + 10 : at + 17 : 3])
            return FrameHeader(marker, view[at + 4], height, width, view[at + 9], at, jfif, adobe, ids == b"RGB")
        if marker == 0xDA:  # start of scan: no frame header before it
            return None
        at += 2 + length
    return None


def frame_size(data: BytesLike) -> tuple[int, int] | None:
    """(height, width) from the stream's frame header (SOF), read before decoding; None when there is none."""
    header = frame_header(data)
    return None if header is None else (header.height, header.width)


def decode(data: BytesLike, /, *, context: ChunkContext, out: np.ndarray | None = None) -> np.ndarray:
    """Decode one JPEG chunk; ``out`` (a full-chunk buffer) is used when the stream fills it exactly."""
    plan = context.plan
    check_stream_size("JPEG", frame_size(data), context)
    if plan.compression == 34892:
        return imagecodecs.jpeg8_decode(data)
    head = plan.jpeg_header or data  # NDPI tiles start at their scan data: the header says JFIF or not
    colorspace, outspace = colorspaces(plan.photometric, plan.planar_config, plan.extra_samples, head[6:10] == b"JFIF")
    bits, tables, shape = plan.bits_per_sample[0], plan.jpeg_tables, (context.rows, context.width)
    options = {
        "bitspersample": bits,
        "tables": tables,
        "header": plan.jpeg_header,
        "colorspace": colorspace,
        "outcolorspace": outspace,
        "shape": shape,
    }
    if out is not None:
        try:
            return imagecodecs.jpeg_decode(data, out=out, **options)
        except ValueError:  # the stream is not the full chunk size (e.g. a cropped edge tile)
            pass
    return imagecodecs.jpeg_decode(data, **options)


_RGBA_MAX_PIXELS = 2048 * 2048  # larger chunks are not decoded whole into RGBA (an NDPI level's strips)
_EXT_RGBA = 12  # libjpeg-turbo's JCS_EXT_RGBA: RGB with an opaque fourth byte


def rgba_direct(plan: DecodePlan) -> bool:
    """Whether ``plan``'s chunks can decode straight to opaque RGBA (``decode_rgba``): 8-bit RGB or YCbCr JPEG,
    interleaved, no alpha, each stream with its own header (not NDPI's), chunks of at most 2048x2048."""
    return (
        plan.compression == 7
        and plan.photometric in (2, 6)
        and plan.samples_per_pixel == 3
        and plan.bits_per_sample == (8, 8, 8)
        and plan.planar_config == 1
        and not plan.extra_samples
        and plan.jpeg_header is None
        and plan.chunk_height * plan.chunk_width <= _RGBA_MAX_PIXELS
    )


def decode_rgba(data: BytesLike, plan: DecodePlan, out: np.ndarray) -> bool:
    """Decode one whole chunk of a ``rgba_direct`` plan into ``out`` (chunk height x width x 4 uint8) as
    libjpeg-turbo's opaque RGBA: the pixels ``decode`` gives, with alpha 255, in one pass and without holding the
    GIL. False where the stream is not a chunk-sized 8-bit 3-component frame or does not decode: the caller then
    decodes it as any other chunk (whose errors name it)."""
    header = frame_header(data)
    if header is None or (header.precision, header.components, header.height, header.width) != (8, 3, *out.shape[:2]):
        return False
    colorspace, _ = colorspaces(plan.photometric, 1, (), bytes(data[6:10]) == b"JFIF")
    try:
        imagecodecs.jpeg8_decode(data, tables=plan.jpeg_tables, colorspace=colorspace, outcolorspace=_EXT_RGBA, out=out)
    except imagecodecs.Jpeg8Error:
        return False
    return True

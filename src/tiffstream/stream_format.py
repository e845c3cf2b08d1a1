"""What nvImageCodec 0.9 reports of a code stream's encoding: its colour, sample format and chroma
subsampling, from the image's TIFF tags (or a plain image's samples)."""

from __future__ import annotations

from typing import Any

from .enums import ChromaSubsampling, ColorSpec, SampleFormat
from .tiff.tags import Photometric

__all__ = ["chroma_subsampling", "color_spec", "sample_format"]

_COLORS = {
    Photometric.MINISWHITE: ColorSpec.GRAY,
    Photometric.MINISBLACK: ColorSpec.GRAY,
    Photometric.RGB: ColorSpec.SRGB,
    Photometric.PALETTE: ColorSpec.PALETTE,
    Photometric.SEPARATED: ColorSpec.CMYK,
    Photometric.YCBCR: ColorSpec.SYCC,
}
# (components, planar) -> format; components: the colour's samples, with one more for alpha
_FORMATS = {
    (ColorSpec.GRAY, 1): (SampleFormat.P_Y, SampleFormat.P_Y),
    (ColorSpec.GRAY, 2): (SampleFormat.I_YA, SampleFormat.P_YA),
    (ColorSpec.SRGB, 3): (SampleFormat.I_RGB, SampleFormat.P_RGB),
    (ColorSpec.SRGB, 4): (SampleFormat.I_RGBA, SampleFormat.P_RGBA),
    (ColorSpec.SYCC, 3): (SampleFormat.I_YCC, SampleFormat.P_YCC),
    (ColorSpec.CMYK, 4): (SampleFormat.I_CMYK, SampleFormat.P_CMYK),
}
_SUBSAMPLING = {
    (1, 1): ChromaSubsampling.CSS_444,
    (2, 1): ChromaSubsampling.CSS_422,
    (2, 2): ChromaSubsampling.CSS_420,
    (1, 2): ChromaSubsampling.CSS_440,
    (4, 1): ChromaSubsampling.CSS_411,
    (4, 2): ChromaSubsampling.CSS_410,
}


def color_spec(page: Any) -> ColorSpec:
    """The stored colour: gray, sRGB, palette, CMYK (4-ink separated) or YCbCr (``SYCC``); else UNKNOWN.
    JPEG-compressed YCbCr decodes to RGB, as nvImageCodec reports it."""
    photometric = page.photometric
    if photometric == Photometric.YCBCR and getattr(page, "compression", 1) in (6, 7):
        return ColorSpec.SRGB
    if photometric == Photometric.SEPARATED and page.samples_per_pixel < 4:
        return ColorSpec.UNKNOWN
    return _COLORS.get(photometric, ColorSpec.UNKNOWN)


def sample_format(page: Any) -> SampleFormat:
    """How the stored samples are laid out: interleaved (``I_*``) or planar (``P_*``), and which components."""
    planar = getattr(page, "planar_config", 1) == 2
    found = _FORMATS.get((color_spec(page), page.samples_per_pixel))
    if found is None:
        return SampleFormat.P_UNCHANGED if planar else SampleFormat.I_UNCHANGED
    return found[planar]


def chroma_subsampling(page: Any) -> ChromaSubsampling:
    """``CSS_GRAY`` for one-channel images, the YCbCrSubSampling of YCbCr images, else 4:4:4."""
    if page.samples_per_pixel == 1:
        return ChromaSubsampling.CSS_GRAY
    if page.photometric != Photometric.YCBCR:
        return ChromaSubsampling.CSS_444
    factors = page.ifd.get(530) if hasattr(page, "ifd") else None
    key = tuple(factors) if isinstance(factors, (tuple, list)) and len(factors) == 2 else (2, 2)
    return _SUBSAMPLING.get(key, ChromaSubsampling.CSS_444)

"""DecodeParams: nvImageCodec 0.9's decode parameters, in its argument order and mutable as its are."""

from __future__ import annotations

from typing import Any

from .color import ColorMode
from .enums import ColorSpec, SampleFormat
from .errors import BackendUnavailableError

__all__ = ["DecodeParams"]

_COLOR_MODES: dict[ColorSpec, ColorMode] = {
    ColorSpec.UNCHANGED: "unchanged",
    ColorSpec.SRGB: "srgb",
    ColorSpec.GRAY: "gray",
}
# sample formats served (interleaved ones) -> the colour their components imply, or None: as color_spec says
_SAMPLE_FORMATS: dict[SampleFormat, ColorMode | None] = {
    SampleFormat.I_AUTO_COMPONENTS: None,
    SampleFormat.I_RGB: "srgb",
    SampleFormat.I_Y: "gray",
}


class DecodeParams:
    """How to decode (nvImageCodec's meaning and argument order).

    Parameters
    ----------
    apply_exif_orientation
        ``True`` (default, as nvImageCodec): a TIFF image is turned and mirrored as its Orientation tag says it
        is shown (a region: the region as stored, then turned); ``False``: as stored, as tifffile gives it.
    color_spec
        ``UNCHANGED``: the stored samples (palette images give their indices). ``SRGB`` (default): 3 channels
        RGB; gray is replicated, MINISWHITE inverted, palettes looked up, CMYK converted as libtiff does
        (``(max-C)(max-K)/max``), YCbCr to RGB, alpha and extra samples dropped. ``GRAY``: 1 channel; colour
        by 0.299 R + 0.587 G + 0.114 B. Other specs raise ``BackendUnavailableError``.
    allow_any_depth
        ``False`` (default): scale to uint8, ``v * 255 / (2**bits - 1)`` for unsigned samples (signed: from 0
        to their positive maximum; floats: from [0, 1]; palettes: from 16-bit colour map values), rounded and
        clipped. ``True``: keep the stored dtype.
    sample_format
        ``I_AUTO_COMPONENTS`` (default; ``I_UNCHANGED``): interleaved HWC as ``color_spec`` says; ``I_RGB``
        and ``I_Y`` ask for RGB or gray (``color_spec`` must then be ``SRGB``, ``UNCHANGED`` or the same
        colour). Planar (``P_*``) and other formats raise ``BackendUnavailableError``.
    """

    __slots__ = ("_allow_any_depth", "_apply_exif_orientation", "_color_spec", "_sample_format")

    def __init__(
        self,
        apply_exif_orientation: bool = True,
        color_spec: ColorSpec = ColorSpec.SRGB,
        allow_any_depth: bool = False,
        sample_format: SampleFormat = SampleFormat.I_AUTO_COMPONENTS,
    ) -> None:
        self._color_spec = ColorSpec.SRGB
        self._sample_format = SampleFormat.I_AUTO_COMPONENTS
        self.apply_exif_orientation = apply_exif_orientation
        self.allow_any_depth = allow_any_depth
        self.color_spec = color_spec
        self.sample_format = sample_format

    @property
    def apply_exif_orientation(self) -> bool:
        return self._apply_exif_orientation

    @apply_exif_orientation.setter
    def apply_exif_orientation(self, value: bool) -> None:
        self._apply_exif_orientation = bool(value)

    @property
    def allow_any_depth(self) -> bool:
        return self._allow_any_depth

    @allow_any_depth.setter
    def allow_any_depth(self, value: bool) -> None:
        self._allow_any_depth = bool(value)

    @property
    def color_spec(self) -> ColorSpec:
        return self._color_spec

    @color_spec.setter
    def color_spec(self, value: ColorSpec) -> None:
        if not isinstance(value, ColorSpec):
            raise TypeError(f"color_spec must be a ColorSpec, got {value!r}")
        if value not in _COLOR_MODES:
            raise BackendUnavailableError(f"ColorSpec.{value.name} output is not supported")
        _mode(value, self._sample_format)
        self._color_spec = value

    @property
    def sample_format(self) -> SampleFormat:
        return self._sample_format

    @sample_format.setter
    def sample_format(self, value: SampleFormat) -> None:
        if not isinstance(value, SampleFormat):
            raise TypeError(f"sample_format must be a SampleFormat, got {value!r}")
        _mode(self._color_spec, value)
        self._sample_format = value

    @property
    def color_mode(self) -> ColorMode:
        """The colour rule the decode follows ("unchanged", "srgb" or "gray")."""
        return _mode(self._color_spec, self._sample_format)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DecodeParams) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (self._apply_exif_orientation, self._color_spec, self._allow_any_depth, self._sample_format)

    def __repr__(self) -> str:
        return (
            f"DecodeParams(apply_exif_orientation={self._apply_exif_orientation}, color_spec={self._color_spec!r}, "
            f"allow_any_depth={self._allow_any_depth}, sample_format={self._sample_format!r})"
        )


def _mode(color_spec: ColorSpec, sample_format: SampleFormat) -> ColorMode:
    """The colour rule of a pairing; unsupported formats and contradictory pairings are refused."""
    if sample_format not in _SAMPLE_FORMATS:
        raise BackendUnavailableError(f"SampleFormat.{sample_format.name} output is not supported")
    implied = _SAMPLE_FORMATS[sample_format]
    asked = _COLOR_MODES[color_spec]
    if implied is None or asked == implied or color_spec in (ColorSpec.SRGB, ColorSpec.UNCHANGED):
        return implied or asked
    raise ValueError(f"sample_format {sample_format.name} contradicts color_spec {color_spec.name}")

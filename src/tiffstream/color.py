"""Colour and depth conversion of decoded samples into nvImageCodec's HWC output (``DecodeParams`` rules).

Works on numpy or CuPy arrays alike: the caller passes the array module as ``xp``.

``color``: ``"unchanged"`` keeps the stored samples (planes interleaved); ``"srgb"`` gives 3 channels
(gray replicated, MINISWHITE inverted, palette looked up, CMYK and YCbCr converted, alpha and extra
samples dropped); ``"gray"`` gives 1 channel (RGB by luma 0.299 R + 0.587 G + 0.114 B).
``any_depth=False`` scales to uint8: unsigned ``v * 255 / (2**bits - 1)``, signed from 0 up to
``2**(bits-1) - 1``, floats from [0, 1], all rounded to nearest and clipped; ``True`` keeps the dtype.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import UnsupportedTiffError

if TYPE_CHECKING:
    from types import ModuleType

    from .plan import DecodePlan

__all__ = ["ColorMode", "convert", "convert_plain", "to_hwc"]

ColorMode = Literal["unchanged", "srgb", "gray"]
_LUMA = np.array([0.299, 0.587, 0.114])


# output bytes converted at a time: on the host, temporaries (float64 scaling, indices) stay near 2 MiB
# whatever the image; on a GPU, strips are large (each is several kernel launches)
_STRIP_BYTES = {"numpy": 1 << 18, "cupy": 1 << 26}


def to_hwc(array: np.ndarray, plan: DecodePlan, xp: ModuleType = np) -> np.ndarray:
    """tifffile's page layout -> ``(height, width, samples)``; planar-separate planes as a strided view."""
    if array.ndim == 2:
        return array[:, :, None]
    if plan.planar_config == 2 and plan.samples_per_pixel > 1:
        return xp.moveaxis(array, 0, -1)
    return array


def _max_value(plan: DecodePlan, dtype: np.dtype) -> int | float:
    """The largest value a sample of ``plan`` holds (an int for integer samples, exact at 64 bits)."""
    if dtype.kind == "b":
        return 1
    if dtype.kind == "u":
        return 2 ** min(plan.bits_per_sample[0], dtype.itemsize * 8) - 1
    if dtype.kind == "i":
        return 2 ** (min(plan.bits_per_sample[0], dtype.itemsize * 8) - 1) - 1
    return 1.0


def _invert(array: np.ndarray, maximum: float, xp: ModuleType) -> np.ndarray:
    if array.dtype.kind == "b":
        return ~array
    if array.dtype.kind == "u":
        return xp.asarray(maximum, dtype=array.dtype) - array
    return (maximum - array).astype(array.dtype)


def _rgb(hwc: np.ndarray, plan: DecodePlan, xp: ModuleType) -> tuple[np.ndarray, int | float]:
    """Three channels and their maximum value, from any supported photometric interpretation."""
    photometric = plan.photometric
    maximum = _max_value(plan, hwc.dtype)
    if photometric in (0, 1) or (photometric == 4):
        gray = hwc[:, :, :1]
        if photometric == 0:
            gray = _invert(gray, maximum, xp)
        return xp.repeat(gray, 3, axis=2), maximum
    if photometric == 2 or (photometric == 6 and plan.compression in (6, 7, 33007)):
        if hwc.shape[2] < 3:
            raise UnsupportedTiffError(
                f"an RGB image with {hwc.shape[2]} samples", path=plan.source_name, offset=plan.ifd_offset
            )
        return hwc[:, :, :3], maximum
    if photometric == 3:
        if plan.colormap is None:
            raise UnsupportedTiffError(
                "a palette image without a ColorMap", path=plan.source_name, offset=plan.ifd_offset
            )
        colormap = xp.asarray(plan.colormap)
        index = xp.clip(hwc[:, :, 0].astype(xp.intp), 0, colormap.shape[1] - 1)
        return xp.ascontiguousarray(colormap[:, index].transpose(1, 2, 0)), 65535
    if photometric == 5 and hwc.shape[2] >= 4 and hwc.dtype.kind == "u":
        top = float(maximum)
        cmyk = hwc[:, :, :4].astype(xp.float64)
        rgb = xp.floor((top - cmyk[:, :, :3]) * (top - cmyk[:, :, 3:4]) / top) if top else cmyk[:, :, :3]
        return rgb.astype(hwc.dtype), maximum
    if photometric == 6 and hwc.shape[2] >= 3 and hwc.dtype == np.uint8:
        if plan.ycbcr_subsampling != (1, 1):
            raise UnsupportedTiffError("subsampled YCbCr without JPEG", path=plan.source_name, offset=plan.ifd_offset)
        y, cb, cr = (hwc[:, :, i].astype(xp.float64) for i in range(3))
        rgb = xp.stack(
            [y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), y + 1.772 * (cb - 128)], -1
        )
        return xp.clip(xp.rint(rgb), 0, 255).astype(xp.uint8), 255
    raise UnsupportedTiffError(
        f"no RGB conversion for photometric {photometric} with {hwc.shape[2]} {hwc.dtype} samples",
        path=plan.source_name,
        offset=plan.ifd_offset,
    )


def _luma(rgb: np.ndarray, xp: ModuleType) -> np.ndarray:
    """One gray channel from the first three (0.299 R + 0.587 G + 0.114 B), rounded for integers."""
    luma = rgb[:, :, :3].astype(xp.float64) @ xp.asarray(_LUMA)
    luma = xp.rint(luma) if rgb.dtype.kind in "iu" else luma
    return luma.astype(rgb.dtype)[:, :, None]


def _to_uint8(array: np.ndarray, maximum: float, xp: ModuleType) -> np.ndarray:
    if array.dtype == np.uint8 and maximum == 255:
        return array
    if array.dtype.kind == "b":
        return array.astype(xp.uint8) * xp.uint8(255)
    top = float(maximum)
    if not top:
        return xp.zeros(array.shape, xp.uint8)
    values = array.astype(xp.float64)  # one temporary, scaled in place
    if array.dtype.kind == "f":
        xp.nan_to_num(values, copy=False, nan=0.0)
    xp.clip(values, 0, top, out=values)
    values *= 255.0 / top
    xp.rint(values, out=values)
    return values.astype(xp.uint8)


def _convert_rows(
    hwc: np.ndarray, plan: DecodePlan, color: ColorMode, any_depth: bool, xp: ModuleType
) -> tuple[np.ndarray, int | float]:
    """Rows of ``(height, width, samples)`` samples converted by the module's rules, and their maximum."""
    maximum = _max_value(plan, hwc.dtype)
    if color == "srgb":
        hwc, maximum = _rgb(hwc, plan, xp)
    elif color == "gray":
        if plan.photometric in (0, 1, 4) or (plan.photometric == 5 and hwc.shape[2] == 1):
            hwc = _invert(hwc[:, :, :1], maximum, xp) if plan.photometric == 0 else hwc[:, :, :1]
        else:
            rgb, maximum = _rgb(hwc, plan, xp)
            hwc = _luma(rgb, xp)
    elif color != "unchanged":
        raise ValueError(f"unknown colour mode {color!r}")
    if not any_depth:
        return _to_uint8(hwc, maximum, xp), maximum
    return (hwc.astype(xp.uint8) if hwc.dtype.kind == "b" else hwc), maximum


def convert(
    array: np.ndarray, plan: DecodePlan, *, color: ColorMode = "srgb", any_depth: bool = False, xp: ModuleType = np
) -> tuple[np.ndarray, int]:
    """Decoded page samples -> ``(HWC array, precision)`` following the module's rules.

    The result is ``array`` itself when nothing changes; otherwise it is filled a strip of rows at a time, so
    no temporary (float64 scaling, palette indices) grows with the image: the peak is the output plus a strip.
    """
    hwc = to_hwc(array, plan, xp)
    height = hwc.shape[0]
    first, maximum = _convert_rows(hwc[:1], plan, color, any_depth, xp)
    if first.dtype == hwc.dtype and first.shape[1:] == hwc.shape[1:] and xp.may_share_memory(first, hwc):
        out = xp.ascontiguousarray(hwc)  # nothing to convert: the decoded samples are the output
    else:
        out = xp.empty((height, *first.shape[1:]), first.dtype)
        if first.nbytes:  # rows of no columns hold nothing to convert, however many an image claims
            step = max(1, _STRIP_BYTES.get(xp.__name__, _STRIP_BYTES["cupy"]) // first.nbytes)
            out[:1] = first
            for y in range(1, height, step):
                out[y : y + step] = _convert_rows(hwc[y : y + step], plan, color, any_depth, xp)[0]
    if not any_depth:
        return out, 0
    bits = int(maximum).bit_length() if out.dtype.kind == "u" and maximum >= 1 else 0
    precision = 0 if bits in (0, out.dtype.itemsize * 8) else bits
    return out, precision


def convert_plain(array: np.ndarray, color: ColorMode, any_depth: bool) -> tuple[np.ndarray, int]:
    """The same rules for a plain (non-TIFF) image, whose samples are gray or RGB(A) as decoded."""
    hwc = array[:, :, None] if array.ndim == 2 else array
    if color == "srgb":
        hwc = np.repeat(hwc[:, :, :1], 3, axis=2) if hwc.shape[2] < 3 else hwc[:, :, :3]
    elif color == "gray":
        hwc = _luma(hwc, np) if hwc.shape[2] >= 3 else hwc[:, :, :1]
    if not any_depth and hwc.dtype != np.uint8:
        maximum = float(np.iinfo(hwc.dtype).max) if hwc.dtype.kind in "iu" else 1.0
        hwc = _to_uint8(hwc, maximum, np)
    return np.ascontiguousarray(hwc), 0

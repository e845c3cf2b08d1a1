"""GPU backend: batched decode of TIFF chunks with CuPy, nvcomp and our own CUDA kernels (``cuda/*.cu``).

Imported only when a GPU backend is asked for; ``import tiffstream`` never loads CuPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BackendUnavailableError

if TYPE_CHECKING:
    from ..plan import DecodePlan

__all__ = ["GPU_COMPRESSIONS", "available", "supports"]

# TIFF compressions the GPU path decodes: none, LZW, Deflate (8, 32946), PackBits, Zstd (50000, 34926), JPEG,
# JPEG 2000 (Aperio 33003 YCbCr and 33005 RGB, 34712)
GPU_COMPRESSIONS = {
    1: "none",
    5: "lzw",
    8: "deflate",
    32946: "deflate",
    32773: "packbits",
    50000: "zstd",
    34926: "zstd",
    7: "jpeg",
    33003: "jpeg2000",
    33005: "jpeg2000",
    34712: "jpeg2000",
}


def available() -> tuple[bool, str]:
    """(True, "") when CuPy, nvcomp and a CUDA device are usable here, else (False, why not)."""
    try:
        import cupy
    except ImportError:
        return False, "CuPy is not installed (pip install 'tiffstream[gpu]')"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001  # any CUDA runtime failure means no usable device
        return False, f"no CUDA device ({exc})"
    if count == 0:
        return False, "no CUDA device"
    try:
        import nvidia.libnvcomp  # noqa: F401
    except ImportError:
        return False, "nvcomp is not installed (pip install 'tiffstream[gpu]')"
    return True, ""


def supports(plan: DecodePlan) -> str | None:
    """None when the GPU path decodes ``plan``; else why not (the CPU decodes it in hybrid mode)."""
    if plan.compression not in GPU_COMPRESSIONS:
        return f"compression {plan.compression}"
    bits = set(plan.bits_per_sample)
    itemsize = int(plan.dtype[-1]) if plan.dtype[-1].isdigit() else 0
    if len(bits) != 1 or bits.pop() != itemsize * 8 or plan.dtype[1] not in "uif":
        return f"{plan.bits_per_sample}-bit samples"
    if plan.fill_order != 1:
        return "fill order 2"
    if plan.predictor not in (1, 2, 3):
        return f"predictor {plan.predictor}"
    if plan.compression == 7:
        if itemsize != 1:
            return f"{plan.bits_per_sample}-bit JPEG"
        return _jpeg_unsupported(plan)
    if GPU_COMPRESSIONS[plan.compression] == "jpeg2000":
        return _jpeg2000_unsupported(plan, itemsize)
    if plan.photometric == 6 and plan.ycbcr_subsampling != (1, 1):
        return "subsampled YCbCr"
    return None


def _jpeg_unsupported(plan: DecodePlan) -> str | None:
    """None when nvJPEG decodes the plan's JPEG chunks as the CPU does (colour as tifffile); else why not."""
    samples = plan.samples_per_pixel
    from .nvjpeg import library  # CuPy is there: the GPU backend asks

    try:
        library()
    except BackendUnavailableError as exc:
        return f"JPEG ({exc})"
    if plan.jpeg_header is not None:
        return "NDPI restart-interval JPEG tiles"
    if plan.extra_samples or samples not in (1, 3):
        return f"JPEG with {samples} samples"
    if samples == 3 and (plan.planar_config != 1 or plan.photometric not in (2, 6)):
        return f"JPEG with photometric {plan.photometric}, planar configuration {plan.planar_config}"
    return None


def _jpeg2000_unsupported(plan: DecodePlan, itemsize: int) -> str | None:
    """None when nvJPEG2000 decodes the plan's code streams (8- and 16-bit unsigned samples); else why not."""
    from .nvjpeg2k import library  # CuPy is there: the GPU backend asks

    try:
        library()
    except BackendUnavailableError as exc:
        return f"JPEG 2000 ({exc})"
    if itemsize not in (1, 2) or plan.dtype[1] != "u":
        return f"JPEG 2000 with {plan.dtype} samples"
    if plan.planar_config != 1 and plan.samples_per_pixel > 1:  # came out wrong on an H100, cause not found
        return "planar-separate JPEG 2000"
    return None

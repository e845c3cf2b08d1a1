"""GPU backend: batched decode of TIFF chunks with CuPy, nvcomp and our own CUDA kernels (``cuda/*.cu``).

Imported only when a GPU backend is asked for; ``import tiffstream`` never loads CuPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plan import DecodePlan

__all__ = ["GPU_COMPRESSIONS", "available", "supports"]

# TIFF compressions the GPU path decodes: none, LZW, Deflate (8, 32946), PackBits, Zstd (50000, 34926)
GPU_COMPRESSIONS = {
    1: "none",
    5: "lzw",
    8: "deflate",
    32946: "deflate",
    32773: "packbits",
    50000: "zstd",
    34926: "zstd",
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
    if plan.photometric == 6 and plan.ycbcr_subsampling != (1, 1):
        return "subsampled YCbCr"
    return None

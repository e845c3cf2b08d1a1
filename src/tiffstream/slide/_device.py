"""Patches decoded on the GPU: ``read_regions(device="cuda")`` of a stored level decodes every patch's region in
one ``Decoder`` batch (nvJPEG, nvcomp; what the GPU cannot take on the host) and builds the RGBA batch on the
device, as ``read_region`` shows each patch. JPEG 2000 levels are read by host threads and uploaded: faster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..decoder import Decoder
from ..enums import BackendKind
from ..tiff.tags import Compression
from ._levels import displayed, paste

if TYPE_CHECKING:
    from ._levels import SlideLevel

__all__ = ["read_on_device"]

_JPEG2000 = (
    Compression.APERIO_JP2000_YCBC,
    Compression.JPEG_2000_LOSSY,
    Compression.APERIO_JP2000_RGB,
    Compression.JPEG2000,
)
Window = tuple[int, int, int, int, int, int]  # lx, ly, x0, y0, x1, y1 (OpenSlide._window)


def read_on_device(
    decoder: Decoder, level: SlideLevel, windows: Sequence[Window | None], size: tuple[int, int]
) -> Any | None:
    """``(len(windows), height, width, 4)`` uint8 RGBA on the current device, or None where the host path reads
    the level better: not a stored page (a reduced Hamamatsu level), or JPEG 2000."""
    found = level.level.images.image(0)
    if level.reduce != 1 or found is None:
        return None
    plan, source = found
    if plan.compression in _JPEG2000:
        # nvJPEG2000 spends milliseconds of host time per tile: 1,000 patches of the TCGA slide took 449/s on an
        # H100 against 1,736/s from our host threads (16 cores) uploaded (docs/performance.md)
        return None
    import cupy

    width, height = size
    out = cupy.zeros((len(windows), height, width, 4), cupy.uint8)
    wanted = [(number, w) for number, w in enumerate(windows) if w is not None]
    decoded = decoder.decode_plans([(plan, source, (y0, x0, y1, x1)) for _, (_, _, x0, y0, x1, y1) in wanted])
    whole, shown_whole = [], []  # opaque RGB patches inside the level: placed together, a few kernels in all
    for (number, (lx, ly, x0, y0, x1, y1)), pixels in zip(wanted, decoded):
        shown = displayed(cupy.asarray(pixels), level.level, xp=cupy)
        if shown.shape == (height, width, 3):
            whole.append(number)
            shown_whole.append(shown)
        else:
            paste(out[number, y0 - ly : y1 - ly, x0 - lx : x1 - lx], shown)
    if whole:
        at = cupy.asarray(whole)
        out[at, :, :, :3] = cupy.stack(shown_whole)
        out[at, :, :, 3] = 255
    return out


def gpu_decoder() -> Decoder:
    """The decoder patches go through: the GPU where it decodes the level's compression, else the host."""
    return Decoder(backends=[BackendKind.HYBRID_CPU_GPU])

"""tiffstream with nvImageCodec 0.9's code stream semantics: ``import tiffstream.nvimgcodec09 as nvimgcodec``.

Everything of ``tiffstream`` is here; only ``CodeStream`` differs: a sub stream made with ``image_idx``, or
a stream or sub stream made with a nonzero ``bitstream_offset`` (and no ``limit_images``), is a one-image
view whose ``num_images`` is 1, as in nvImageCodec 0.9. Plain ``tiffstream`` keeps 0.8's meaning (the seed
notebook's): such streams count the chain from where they start. docs/compatibility.md has the table.
"""

from __future__ import annotations

from enum import IntEnum

from . import *  # the whole public API, as tiffstream has it
from . import __all__ as _all
from .codestream import CodeStream as _CodeStream

# nvImageCodec also puts every enum member in its module (``nvimgcodec.CPU_ONLY``); where names repeat, the
# enum registered last wins there (``ICC_PROFILE`` is MetadataKind's, ``UNKNOWN`` MetadataType's): same order
_EXPORTED: tuple[type[IntEnum], ...] = (BackendKind, LoadHintPolicy, ImageBufferKind, ColorSpec, ChromaSubsampling)
_EXPORTED += (
    SampleFormat,
    QualityType,
    Jpeg2kBitstreamType,
    Jpeg2kProgOrder,
    MetadataKind,
    MetadataFormat,
    MetadataType,
)
_members = {name: member for enum in _EXPORTED for name, member in enum.__members__.items()}
globals().update(_members)
NVIMGCODEC_DEVICE_CURRENT = -1
NVIMGCODEC_DEVICE_CPU_ONLY = -99999

__all__ = list(_all) + list(_members) + ["NVIMGCODEC_DEVICE_CPU_ONLY", "NVIMGCODEC_DEVICE_CURRENT"]


class CodeStream(_CodeStream):  # type: ignore[no-redef]  # this module's one difference
    """``tiffstream.CodeStream`` with nvImageCodec 0.9's one-image views (module docstring)."""

    one_image_views = True

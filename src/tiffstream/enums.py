"""nvImageCodec's enumerations, with its member names and integer values (nvImageCodec 0.9), so code that
compares them with integers or stores their values keeps working. ``IntEnum``: ``ColorSpec.SRGB == 1``."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "BackendKind",
    "ChromaSubsampling",
    "ColorSpec",
    "ImageBufferKind",
    "Jpeg2kBitstreamType",
    "Jpeg2kProgOrder",
    "LoadHintPolicy",
    "MetadataFormat",
    "MetadataKind",
    "MetadataType",
    "QualityType",
    "SampleFormat",
]


class BackendKind(IntEnum):
    """Where a decoder may run."""

    CPU_ONLY = 1
    GPU_ONLY = 2
    HYBRID_CPU_GPU = 3
    HW_GPU_ONLY = 4


class ColorSpec(IntEnum):
    """Colour of a code stream, or the colour a decode asks for (``DecodeParams.color_spec``)."""

    UNCHANGED = 0
    UNKNOWN = 0  # nvImageCodec's other name for 0
    SRGB = 1
    GRAY = 2
    SYCC = 3
    YCC = 3  # nvImageCodec 0.8's name
    CMYK = 4
    YCCK = 5
    PALETTE = 6
    ICC_PROFILE = 7
    UNSUPPORTED = -1


class SampleFormat(IntEnum):
    """How colour components map to channels, interleaved (``I_*``, HWC) or planar (``P_*``, CHW)."""

    UNKNOWN = 0
    P_AUTO_COMPONENTS = 1
    P_UNCHANGED = 1
    I_AUTO_COMPONENTS = 2
    I_UNCHANGED = 2
    P_Y = 3
    I_Y = 4
    P_YA = 5
    I_YA = 6
    P_RGB = 7
    I_RGB = 8
    P_BGR = 9
    I_BGR = 10
    P_YUV = 11
    P_YCC = 11
    I_YUV = 12
    I_YCC = 12
    P_RGBA = 13
    I_RGBA = 14
    P_YCCK = 15
    I_YCCK = 16
    P_CMYK = 17
    I_CMYK = 18
    UNSUPPORTED = -1


class ChromaSubsampling(IntEnum):
    """Chroma subsampling of a code stream."""

    CSS_444 = 0
    CSS_422 = 2
    CSS_420 = 3
    CSS_440 = 4
    CSS_411 = 5
    CSS_410 = 6
    CSS_GRAY = 7
    CSS_410V = 8


class ImageBufferKind(IntEnum):
    """Where an image's buffer lives."""

    STRIDED_DEVICE = 1
    STRIDED_HOST = 2


class LoadHintPolicy(IntEnum):
    """How a backend's ``load_hint`` is used (accepted; our decoder routes by its own measure)."""

    IGNORE = 1
    FIXED = 2
    ADAPTIVE_MINIMIZE_IDLE_TIME = 3


class MetadataKind(IntEnum):
    """What a ``Metadata`` entry holds."""

    UNKNOWN = 0
    TIFF_TAG = 1
    ICC_PROFILE = 2
    EXIF = 3
    GEO = 4
    MED_APERIO = 5
    MED_PHILIPS = 6
    MED_VENTANA = 7
    MED_LEICA = 8
    MED_TRESTLE = 9
    TIFF_TAG_LIST = 10


class MetadataFormat(IntEnum):
    """How a ``Metadata`` entry's buffer is encoded."""

    UNKNOWN = 0
    RAW = 1
    JSON = 2
    XML = 3
    XMP = 4


class MetadataType(IntEnum):
    """TIFF field types of a ``Metadata`` entry's values."""

    UNKNOWN = 0
    BYTE = 1
    ASCII = 2
    SHORT = 3
    LONG = 4
    RATIONAL = 5
    SBYTE = 6
    UNDEFINED = 7
    SSHORT = 8
    SLONG = 9
    SRATIONAL = 10
    FLOAT = 11
    DOUBLE = 12
    IFD = 13
    LONG8 = 16
    SLONG8 = 17
    IFD8 = 18


class QualityType(IntEnum):
    """How ``EncodeParams.quality_value`` is read."""

    DEFAULT = 0
    LOSSLESS = 1
    QUALITY = 2
    QUANTIZATION_STEP = 3
    PSNR = 4
    SIZE_RATIO = 5


class Jpeg2kBitstreamType(IntEnum):
    J2K = 0
    JP2 = 1


class Jpeg2kProgOrder(IntEnum):
    LRCP = 0
    RLCP = 1
    RPCL = 2
    PCRL = 3
    CPRL = 4

"""TIFF enumerations and the tag-name table (member names follow tifffile's, so INVENTORY names map)."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "TAG_CODES",
    "TAG_NAMES",
    "Compression",
    "DataType",
    "ExtraSample",
    "FileType",
    "FillOrder",
    "Orientation",
    "Photometric",
    "PlanarConfig",
    "Predictor",
    "ResolutionUnit",
    "SampleFormat",
    "tag_code",
    "tag_name",
]


class DataType(IntEnum):
    """TIFF field types (the ``type`` of an IFD entry)."""

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
    UNICODE = 14
    COMPLEX = 15
    LONG8 = 16
    SLONG8 = 17
    IFD8 = 18


class Compression(IntEnum):
    """TIFF Compression tag values."""

    NONE = 1
    CCITTRLE = 2
    CCITTFAX3 = 3
    CCITTFAX4 = 4
    LZW = 5
    OJPEG = 6
    JPEG = 7
    ADOBE_DEFLATE = 8
    JBIG_BW = 9
    JBIG_COLOR = 10
    JPEG_99 = 99
    IMPACJ = 103
    KODAK_262 = 262
    JPEGXR_NDPI = 22610
    NEXT = 32766
    SONY_ARW = 32767
    PACKED_RAW = 32769
    SAMSUNG_SRW = 32770
    CCIRLEW = 32771
    SAMSUNG_SRW2 = 32772
    PACKBITS = 32773
    THUNDERSCAN = 32809
    IT8CTPAD = 32895
    IT8LW = 32896
    IT8MP = 32897
    IT8BL = 32898
    PIXARFILM = 32908
    PIXARLOG = 32909
    DEFLATE = 32946
    DCS = 32947
    APERIO_JP2000_YCBC = 33003
    JPEG_2000_LOSSY = 33004
    APERIO_JP2000_RGB = 33005
    ALT_JPEG = 33007
    JBIG = 34661
    SGILOG = 34676
    SGILOG24 = 34677
    LURADOC = 34692
    JPEG2000 = 34712
    NIKON_NEF = 34713
    JBIG2 = 34715
    MDI_BINARY = 34718
    MDI_PROGRESSIVE = 34719
    MDI_VECTOR = 34720
    LERC = 34887
    JPEG_LOSSY = 34892
    LZMA = 34925
    ZSTD_DEPRECATED = 34926
    WEBP_DEPRECATED = 34927
    PNG = 34933
    JPEGXR = 34934
    JETRAW = 48124
    ZSTD = 50000
    WEBP = 50001
    JPEGXL = 50002
    PIXTIFF = 50013
    JPEGXL_DNG = 52546
    EER_V0 = 65000
    EER_V1 = 65001
    EER_V2 = 65002


class Photometric(IntEnum):
    """TIFF PhotometricInterpretation tag values."""

    MINISWHITE = 0
    MINISBLACK = 1
    RGB = 2
    PALETTE = 3
    MASK = 4
    SEPARATED = 5
    YCBCR = 6
    CIELAB = 8
    ICCLAB = 9
    ITULAB = 10
    CFA = 32803
    LOGL = 32844
    LOGLUV = 32845
    LINEAR_RAW = 34892
    DEPTH_MAP = 51177
    SEMANTIC_MASK = 52527


class Predictor(IntEnum):
    """TIFF Predictor tag values."""

    NONE = 1
    HORIZONTAL = 2
    FLOATINGPOINT = 3
    HORIZONTALX2 = 34892
    HORIZONTALX4 = 34893
    FLOATINGPOINTX2 = 34894
    FLOATINGPOINTX4 = 34895


class PlanarConfig(IntEnum):
    """TIFF PlanarConfiguration: samples interleaved (CONTIG) or one plane per sample (SEPARATE)."""

    CONTIG = 1
    SEPARATE = 2


class SampleFormat(IntEnum):
    """TIFF SampleFormat tag values."""

    UINT = 1
    INT = 2
    IEEEFP = 3
    VOID = 4
    COMPLEXINT = 5
    COMPLEXIEEEFP = 6


class FillOrder(IntEnum):
    """Bit order within a byte."""

    MSB2LSB = 1
    LSB2MSB = 2


class ExtraSample(IntEnum):
    """Meaning of an extra sample (alpha)."""

    UNSPECIFIED = 0
    ASSOCALPHA = 1
    UNASSALPHA = 2


class FileType(IntEnum):
    """NewSubfileType bits."""

    UNDEFINED = 0
    REDUCEDIMAGE = 1
    PAGE = 2
    MASK = 4
    MACRO = 8
    ENHANCED = 16
    DNG = 65536


class Orientation(IntEnum):
    """TIFF/EXIF Orientation tag values."""

    TOPLEFT = 1
    TOPRIGHT = 2
    BOTRIGHT = 3
    BOTLEFT = 4
    LEFTTOP = 5
    RIGHTTOP = 6
    RIGHTBOT = 7
    LEFTBOT = 8


class ResolutionUnit(IntEnum):
    """TIFF ResolutionUnit tag values."""

    NONE = 1
    INCH = 2
    CENTIMETER = 3
    MILLIMETER = 4
    MICROMETER = 5


TAG_NAMES: dict[int, str] = {
    254: "NewSubfileType",
    255: "SubfileType",
    256: "ImageWidth",
    257: "ImageLength",
    258: "BitsPerSample",
    259: "Compression",
    262: "PhotometricInterpretation",
    263: "Thresholding",
    266: "FillOrder",
    269: "DocumentName",
    270: "ImageDescription",
    271: "Make",
    272: "Model",
    273: "StripOffsets",
    274: "Orientation",
    277: "SamplesPerPixel",
    278: "RowsPerStrip",
    279: "StripByteCounts",
    280: "MinSampleValue",
    281: "MaxSampleValue",
    282: "XResolution",
    283: "YResolution",
    284: "PlanarConfiguration",
    285: "PageName",
    286: "XPosition",
    287: "YPosition",
    290: "GrayResponseUnit",
    291: "GrayResponseCurve",
    292: "T4Options",
    293: "T6Options",
    296: "ResolutionUnit",
    297: "PageNumber",
    301: "TransferFunction",
    305: "Software",
    306: "DateTime",
    315: "Artist",
    316: "HostComputer",
    317: "Predictor",
    318: "WhitePoint",
    319: "PrimaryChromaticities",
    320: "ColorMap",
    321: "HalftoneHints",
    322: "TileWidth",
    323: "TileLength",
    324: "TileOffsets",
    325: "TileByteCounts",
    330: "SubIFDs",
    332: "InkSet",
    333: "InkNames",
    334: "NumberOfInks",
    336: "DotRange",
    337: "TargetPrinter",
    338: "ExtraSamples",
    339: "SampleFormat",
    340: "SMinSampleValue",
    341: "SMaxSampleValue",
    342: "TransferRange",
    343: "ClipPath",
    347: "JPEGTables",
    512: "JPEGProc",
    513: "JPEGInterchangeFormat",
    514: "JPEGInterchangeFormatLength",
    515: "JPEGRestartInterval",
    517: "JPEGLosslessPredictors",
    518: "JPEGPointTransforms",
    519: "JPEGQTables",
    520: "JPEGDCTables",
    521: "JPEGACTables",
    529: "YCbCrCoefficients",
    530: "YCbCrSubSampling",
    531: "YCbCrPositioning",
    532: "ReferenceBlackWhite",
    700: "XMP",
    32781: "ImageID",
    32932: "WangAnnotation",
    32995: "Matteing",
    32996: "DataType",
    32997: "ImageDepth",
    32998: "TileDepth",
    33432: "Copyright",
    33550: "ModelPixelScaleTag",
    33723: "IPTCNAA",
    33922: "ModelTiepointTag",
    34118: "CZ_LSMINFO",
    34264: "ModelTransformationTag",
    34377: "Photoshop",
    34665: "ExifTag",
    34675: "InterColorProfile",
    34735: "GeoKeyDirectoryTag",
    34736: "GeoDoubleParamsTag",
    34737: "GeoAsciiParamsTag",
    34853: "GPSTag",
    42112: "GDAL_METADATA",
    42113: "GDAL_NODATA",
    50706: "DNGVersion",
    50838: "ImageJMetaDataByteCounts",
    50839: "ImageJMetaData",
    65000: "OlympusSIS",
}

TAG_CODES: dict[str, int] = {name: code for code, name in TAG_NAMES.items()}


def tag_name(code: int) -> str:
    """Name of a tag code (``"Tag12345"`` style for codes not in the table)."""
    return TAG_NAMES.get(code, str(code))


def tag_code(name_or_code: str | int) -> int:
    """Tag code from its name or code; raises ``KeyError`` for unknown names."""
    if isinstance(name_or_code, int):
        return name_or_code
    if name_or_code.isdigit():
        return int(name_or_code)
    return TAG_CODES[name_or_code]

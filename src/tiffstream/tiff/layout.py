"""Image layout: from an IFD's tags to image properties (shape, dtype) and the decode plan.

Shape and dtype follow tifffile's ``TiffPage``: ``(height, width)`` for one sample, ``(height, width,
samples)`` when samples are interleaved, ``(samples, height, width)`` when planar-separate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TiffFormatError, UnsupportedTiffError
from ..plan import DecodePlan
from .ndpi import mcu_tiles
from .tags import Compression, Photometric, PlanarConfig, SampleFormat

if TYPE_CHECKING:
    from .ifd import Ifd

__all__ = ["ImageInfo", "image_info", "plan_image", "sample_dtype"]

_NO_ROWS_PER_STRIP = 2**32 - 1
_CCITT = (Compression.CCITTRLE, Compression.CCITTFAX3, Compression.CCITTFAX4)


def sample_dtype(sample_format: int, bits: int, compression: int = 1) -> np.dtype | None:
    """numpy dtype that holds one decoded sample (tifffile's rule: round bits up to a whole type); None when
    no type fits ``bits`` of that sample format."""
    if compression in (Compression.JPEG, Compression.OJPEG) and bits <= 8:
        return np.dtype("u1")
    if sample_format in (SampleFormat.UINT, SampleFormat.VOID):
        if bits == 1:
            return np.dtype("?")
        for size in (8, 16, 32, 64):
            if bits <= size:
                return np.dtype(f"u{size // 8}")
    elif sample_format == SampleFormat.INT:
        for size in (8, 16, 32, 64):
            if bits <= size:
                return np.dtype(f"i{size // 8}")
    elif sample_format == SampleFormat.IEEEFP:
        if bits == 16:
            return np.dtype("f2")
        if bits in (24, 32):
            return np.dtype("f4")
        if bits == 64:
            return np.dtype("f8")
    elif sample_format == SampleFormat.COMPLEXIEEEFP:
        if bits == 64:
            return np.dtype("c8")
        if bits == 128:
            return np.dtype("c16")
    elif sample_format == SampleFormat.COMPLEXINT and bits in (32, 64):
        return np.dtype("c8") if bits == 32 else np.dtype("c16")
    return None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """The image properties of one IFD, checked for consistency."""

    width: int
    height: int
    samples_per_pixel: int
    bits_per_sample: tuple[int, ...]
    sample_format: int
    compression: int
    photometric: int
    planar_config: int
    predictor: int
    fill_order: int
    tiled: bool
    chunk_height: int
    chunk_width: int
    dtype: np.dtype
    shape: tuple[int, ...]
    extra_samples: tuple[int, ...]
    subfile_type: int


_INTEGER_TYPES = (1, 3, 4, 6, 7, 8, 9, 13, 16, 17, 18)
# tags whose values the specification makes SHORTs: any value outside 0..65535 is corrupt (checked in _tag_ints)
_SHORT_TAGS = {
    258: "BitsPerSample",
    259: "Compression",
    262: "Photometric",
    266: "FillOrder",
    277: "SamplesPerPixel",
    284: "PlanarConfiguration",
    317: "Predictor",
    338: "ExtraSamples",
    339: "SampleFormat",
    530: "YCbCrSubSampling",
}
_MAX_PIXEL_BITS = 2**63 - 1  # an image's bits must be addressable by signed 64-bit offsets


def _tag_ints(ifd: Ifd, code: int) -> tuple[int, ...] | None:
    """Integer values of tag ``code`` (None when absent); RATIONALs become whole quotients. A tag the
    specification makes a SHORT is checked here, where every use reads it, to hold 0-65535."""
    tag = ifd.tags.get(code)
    if tag is None:
        return None
    if tag.type in (5, 10):
        pairs = tag.array().reshape(-1, 2).astype(np.int64)
        values = tuple(int(n // d) if d else 0 for n, d in pairs.tolist())
    elif tag.type in _INTEGER_TYPES:
        values = tag.ints()
    else:
        raise TiffFormatError(
            f"tag {tag.name} has field type {tag.type}, not an integer type", path=ifd.source.name, offset=ifd.offset
        )
    if code in _SHORT_TAGS and values and (min(values) < 0 or max(values) > 65535):
        raise TiffFormatError(
            f"{_SHORT_TAGS[code]} {values[:8]} is out of range (0-65535)", path=ifd.source.name, offset=ifd.offset
        )
    return values


def _offset_array(ifd: Ifd, code: int) -> np.ndarray:
    """Values of an offsets/byte-counts tag as int64 (they must be non-negative integers)."""
    tag = ifd.tags[code]
    if tag.type not in _INTEGER_TYPES:
        raise TiffFormatError(
            f"tag {tag.name} has field type {tag.type}, not an integer type", path=ifd.source.name, offset=ifd.offset
        )
    values = tag.array()
    kind, itemsize = values.dtype.kind, values.dtype.itemsize  # unsigned 8- to 32-bit values need no checks
    if kind == "u" and itemsize == 8 and values.size and int(values.max()) >= 2**63:
        raise TiffFormatError(f"tag {tag.name} holds impossible offsets", path=ifd.source.name, offset=ifd.offset)
    values = values.astype(np.int64, copy=False)
    if kind != "u" and values.size and int(values.min()) < 0:
        raise TiffFormatError(f"tag {tag.name} holds negative values", path=ifd.source.name, offset=ifd.offset)
    return values


def _int_tag(ifd: Ifd, code: int, default: int | None = None) -> int:
    """First integer value of tag ``code``; ``default`` when absent (a required tag has none)."""
    values = _tag_ints(ifd, code)
    if values is None:
        if default is None:
            raise TiffFormatError(f"the IFD lacks the required tag {code}", path=ifd.source.name, offset=ifd.offset)
        return default
    if not values:
        raise TiffFormatError(f"tag {code} has no value", path=ifd.source.name, offset=ifd.offset)
    return values[0]


def image_info(ifd: Ifd) -> ImageInfo:
    """Read and check the image properties of ``ifd`` (raises ``TiffFormatError`` on impossible values)."""
    name, offset = ifd.source.name, ifd.offset

    def fail(message: str) -> TiffFormatError:
        return TiffFormatError(message, path=name, offset=offset)

    width = _int_tag(ifd, 256)
    height = _int_tag(ifd, 257)
    if width < 0 or height < 0:
        raise fail(f"image size {width}x{height} is negative")
    photometric_tag = ifd.tags.get(262)
    spp_default = 3 if photometric_tag is not None and _int_tag(ifd, 262) in (2, 6) else 1
    spp = _int_tag(ifd, 277, spp_default)
    if not 1 <= spp <= 65535:
        raise fail(f"SamplesPerPixel {spp} is invalid")
    bits = _tag_ints(ifd, 258) or (1,)
    if len(bits) == 1 and spp > 1:
        bits = bits * spp
    if len(bits) != spp:
        bits = (bits + (bits[-1],) * spp)[:spp]
    if any(b <= 0 or b > 128 for b in bits):
        raise fail(f"BitsPerSample {bits[:8]} is invalid")
    if width * height * sum(bits) > _MAX_PIXEL_BITS:
        raise fail(f"image size {width}x{height} with {sum(bits)} bits per pixel is impossible")
    sample_format = _int_tag(ifd, 339, 1)
    compression = _int_tag(ifd, 259, 1)
    photometric = _int_tag(ifd, 262, _default_photometric(spp))
    planar = _int_tag(ifd, 284, 1)
    if planar not in (PlanarConfig.CONTIG, PlanarConfig.SEPARATE):
        raise fail(f"PlanarConfiguration {planar} is invalid")
    if spp == 1:
        planar = PlanarConfig.CONTIG
    predictor = _int_tag(ifd, 317, 1)
    fill_order = _int_tag(ifd, 266, 1)
    depth = _int_tag(ifd, 32997, 1)
    if depth > 1:
        raise UnsupportedTiffError(
            f"volumetric images (ImageDepth {depth}) are not supported", path=name, offset=offset
        )
    tiled = 322 in ifd.tags or 323 in ifd.tags
    if tiled:
        chunk_width = _int_tag(ifd, 322)
        chunk_height = _int_tag(ifd, 323)
        if chunk_width <= 0 or chunk_height <= 0:
            raise fail(f"tile size {chunk_height}x{chunk_width} is not positive")
    else:
        chunk_width = max(width, 1)
        rows = _int_tag(ifd, 278, _NO_ROWS_PER_STRIP)
        chunk_height = max(height, 1) if rows <= 0 or rows > height else rows
    bits_max = max(bits)
    if len(set(bits)) > 1 and bits_max <= 8:  # e.g. RGB565: tifffile unpacks into bytes
        found: np.dtype | None = np.dtype("u1")
    else:
        found = sample_dtype(sample_format, bits_max if len(set(bits)) > 1 else bits[0], compression)
    if found is None:
        raise UnsupportedTiffError(
            f"no data type for sample format {sample_format} with {bits_max} bits", path=name, offset=offset
        )
    dtype = found
    if spp == 1:
        shape: tuple[int, ...] = (height, width)
    elif planar == PlanarConfig.SEPARATE:
        shape = (spp, height, width)
    else:
        shape = (height, width, spp)
    return ImageInfo(
        width=width,
        height=height,
        samples_per_pixel=spp,
        bits_per_sample=bits,
        sample_format=sample_format,
        compression=compression,
        photometric=photometric,
        planar_config=planar,
        predictor=predictor,
        fill_order=fill_order,
        tiled=tiled,
        chunk_height=chunk_height,
        chunk_width=chunk_width,
        dtype=dtype,
        shape=shape,
        extra_samples=_tag_ints(ifd, 338) or (),
        subfile_type=_int_tag(ifd, 254, 0),
    )


def _default_photometric(spp: int) -> int:
    return Photometric.RGB if spp >= 3 else Photometric.MINISBLACK


def _chunk_arrays(ifd: Ifd, info: ImageInfo, expected: int) -> tuple[np.ndarray, np.ndarray]:
    name, offset = ifd.source.name, ifd.offset
    offsets_code, counts_code = (324, 325) if info.tiled else (273, 279)
    if info.tiled and offsets_code not in ifd.tags and 273 in ifd.tags:
        offsets_code, counts_code = 273, 279  # old writers stored tiles under the strip tags
    if offsets_code not in ifd.tags:
        raise TiffFormatError(
            f"the IFD has no {'TileOffsets' if info.tiled else 'StripOffsets'} tag", path=name, offset=offset
        )
    offsets = _offset_array(ifd, offsets_code)
    if counts_code in ifd.tags:
        counts = _offset_array(ifd, counts_code)
    elif info.compression == Compression.NONE and not info.tiled and expected:
        bytes_per_row = (
            -(-info.width * sum(info.bits_per_sample) // 8)
            if info.planar_config == 1
            else (-(-info.width * info.bits_per_sample[0] // 8))
        )
        counts = np.full(offsets.shape, info.chunk_height * bytes_per_row, dtype=np.int64)
    else:
        raise TiffFormatError("the IFD has no chunk byte counts", path=name, offset=offset)
    if info.compression in _CCITT and offsets.size == 1 and offsets[0] > 0 and (counts.size == 0 or counts[0] == 0):
        # a lone fax strip with no byte count: it runs to the next IFD or to the end of the file
        end = ifd.next_offset if ifd.next_offset > offsets[0] else ifd.source.size
        counts = np.array([end - offsets[0]], dtype=np.int64)
    if offsets.size < expected or counts.size < expected:
        raise TiffFormatError(
            f"expected {expected} {'tiles' if info.tiled else 'strips'}, "
            f"found {offsets.size} offsets and {counts.size} byte counts",
            path=name,
            offset=offset,
        )
    return offsets[:expected], counts[:expected]


@functools.lru_cache(maxsize=64)
def _chunk_grid(
    planes: int, down: int, across: int, chunk_height: int, chunk_width: int, height: int, tiled: bool
) -> np.ndarray:
    """A chunk table without offsets and byte counts: index, plane, y, x, height, width of every chunk."""
    expected = planes * down * across
    table = np.zeros((expected, 8), np.int64)
    index, plane, y, x, rows = table[:, 0], table[:, 3], table[:, 4], table[:, 5], table[:, 6]
    index[:] = np.arange(expected)
    within = np.divmod(index, max(down * across, 1), out=(plane, y))[1]
    np.divmod(within, max(across, 1), out=(y, x))
    y *= chunk_height
    x *= chunk_width
    if tiled:
        rows[:] = chunk_height
    else:
        np.minimum(chunk_height, height - y, out=rows)
    table[:, 7] = chunk_width
    table.flags.writeable = False
    return table


def plan_image(ifd: Ifd, info: ImageInfo | None = None) -> DecodePlan:
    """Build the decode plan of ``ifd``: image properties plus every chunk's bytes and position."""
    info = info or image_info(ifd)
    planes = info.samples_per_pixel if info.planar_config == PlanarConfig.SEPARATE else 1
    down = -(-info.height // info.chunk_height)
    across = -(-info.width // info.chunk_width)
    if info.width == 0 or info.height == 0:
        down = across = 0  # an empty image has no chunks
    expected = planes * down * across
    offsets, counts = _chunk_arrays(ifd, info, expected)
    chunk_height, chunk_width, tiled, jpeg_header = info.chunk_height, info.chunk_width, info.tiled, None
    if expected == 1 and info.compression in (6, 7) and 65426 in ifd.tags:
        tiles = mcu_tiles(ifd, info.height, info.width, int(offsets[0]), int(counts[0]))
        if tiles is not None:  # NDPI: the strip's restart intervals are its tiles
            chunk_height, chunk_width, tiled, jpeg_header = tiles.height, tiles.width, True, tiles.header
            down, across = -(-info.height // chunk_height), -(-info.width // chunk_width)
            offsets, counts = tiles.offsets, tiles.counts
    geometry = (planes, down, across, chunk_height, chunk_width, info.height, tiled)
    table = _chunk_grid(*geometry).copy()  # columns as plan.TABLE_COLUMNS; pages of a stack share one grid
    table[:, 1], table[:, 2] = offsets, counts
    colormap = None
    if 320 in ifd.tags:
        cmap = ifd.tags[320].array()
        if cmap.size % 3 == 0 and cmap.size:
            colormap = cmap.reshape(3, -1)
    jpeg_tables = ifd.tags[347].raw() if 347 in ifd.tags else None
    subsampling = _tag_ints(ifd, 530) or ()
    if len(subsampling) != 2:
        subsampling = (2, 2) if info.photometric == Photometric.YCBCR else (1, 1)
    return DecodePlan(
        source_name=ifd.source.name,
        ifd_offset=ifd.offset,
        byteorder=ifd.header.byteorder,
        width=info.width,
        height=info.height,
        samples_per_pixel=info.samples_per_pixel,
        bits_per_sample=info.bits_per_sample,
        sample_format=info.sample_format,
        dtype=info.dtype.str,
        shape=info.shape,
        compression=info.compression,
        predictor=info.predictor,
        photometric=info.photometric,
        planar_config=info.planar_config,
        fill_order=info.fill_order,
        tiled=tiled,
        chunk_height=chunk_height,
        chunk_width=chunk_width,
        table=table,
        grid_order=True,
        extra_samples=info.extra_samples,
        ycbcr_subsampling=(subsampling[0], subsampling[1]),
        t4_options=_int_tag(ifd, 292, 0),
        fill_value=_nodata(ifd, info.dtype),
        jpeg_tables=jpeg_tables,
        jpeg_header=jpeg_header,
        colormap=colormap,
    )


def _nodata(ifd: Ifd, dtype: np.dtype) -> float:
    """GDAL_NODATA (tag 42113) as the fill value of missing chunks, when it fits ``dtype``; else 0."""
    text = ifd.get(42113)
    if not isinstance(text, str):
        return 0
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return 0
    if dtype.kind in "iu":
        if not value.is_integer():
            return 0
        limits = np.iinfo(dtype)
        return int(value) if limits.min <= value <= limits.max else 0
    return value if dtype.kind in "fc" else 0

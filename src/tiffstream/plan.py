"""The decode plan: the typed seam between "where are the bytes" (tiff/) and "bytes to pixels" (backends).

A plan holds no file handle and no file bytes, so it pickles cheaply to other processes. Chunk
positions use the stored layout: ``plane`` is the sample plane (planar-separate files, else 0),
``y``/``x`` the top-left pixel of the chunk, ``height``/``width`` its stored (uncropped) size.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import TiffFormatError, TiffTruncatedError, TruncatedDataWarning

if TYPE_CHECKING:
    from .source import ByteSource

__all__ = ["TABLE_COLUMNS", "Chunk", "DecodePlan", "check_allocation", "check_chunk_size", "check_truncation"]

_MIN_ALLOCATION_LIMIT = 1 << 30  # outputs up to 1 GiB are always allowed
_MAX_EXPANSION = 2048  # beyond that, at most this many output bytes per stored byte
_MIN_CHUNK_LIMIT = 64 << 20  # one strip or tile may always decode to this many bytes

TABLE_COLUMNS = ("index", "offset", "nbytes", "plane", "y", "x", "height", "width")  # == Chunk's fields


@dataclass(frozen=True, slots=True)
class Chunk:
    """One strip or tile: where its compressed bytes are and where its pixels land."""

    index: int
    offset: int
    nbytes: int
    plane: int
    y: int
    x: int
    height: int
    width: int

    @property
    def is_missing(self) -> bool:
        """A chunk with offset or byte count 0 holds no data: its pixels are the fill value."""
        return self.offset == 0 or self.nbytes == 0


@dataclass(frozen=True, slots=True)
class DecodePlan:
    """Everything a backend needs to decode one image (one IFD), and nothing that ties it to an open file."""

    source_name: str
    ifd_offset: int
    byteorder: Literal["<", ">"]
    width: int
    height: int
    samples_per_pixel: int
    bits_per_sample: tuple[int, ...]
    sample_format: int
    dtype: str
    shape: tuple[int, ...]
    compression: int
    predictor: int
    photometric: int
    planar_config: int
    fill_order: int
    tiled: bool
    chunk_height: int
    chunk_width: int
    table: np.ndarray = field(repr=False, compare=False)  # one row per chunk: Chunk's fields, int64
    extra_samples: tuple[int, ...] = ()
    ycbcr_subsampling: tuple[int, int] = (1, 1)
    t4_options: int = 0
    fill_value: float = 0
    jpeg_tables: bytes | None = field(default=None, repr=False)
    jpeg_header: bytes | None = field(default=None, repr=False)  # NDPI: every tile's stream lacks it
    colormap: np.ndarray | None = field(default=None, repr=False, compare=False)
    # row k of ``table`` is chunk k of the regular grid (plane, then row, then column), as tiff/layout.py
    # builds it: ``table_in`` then picks a region's rows by index instead of testing every chunk
    grid_order: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.width < 0 or self.height < 0 or self.samples_per_pixel <= 0:
            raise ValueError(f"invalid image size {self.width}x{self.height}x{self.samples_per_pixel}")
        if self.chunk_height <= 0 or self.chunk_width <= 0:
            raise ValueError(f"invalid chunk size {self.chunk_height}x{self.chunk_width}")
        if self.table.ndim != 2 or self.table.shape[1] != len(TABLE_COLUMNS):
            raise ValueError(f"the chunk table must have {len(TABLE_COLUMNS)} columns, got shape {self.table.shape}")

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        """Every strip or tile, in file order of the offsets tag (built from ``table`` on each call)."""
        return tuple(Chunk(*row) for row in self.table.tolist())

    @property
    def samples_per_chunk(self) -> int:
        """Samples interleaved in one chunk: all of them, or 1 when planar-separate."""
        return 1 if self.planar_config == 2 else self.samples_per_pixel

    @property
    def num_planes(self) -> int:
        """Number of sample planes stored apart (samples per pixel when planar-separate, else 1)."""
        return self.samples_per_pixel if self.planar_config == 2 else 1

    @property
    def chunks_down(self) -> int:
        return -(-self.height // self.chunk_height)

    @property
    def chunks_across(self) -> int:
        return -(-self.width // self.chunk_width)

    @property
    def compressed_nbytes(self) -> int:
        """Total compressed bytes of all chunks."""
        return int(self.table[:, 2].sum())

    def bounds(self, region: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int]:
        """``region`` as (y0, x0, y1, x1), or the whole image; ValueError when it is not inside the image."""
        y0, x0, y1, x1 = region or (0, 0, self.height, self.width)
        if not (0 <= y0 <= y1 <= self.height and 0 <= x0 <= x1 <= self.width):
            raise ValueError(f"region {(y0, x0, y1, x1)} is outside the {self.height}x{self.width} image")
        return y0, x0, y1, x1

    def output_shape(self, region: tuple[int, int, int, int] | None = None) -> tuple[int, ...]:
        """Shape of the decoded array: tifffile's page shape, with the height and width of ``region``."""
        y0, x0, y1, x1 = region or (0, 0, self.height, self.width)
        rows, cols = y1 - y0, x1 - x0
        if self.samples_per_pixel == 1:
            return (rows, cols)
        if self.planar_config == 2:
            return (self.samples_per_pixel, rows, cols)
        return (rows, cols, self.samples_per_pixel)

    def table_in(self, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
        """Rows of ``table`` for the chunks that overlap rows ``y0:y1``, columns ``x0:x1`` (all planes)."""
        t = self.table
        if y0 <= 0 and x0 <= 0 and y1 >= self.height and x1 >= self.width:
            return t  # the whole image: every chunk (each starts inside it)
        if self.grid_order and len(t):  # only the chunks of the rows and columns that can overlap, then as below
            # (a table with rows holds planes x down x across of them: neither range below is longer than it)
            down, across = self.chunks_down, self.chunks_across
            rows = np.arange(max(y0, 0) // self.chunk_height, min(-(-y1 // self.chunk_height), down))
            cols = np.arange(max(x0, 0) // self.chunk_width, min(-(-x1 // self.chunk_width), across))
            planes = np.arange(self.num_planes) * (down * across)
            t = t[(planes[:, None, None] + rows[None, :, None] * across + cols[None, None, :]).ravel()]
        y, x, h, w = t[:, 4], t[:, 5], t[:, 6], t[:, 7]
        return t[(y < y1) & (y + h > y0) & (x < x1) & (x + w > x0)]

    def cut_chunks(self, size: int, region: tuple[int, int, int, int] | None = None) -> list[Chunk]:
        """Chunks of ``region`` that start inside a ``size``-byte source but end past it (a cut file)."""
        table = self.table_in(*self.bounds(region))
        offsets, counts = table[:, 1], table[:, 2]
        return [Chunk(*row) for row in table[(offsets > 0) & (offsets < size) & (offsets + counts > size)].tolist()]

    def shifted(self, delta: int) -> DecodePlan:
        """The same image ``delta`` bytes further on (the next images of a contiguously stored stack)."""
        table = self.table.copy()
        present = (table[:, 1] > 0) & (table[:, 2] > 0)
        table[present, 1] += delta
        return replace(self, table=table)

    def chunks_in(self, y0: int, x0: int, y1: int, x1: int) -> list[Chunk]:
        """Chunks that overlap the rectangle rows ``y0:y1``, columns ``x0:x1`` (all planes)."""
        return [Chunk(*row) for row in self.table_in(y0, x0, y1, x1).tolist()]


def check_allocation(
    plan: DecodePlan, source: ByteSource, shape: tuple[int, ...], dtype: np.dtype, *, claimed: int = 0
) -> int:
    """Refuse an output the file cannot plausibly hold (a tiny file claiming a huge image); every backend asks.

    ``claimed``: bytes of outputs already allocated for the same call from the same source (a batch of
    pages that each claim 1 GiB from one shared strip is refused as a whole). Returns the output's bytes.
    """
    nbytes = math.prod(int(n) for n in shape) * dtype.itemsize  # Python ints: no overflow
    if nbytes + claimed <= _MIN_ALLOCATION_LIMIT:
        return nbytes
    table = plan.table
    stored = int(np.dot(table[:, 1] > 0, np.maximum(table[:, 2], 0)))  # bytes of the chunks that have data
    limit = max(_MIN_ALLOCATION_LIMIT, _MAX_EXPANSION * min(stored, source.size))
    batch_limit = max(_MIN_ALLOCATION_LIMIT, _MAX_EXPANSION * source.size)
    if nbytes > limit or nbytes + claimed > batch_limit:
        what = f"{nbytes} bytes of pixels from {stored} bytes of data"
        if claimed:
            what += f" after {claimed} bytes for earlier images of the same {source.size}-byte file"
        raise TiffFormatError(
            f"the image claims {what}; refusing an allocation over {min(limit, batch_limit - claimed)} bytes",
            path=plan.source_name,
            offset=plan.ifd_offset,
        )
    return nbytes


def check_chunk_size(plan: DecodePlan, source_size: int | None = None) -> None:
    """Refuse strips or tiles whose decoded size their compressed bytes cannot justify (a 16x16 image whose
    tiles claim 65536x65536 would need a 4 GiB scratch tile). Byte counts are believed up to the size of
    the file (``source_size``): a count larger than the file stores nothing more."""
    samples = plan.samples_per_chunk
    bits = sum(plan.bits_per_sample[:samples]) if samples > 1 else plan.bits_per_sample[0]
    nbytes = plan.chunk_height * -(-plan.chunk_width * bits // 8)
    if nbytes <= _MIN_CHUNK_LIMIT:
        return
    largest = int(plan.table[:, 2].max()) if len(plan.table) else 0
    if source_size is not None:
        largest = min(largest, source_size)
    if nbytes > _MAX_EXPANSION * largest:
        raise TiffFormatError(
            f"chunks of {plan.chunk_height}x{plan.chunk_width} pixels ({nbytes} bytes decoded) from at most "
            f"{largest} stored bytes each: refusing to decode them",
            path=plan.source_name,
            offset=plan.ifd_offset,
        )


def check_truncation(
    plan: DecodePlan,
    source: ByteSource,
    region: tuple[int, int, int, int] | None = None,
    *,
    strict: bool = False,
    chunks: np.ndarray | None = None,
) -> None:
    """Say when chunks the decode needs are cut by the end of the file: a ``TruncatedDataWarning`` naming them
    (backends decode what they hold and fill the rest), or with ``strict`` a ``TiffTruncatedError``. ``chunks``:
    the region's rows of the chunk table, where the caller has them already."""
    table = plan.table_in(*plan.bounds(region)) if chunks is None else chunks
    if not len(table) or int((table[:, 1] + table[:, 2]).max()) <= source.size:
        return  # the usual case, in one reduction: every chunk the decode needs ends inside the file
    cut = plan.cut_chunks(source.size, region)
    if not cut:
        return
    listed = ", ".join(
        f"chunk {c.index} at offset {c.offset} ({source.size - c.offset} of {c.nbytes} bytes)" for c in cut[:3]
    )
    more = f" and {len(cut) - 3} more" if len(cut) > 3 else ""
    message = f"the file ends inside {len(cut)} chunk(s) of the image: {listed}{more}"
    if strict:
        raise TiffTruncatedError(message, path=plan.source_name, offset=cut[0].offset)
    warnings.warn(
        f"{plan.source_name}: IFD at {plan.ifd_offset}: {message}; their missing rows are the fill value",
        TruncatedDataWarning,
        stacklevel=3,
    )

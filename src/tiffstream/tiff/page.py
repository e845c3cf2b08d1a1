"""TiffPage: one image (a main IFD or a SubIFD) with its properties, SubIFDs and decode plan."""

from __future__ import annotations

import math
import warnings
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import TiffFormatError, TiffstreamWarning
from .geo import GeoInfo, geo_info
from .ifd import Ifd, IfdChain, parse_ifd
from .layout import ImageInfo, image_info, plan_image
from .tags import Compression, Photometric, PlanarConfig, Predictor

if TYPE_CHECKING:
    import numpy as np

    from ..plan import DecodePlan
    from ..source import ByteSource
    from .header import TiffHeader

__all__ = ["TiffPage", "read_page"]


def _enum_or_int(enum: type, value: int) -> int:
    try:
        return enum(value)
    except ValueError:
        return value


class TiffPage:
    """One image of a TIFF file. Its tags are parsed; its properties and plan are derived on first use.

    ``shape`` and ``dtype`` are those of the array the page decodes to, as tifffile reports them:
    ``(height, width)``, ``(height, width, samples)``, or ``(samples, height, width)`` when
    planar-separate.
    """

    def __init__(self, ifd: Ifd, index: int | None = None, *, is_subifd: bool = False) -> None:
        self.ifd = ifd
        self.index = index  # position in its chain (None for a page opened by offset alone)
        self.is_subifd = is_subifd  # found under a SubIFDs tag, not in the main chain

    @property
    def offset(self) -> int:
        """File offset of this page's IFD."""
        return self.ifd.offset

    @property
    def tags(self) -> Ifd:
        """The IFD's tags, by code or name: ``page.tags["ImageWidth"].value``."""
        return self.ifd

    @cached_property
    def info(self) -> ImageInfo:
        return image_info(self.ifd)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.info.shape

    @property
    def dtype(self) -> np.dtype:
        return self.info.dtype

    @property
    def axes(self) -> str:
        """tifffile's axis letters of ``shape``: "YX", "YXS" or "SYX"."""
        if len(self.shape) == 2:
            return "YX"
        return "SYX" if self.info.planar_config == PlanarConfig.SEPARATE else "YXS"

    @property
    def nbytes(self) -> int:
        """Bytes of the decoded page."""
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def width(self) -> int:
        return self.info.width

    @property
    def height(self) -> int:
        return self.info.height

    @property
    def samples_per_pixel(self) -> int:
        return self.info.samples_per_pixel

    @property
    def bits_per_sample(self) -> tuple[int, ...]:
        return self.info.bits_per_sample

    @property
    def compression(self) -> int:
        """A :class:`Compression` member (a plain int for codes no one has named)."""
        return _enum_or_int(Compression, self.info.compression)

    @property
    def photometric(self) -> int:
        return _enum_or_int(Photometric, self.info.photometric)

    @property
    def planar_config(self) -> int:
        return _enum_or_int(PlanarConfig, self.info.planar_config)

    @property
    def predictor(self) -> int:
        return _enum_or_int(Predictor, self.info.predictor)

    @property
    def is_tiled(self) -> bool:
        return self.info.tiled

    @property
    def chunk_shape(self) -> tuple[int, int]:
        """(height, width) of a tile, or (rows per strip, width) for strips."""
        return self.info.chunk_height, self.info.chunk_width

    @property
    def is_reduced(self) -> bool:
        """True for a reduced-resolution image (NewSubfileType bit 0), e.g. a pyramid level."""
        return bool(self.info.subfile_type & 1)

    @cached_property
    def description(self) -> str | None:
        """The ImageDescription tag, or None (also when its value lies outside the file: a warning)."""
        return self.text_tag(270)

    @cached_property
    def software(self) -> str:
        """The Software tag, or ''."""
        return self.text_tag(305) or ""

    def text_tag(self, code: int) -> str | None:
        """A text tag's value; one that cannot be read is ignored with a warning, as tifffile drops it."""
        try:
            value = self.ifd.get(code)
        except TiffFormatError as exc:
            warnings.warn(f"ignoring tag {code}: {exc}", TiffstreamWarning, stacklevel=3)
            return None
        return value if isinstance(value, str) else None

    @cached_property
    def layout_key(self) -> tuple[object, ...]:
        """What pages of one stack share (tifffile's page hash): geometry, chunking and sample encoding."""
        info, tags = self.info, self.ifd.tags
        separate = info.planar_config == PlanarConfig.SEPARATE
        spp = info.samples_per_pixel
        if info.tiled:
            rows = 0
        else:
            stored = tags.get(278)
            rows = info.height if stored is None or stored.count > 1 else info.chunk_height
        return (
            (spp if separate else 1, 1, info.height, info.width, 1 if separate else spp),
            rows,
            info.chunk_width if info.tiled else 0,
            info.chunk_height if info.tiled else 0,
            info.sample_format,
            info.bits_per_sample,
            info.fill_order,
            info.predictor,
            info.compression,
            info.extra_samples,
            info.photometric,
        )

    @property
    def is_contiguous(self) -> bool:
        """Uncompressed whole-byte samples stored in one run (as tifffile's ``is_final``): later images of a
        stack written that way may be read at ``plan``'s offsets plus a multiple of ``nbytes``."""
        info = self.info
        if info.compression != 1 or info.predictor != 1 or info.fill_order != 1 or info.sample_format == 5:
            return False
        if len(set(info.bits_per_sample)) != 1 or info.bits_per_sample[0] not in (8, 16, 32, 64):
            return False
        if info.photometric == Photometric.YCBCR and _ycbcr_subsampled(self.ifd):
            return False
        table = self.plan.table
        if info.tiled and (info.chunk_width != info.width or info.height % info.chunk_height or info.chunk_width % 16):
            return False
        if len(table) <= 1:
            return len(table) == 1
        offsets, counts = table[:, 1], table[:, 2]
        return int(counts.sum()) == self.nbytes and bool(
            ((counts[:-1] != 0) & (offsets[:-1] + counts[:-1] == offsets[1:])).all()
        )

    @property
    def next_offset(self) -> int:
        """Offset of the next IFD in this page's chain (0 when it is the last)."""
        return self.ifd.next_offset

    @property
    def subifd_offsets(self) -> list[int]:
        """Offsets in this page's SubIFDs tag (330), ``[]`` when it has none."""
        return self.ifd.subifd_offsets

    @cached_property
    def subifds(self) -> tuple[TiffPage, ...]:
        """The images under this page's SubIFDs tag, in order; a SubIFD's own next-IFD chain is followed."""
        pages: list[TiffPage] = []
        seen: set[int] = set()
        for start in self.subifd_offsets:
            chain = IfdChain(self.ifd.source, self.ifd.header, start)
            chain.advance()
            for offset in chain.offsets:
                if offset not in seen:
                    seen.add(offset)
                    ifd = parse_ifd(self.ifd.source, self.ifd.header, offset)
                    pages.append(type(self)(ifd, len(pages), is_subifd=True))
        return tuple(pages)

    @cached_property
    def geo(self) -> GeoInfo | None:
        """GeoTIFF georeferencing (GeoKeys, transform, EPSG, GDAL nodata and metadata), None without any."""
        return geo_info(self.ifd)

    @cached_property
    def plan(self) -> DecodePlan:
        """The decode plan: chunk offsets, byte counts and positions, and everything codecs need."""
        return plan_image(self.ifd, self.info)

    def __repr__(self) -> str:
        try:
            what = f"{self.shape} {self.dtype} {getattr(self.compression, 'name', self.compression)}"
        except Exception:  # noqa: BLE001  # repr must not fail on a broken page
            what = "(unreadable)"
        return f"<TiffPage {self.index} at {self.offset}: {what}>"


def _ycbcr_subsampled(ifd: Ifd) -> bool:
    tag = ifd.tags.get(530)
    return tag is None or tag.ints()[:2] != (1, 1)


def read_page(
    source: ByteSource, header: TiffHeader, offset: int, index: int | None = None, head: bytes | None = None
) -> TiffPage:
    """Parse the IFD at ``offset`` as a page (``head``: bytes at ``offset`` a chain walk already read)."""
    return TiffPage(parse_ifd(source, header, offset, head), index)

"""CodeStream: nvImageCodec's view of one position in a TIFF's IFD chain (pages, SubIFDs, pagination).

Semantics follow nvImageCodec: ``num_images`` counts the IFD chain from the stream's start offset
(capped by ``limit_images``); ``image_idx`` is relative to that start; properties describe the
stream's current image (image 0, or the ``image_idx`` a sub code stream was made with).
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from . import stream_format
from .enums import ChromaSubsampling, ColorSpec, SampleFormat
from .errors import ImageIndexError, TiffFormatError
from .plain import PlainImage
from .region import Region
from .source import open_source
from .tiff.file import TiffFile
from .tiff.header import is_tiff_signature
from .tiff.ifd import IfdChain
from .tiff.page import TiffPage, read_page
from .tiff.tags import Photometric

if TYPE_CHECKING:
    from .plan import DecodePlan
    from .source import ByteSource, SourceLike

__all__ = ["CodeStream", "CodeStreamView"]


class CodeStreamView:
    """Arguments of ``get_sub_code_stream`` as one value, in nvImageCodec 0.9's order: which image, which
    region, from which IFD offset (0 or None: none); ``limit_images`` (0.8) by keyword only."""

    __slots__ = ("bitstream_offset", "image_idx", "limit_images", "region")

    def __init__(
        self,
        image_idx: int = 0,
        region: Region | None = None,
        bitstream_offset: int | None = None,
        *,
        limit_images: int | None = None,
    ) -> None:
        self.image_idx = _check_index("image_idx", image_idx)
        self.region = _check_region(region)
        self.bitstream_offset = _check_offset(bitstream_offset)
        self.limit_images = _check_limit(limit_images)

    def __repr__(self) -> str:
        return (
            f"CodeStreamView(image_idx={self.image_idx}, region={self.region!r}, "
            f"bitstream_offset={self.bitstream_offset}, limit_images={self.limit_images})"
        )


def _check_region(region: object) -> Region | None:
    if region is None or isinstance(region, Region):
        return region
    if isinstance(region, int):
        raise TypeError(
            "region must be a Region, got an integer: in nvImageCodec 0.9's order the second argument is the "
            "region; pass bitstream_offset third or by keyword"
        )
    raise TypeError(f"region must be a Region, got {type(region).__name__}")


def _check_offset(offset: object) -> int | None:
    """An IFD offset; 0 means none, as in nvImageCodec 0.9 (offset 0 is the file header, never an IFD)."""
    if offset is None:
        return None
    return _check_index("bitstream_offset", offset) or None


def _check_index(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if number < 0:
        raise TypeError(f"{name} must be a non-negative integer, got {number}")
    return number


def _check_limit(limit: object) -> int | None:
    if limit is None:
        return None
    number = _check_index("limit_images", limit)
    return number or None  # 0 means no limit, as in nvImageCodec


class _Chain:
    """An IFD chain walked lazily up to a limit; shared by a stream and the sub streams made from it."""

    def __init__(self, tiff: TiffFile, start: int, limit: int | None) -> None:
        self.tiff = tiff
        self.start = start
        self.limit = limit
        self.source = tiff.source
        self._chain = IfdChain(tiff.source, tiff.header, start)
        self._pages: dict[int, TiffPage] = {}

    def _walk(self) -> None:
        self._chain.walk(self.limit)  # idempotent, and safe when threads race to walk first

    @property
    def num_images(self) -> int:
        self._walk()
        return len(self._chain.offsets)

    @property
    def next_offset(self) -> int | None:
        self._walk()
        return self._chain.next_offset

    def check_start(self) -> None:
        """Fail now, not at first use, when the start offset is no IFD (or no image IFD)."""
        ifd = self.page(0).ifd
        if 256 not in ifd.tags or 257 not in ifd.tags:
            raise TiffFormatError(
                f"offset {self.start} does not point at an image IFD (no ImageWidth/ImageLength tags)",
                path=self.tiff.name,
                offset=self.start,
            )

    def page(self, index: int) -> TiffPage:
        page = self._pages.get(index)
        if page is None:
            if index == 0:
                offset = self.start
            else:
                self._walk()
                offset = self._chain.offsets[index]
            page = read_page(self.tiff.source, self.tiff.header, offset, index, self._chain.take_head(offset))
            page = self._pages.setdefault(index, page)  # one page per index, whichever thread made it first
        return page


class _PlainChain:
    """The one-image "chain" of a plain (non-TIFF) image file."""

    limit = None
    start = 0
    num_images = 1
    next_offset = None

    def __init__(self, plain: PlainImage) -> None:
        self.plain = plain
        self.source = plain.source

    def page(self, index: int) -> PlainImage:
        return self.plain


class CodeStream:
    """A TIFF opened at one IFD chain: the file's main pages, or a SubIFD chain, optionally paginated.

    Both generations of nvImageCodec's TIFF API are served. By default a stream keeps 0.8's (and the seed
    notebook's) meaning: ``num_images`` counts the chain from the stream's start, also for sub streams and
    for ``bitstream_offset`` streams. ``tiffstream.nvimgcodec09.CodeStream`` has 0.9's: a sub stream made with
    ``image_idx`` or a nonzero ``bitstream_offset`` (without ``limit_images``) is a one-image view
    (``num_images == 1``). Every other name of both generations works in both (docs/compatibility.md).

    Parameters
    ----------
    source
        A path, ``bytes``/buffer, or binary file object.
    bitstream_offset
        Absolute file offset of the IFD to start at (a main IFD or a SubIFD); the file's first IFD when None
        or 0.
    limit_images
        (nvImageCodec 0.8) Visit at most this many IFDs of the chain (None or 0: all);
        ``next_bitstream_offset`` then says where to resume.

    Raises
    ------
    NotATiffError
        The source is not a TIFF.
    TiffFormatError
        ``bitstream_offset`` does not point at an IFD, or the file is corrupt.
    TypeError
        A negative or non-integer offset or limit.
    """

    one_image_views: ClassVar[bool] = False  # nvImageCodec 0.9's sub streams (tiffstream.nvimgcodec09)

    def __init__(self, source: SourceLike, bitstream_offset: int | None = None, limit_images: int | None = None):
        byte_source = open_source(source)
        offset = _check_offset(bitstream_offset)
        if not is_tiff_signature(byte_source.read_at_most(0, 4)):
            plain = PlainImage(byte_source)  # raises NotATiffError for anything else
            if offset is not None:
                raise TypeError(f"a {plain.codec_name} file has no IFDs to start at (bitstream_offset)")
            self._setup(_PlainChain(plain), 0, None)  # type: ignore[arg-type]
            return
        tiff = TiffFile(byte_source)
        limit = _check_limit(limit_images)
        view = self.one_image_views and offset is not None and limit is None
        chain = _Chain(tiff, tiff.header.first_ifd_offset if offset is None else offset, 1 if view else limit)
        chain.check_start()
        self._setup(chain, 0, None, CodeStreamView(0, None, offset) if view else None)

    @classmethod
    def _derived(cls, chain: _Chain, image_idx: int, region: Region | None, view: CodeStreamView) -> CodeStream:
        stream = cls.__new__(cls)
        stream._setup(chain, image_idx, region, view)
        return stream

    def _setup(self, chain: _Chain, image_idx: int, region: Region | None, view: CodeStreamView | None = None) -> None:
        self._chain = chain
        self._image_idx = image_idx
        self._region = region
        self._view = view  # how a sub stream was made (None for a root stream)

    # -- navigation ---------------------------------------------------------------------------

    @property
    def num_images(self) -> int:
        """Number of IFDs in this stream's chain, from its start offset, capped by ``limit_images``; 1 for a
        one-image view (``one_image_views``, nvImageCodec 0.9)."""
        if self.one_image_views and self._view is not None and self._view.limit_images is None:
            return 1
        return self._chain.num_images

    @property
    def next_bitstream_offset(self) -> int | None:
        """(nvImageCodec 0.8) Offset to resume from when ``limit_images`` stopped the walk and more IFDs
        follow, else None."""
        return self._chain.next_offset

    @property
    def bitstream_offset(self) -> int:
        """Offset of the first IFD of this stream's chain."""
        return self._chain.start

    @property
    def ifd_offset(self) -> int | None:
        """(nvImageCodec 0.9) Offset of the current image's IFD; None for a plain image file."""
        return None if isinstance(self._chain, _PlainChain) else self.page.offset

    @property
    def next_ifd_offset(self) -> int | None:
        """(nvImageCodec 0.9) Offset of the IFD after the current image's in its chain; None at the end."""
        return None if isinstance(self._chain, _PlainChain) else (self.page.next_offset or None)

    @property
    def image_idx(self) -> int:
        """Index (from the stream's start) of the image this stream stands for."""
        return self._image_idx

    @property
    def region(self) -> Region | None:
        return self._region

    @property
    def view(self) -> CodeStreamView | None:
        """(nvImageCodec 0.9) How this sub stream was made (image, region, offset); None for a root stream."""
        return self._view

    def get_sub_code_stream(
        self,
        image_idx: int | CodeStreamView = 0,
        region: Region | None = None,
        bitstream_offset: int | None = None,
        *,
        limit_images: int | None = None,
    ) -> CodeStream:
        """A stream for image ``image_idx`` of this chain, or of the chain starting at ``bitstream_offset``.

        Arguments in nvImageCodec 0.9's order (a ``CodeStreamView`` may stand for all of them); 0.8's
        ``limit_images`` by keyword. Without ``bitstream_offset`` (None or 0) the sub stream keeps this
        stream's chain (and ``num_images``, unless ``limit_images`` is given) and stands for image
        ``image_idx`` of it. With it, the chain starts at that absolute offset and ``image_idx`` counts from
        there. With ``one_image_views`` (0.9) the result is a one-image view, and a nonzero offset takes
        image 0 only.

        Raises
        ------
        ImageIndexError
            ``image_idx`` is past the end ("Image index #N out of range (0, M-1)"); a ``RuntimeError``.
        TypeError
            A negative or non-integer argument, or an integer where the region goes.
        """
        if isinstance(image_idx, CodeStreamView):
            given = image_idx
            image_idx, bitstream_offset, limit_images = given.image_idx, given.bitstream_offset, given.limit_images
            region = given.region if region is None else region
        index = _check_index("image_idx", image_idx)
        region = _check_region(region)
        offset = _check_offset(bitstream_offset)
        limit = _check_limit(limit_images)
        plain = isinstance(self._chain, _PlainChain)
        if plain and (offset or limit):
            raise TypeError(f"a {self.codec_name} file has one image: no bitstream_offset or limit_images")
        views = self.one_image_views and limit is None
        if views and offset is not None and index:
            raise ImageIndexError(
                f"a bitstream_offset selects one IFD: image_idx must be 0, got {index}",
                path=self._chain.source.name,
                offset=offset,
            )
        if plain:
            chain = self._chain
        elif offset is not None:
            chain = _Chain(self._chain.tiff, offset, 1 if views else limit)
            chain.check_start()
        elif limit is not None and limit != self._chain.limit:
            chain = _Chain(self._chain.tiff, self._chain.start, limit)
        else:
            chain = self._chain
        # image 0 is the chain's validated start: no walk of the chain to check it (a remote COG window
        # reads its first IFD only)
        count = (
            1
            if not index
            else self.num_images
            if views and offset is None and self._view is not None
            else chain.num_images
        )
        if index >= count:
            raise ImageIndexError(
                f"Image index #{index} out of range (0, {count - 1})",
                path=self._chain.source.name,
                offset=chain.start,
            )
        if views and offset is None and self._view is not None:
            index = self._image_idx  # a view of a view: the same image
        made = CodeStreamView(index, region, offset, limit_images=limit)
        stream = type(self)._derived(chain, index, region, made)
        if region is not None:
            region.check_within(stream.height, stream.width)
        return stream

    # -- properties of the current image -------------------------------------------------------

    @property
    def page(self) -> TiffPage:
        """The :class:`TiffPage` this stream stands for (our own API; a ``PlainImage`` for plain files)."""
        return self._chain.page(self._image_idx)

    @property
    def tiff(self) -> TiffFile:
        """(ours) The open TIFF the stream reads (its series, vendor metadata, ...); an error for plain images."""
        if isinstance(self._chain, _PlainChain):
            raise TypeError(f"a {self.codec_name} file is not a TIFF")
        return self._chain.tiff

    @property
    def source(self) -> ByteSource:
        """Where the stream's bytes come from."""
        return self._chain.source

    @property
    def plain_image(self) -> PlainImage | None:
        """The decoded-on-demand image of a plain JPEG/PNG/JPEG 2000/WebP/BMP file; None for a TIFF."""
        chain = self._chain
        return chain.plain if isinstance(chain, _PlainChain) else None

    @property
    def plan(self) -> DecodePlan:
        """Decode plan of the current image."""
        return self.page.plan

    @property
    def codec_name(self) -> str:
        """``"tiff"``, or the codec of a plain image file (``"jpeg"``, ``"png"``, ``"jpeg2k"``, ...)."""
        plain = self.plain_image
        return "tiff" if plain is None else plain.codec_name

    @property
    def width(self) -> int:
        return self.page.width

    @property
    def height(self) -> int:
        return self.page.height

    @property
    def num_channels(self) -> int:
        """Samples per pixel; 3 for palette images, which decode to RGB."""
        page = self.page
        if page.photometric == Photometric.PALETTE and page.samples_per_pixel == 1:
            return 3
        return page.samples_per_pixel

    @property
    def dtype(self) -> np.dtype:
        """Sample type (1-bit images report ``uint8``, as they decode to bytes)."""
        dtype = self.page.dtype
        return np.dtype("uint8") if dtype == np.bool_ else dtype

    @property
    def precision(self) -> int:
        """Significant bits per sample; 0 when that is the full width of ``dtype`` (nvImageCodec's rule)."""
        bits = max(self.page.bits_per_sample)
        return 0 if bits == self.dtype.itemsize * 8 else bits

    @property
    def tile_height(self) -> int:
        """Tile height, or rows per strip for a stripped image."""
        return self.page.chunk_shape[0]

    @property
    def tile_width(self) -> int:
        """Tile width, or the image width for a stripped image."""
        return self.page.chunk_shape[1]

    @property
    def num_tiles_y(self) -> int:
        return -(-self.height // self.tile_height)

    @property
    def num_tiles_x(self) -> int:
        return -(-self.width // self.tile_width)

    @property
    def subifd_offsets(self) -> list[int]:
        """Offsets in the current image's SubIFDs tag (all of them), ``[]`` when there are none."""
        return self.page.subifd_offsets

    @property
    def tile_offset_x(self) -> int:
        """(nvImageCodec 0.9) Where the tile grid starts left of the image: always 0 in TIFF."""
        return 0

    @property
    def tile_offset_y(self) -> int:
        """(nvImageCodec 0.9) Where the tile grid starts above the image: always 0 in TIFF."""
        return 0

    @property
    def color_spec(self) -> ColorSpec:
        """(nvImageCodec 0.9) The stored colour (a decode's output colour is what ``DecodeParams`` asks)."""
        return stream_format.color_spec(self.page)

    @property
    def sample_format(self) -> SampleFormat:
        """(nvImageCodec 0.9) The stored samples' layout and components (``I_RGB``, ``P_Y``, ...)."""
        return stream_format.sample_format(self.page)

    @property
    def chroma_subsampling(self) -> ChromaSubsampling:
        """(nvImageCodec 0.9) ``CSS_GRAY``, YCbCr's subsampling, or 4:4:4."""
        return stream_format.chroma_subsampling(self.page)

    @property
    def size(self) -> int:
        """Size of the whole source (the encoded stream) in bytes."""
        return self._chain.source.size

    @property
    def capacity(self) -> int:
        """(nvImageCodec 0.9) Bytes of the buffer behind the stream: the source's size (nothing is copied)."""
        return self._chain.source.size

    @property
    def pin_memory(self) -> bool:
        """(nvImageCodec 0.9) Whether the stream's buffer is pinned: never (it is read where it lies)."""
        return False

    def __buffer__(self, flags: int) -> memoryview:
        """The encoded bytes (the whole source), for ``memoryview(stream)`` (Python 3.12+) and ``bytes()``."""
        return memoryview(self._chain.source.read_at_most(0, self._chain.source.size))

    def __bytes__(self) -> bytes:
        return bytes(self._chain.source.read_at_most(0, self._chain.source.size))

    def __repr__(self) -> str:
        return (
            f"CodeStream({self._chain.source.name!r}, bitstream_offset={self._chain.start}, "
            f"image_idx={self._image_idx}, codec_name={self.codec_name!r}, size={self.width}x{self.height}x{self.num_channels})"
        )

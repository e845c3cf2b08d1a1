"""TiffFile: an open TIFF with a lazy page sequence, SubIFDs and OME metadata (our own API)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import ImageIndexError, OmeXmlError, OmeXmlWarning, UnsupportedTiffError
from ..source import ByteSource, open_source
from .header import TiffHeader, parse_header
from .ifd import IfdChain, parse_ifd
from .ome import OmeMetadata, is_ome_xml, parse_ome_xml
from .page import TiffPage
from .series import Level, Series, find_series

if TYPE_CHECKING:
    from ..source import SourceLike

__all__ = ["TiffFile", "TiffPages"]

_Self = TypeVar("_Self", bound="TiffFile")


class TiffPages(Sequence[TiffPage]):
    """The main IFD chain as a lazy sequence: IFDs are found as indexing or iteration reaches them."""

    def __init__(self, tiff: TiffFile, start: int) -> None:
        self._tiff = tiff
        self._chain = IfdChain(tiff.source, tiff.header, start)
        self._pages: dict[int, TiffPage] = {}

    @property
    def offsets(self) -> list[int]:
        """Offsets of every main IFD (walks the whole chain)."""
        self._chain.advance()
        return list(self._chain.offsets)

    def __len__(self) -> int:
        self._chain.advance()
        return len(self._chain.offsets)

    def has(self, count: int) -> bool:
        """Whether the chain holds at least ``count`` pages (walks no further than that)."""
        return self._chain.ensure(count)

    @overload
    def __getitem__(self, index: int) -> TiffPage: ...

    @overload
    def __getitem__(self, index: slice) -> list[TiffPage]: ...

    def __getitem__(self, index: int | slice) -> TiffPage | list[TiffPage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
        if index < 0 or not self._chain.ensure(index + 1):
            raise IndexError(f"page index {index} out of range for a file of {len(self._chain.offsets)} pages")
        page = self._pages.get(index)
        if page is None:
            offset = self._chain.offsets[index]
            ifd = parse_ifd(self._tiff.source, self._tiff.header, offset, self._chain.take_head(offset))
            page = self._pages.setdefault(index, self._tiff.page_type(ifd, index))  # one page per index
        return page

    def __iter__(self) -> Iterator[TiffPage]:
        index = 0
        while self._chain.ensure(index + 1):
            yield self[index]
            index += 1


class TiffFile:
    """An open TIFF file. Nothing is read beyond the header until pages are asked for.

    Example
    -------
    >>> import tiffstream
    >>> with tiffstream.open(tiffstream.sample_path()) as tif:  # doctest: +SKIP
    ...     print(len(tif.pages), tif.pages[0].shape, [p.shape for p in tif.pages[0].subifds])
    """

    page_type: type[TiffPage] = TiffPage  # what pages are made as (the public reader adds decoding)

    def __init__(self, source: SourceLike) -> None:
        self.source: ByteSource = open_source(source)
        self._owns_source = self.source is not source
        self._linked: list[TiffFile] = []
        try:
            self.header: TiffHeader = parse_header(self.source)
        except BaseException:
            self.close()
            raise
        self.pages = TiffPages(self, self.header.first_ifd_offset)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def byteorder(self) -> str:
        return self.header.byteorder

    @property
    def is_bigtiff(self) -> bool:
        return self.header.bigtiff

    def page_at(self, offset: int) -> TiffPage:
        """The page whose IFD is at ``offset`` (a main IFD or a SubIFD)."""
        return self.page_type(parse_ifd(self.source, self.header, offset))

    @cached_property
    def ome(self) -> OmeMetadata | None:
        """OME-XML metadata of the first page, or None (with an ``OmeXmlWarning`` when it is malformed)."""
        description = self.pages[0].description
        if not description or not is_ome_xml(description):
            return None
        try:
            return parse_ome_xml(description)
        except OmeXmlError as exc:
            warnings.warn(f"{self.name}: ignoring malformed OME-XML: {exc.message}", OmeXmlWarning, stacklevel=2)
            return None

    def ome_model(self, validate: bool = False) -> Any:
        """The first page's OME-XML as an ``ome_types.OME`` model (needs ome-types; ``validate``: against the
        OME schema, needs xmlschema too), or None without OME-XML."""
        description = self.pages[0].description
        if not description or not is_ome_xml(description):
            return None
        try:
            from ome_types import from_xml
        except ImportError as exc:
            raise ImportError("TiffFile.ome_model needs ome-types: pip install ome-types") from exc
        return from_xml(description, validate=validate)

    @property
    def is_ome(self) -> bool:
        return self.ome is not None

    @cached_property
    def series(self) -> list[Series]:
        """The images the file holds as a user means them: stacks with axes, each with its pyramid levels.

        Found from the file's layout (OME, ImageJ, tifffile's shaped, Aperio, Hamamatsu, Leica, Ventana,
        Philips, PerkinElmer, else alike pages and halving pyramids), as ``tifffile.TiffFile.series`` does.
        """
        return find_series(self)

    @property
    def vendor_metadata(self) -> dict[str, Any]:
        """The first series' layout metadata (Aperio key=values, NDPI tags, SCN/BIF/Philips/QPI XML ...)."""
        return self.series[0].metadata if self.series else {}

    def series_level(self, series: int = 0, level: int = 0) -> Level:
        """Level ``level`` of series ``series``; an ``ImageIndexError`` naming the valid range otherwise."""
        found = self.series
        if not isinstance(series, int) or not 0 <= series < len(found):
            valid = f"0-{len(found) - 1}" if found else "none"
            raise ImageIndexError(f"series {series} is out of range (series {valid})", path=self.name)
        return found[series].level(level)

    def open_linked(self, path: str) -> TiffFile:
        """Open another file this one refers to (OME planes in other files), closed with this one."""
        other = type(self)(path)
        self._linked.append(other)
        return other

    def read_level(
        self,
        level: Level,
        *,
        key: int | slice | Sequence[int] | None = None,
        region: Any = None,
        out: Any = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> Any:
        """Decode a level; the container alone cannot (``tiffstream.open`` gives a reader that does)."""
        raise UnsupportedTiffError("decoding needs a reader: open the file with tiffstream.open()", path=self.name)

    def close(self) -> None:
        """Close the file handle if this object opened it (and the files it linked)."""
        for other in self._linked:
            other.close()
        if self._owns_source:
            self.source.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "BigTIFF" if self.is_bigtiff else "TIFF"
        return f"<TiffFile {self.name!r} {kind} {self.byteorder}>"

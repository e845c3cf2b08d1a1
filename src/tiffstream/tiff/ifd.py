"""IFD parsing: one image file directory at a time, tag values decoded lazily, chains walked with loop checks.

Nothing here reads more than the IFD asked for: walking a chain reads each IFD's entry count and
next-IFD link; parsing an IFD reads its entry table; a tag's value at an offset is read on first use.
"""

from __future__ import annotations

import functools
import struct
import threading
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import IfdChainWarning, TiffFormatError, TiffTruncatedError, UnsupportedTiffError
from .tags import DataType, tag_code, tag_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..source import ByteSource
    from .header import TiffHeader

__all__ = ["Ifd", "IfdChain", "Tag", "parse_ifd", "read_next_ifd_offset", "walk_ifd_chain"]

# Item size and numpy type code of each field type (RATIONALs are pairs of 32-bit integers).
_TYPE_INFO: dict[int, tuple[int, str]] = {
    DataType.BYTE: (1, "u1"),
    DataType.ASCII: (1, "u1"),
    DataType.SHORT: (2, "u2"),
    DataType.LONG: (4, "u4"),
    DataType.RATIONAL: (8, "u4"),
    DataType.SBYTE: (1, "i1"),
    DataType.UNDEFINED: (1, "u1"),
    DataType.SSHORT: (2, "i2"),
    DataType.SLONG: (4, "i4"),
    DataType.SRATIONAL: (8, "i4"),
    DataType.FLOAT: (4, "f4"),
    DataType.DOUBLE: (8, "f8"),
    DataType.IFD: (4, "u4"),
    DataType.UNICODE: (2, "u2"),
    DataType.COMPLEX: (8, "f4"),
    DataType.LONG8: (8, "u8"),
    DataType.SLONG8: (8, "i8"),
    DataType.IFD8: (8, "u8"),
}
_PAIRED = (DataType.RATIONAL, DataType.SRATIONAL, DataType.COMPLEX)
_RAW_BYTES = (DataType.UNDEFINED, DataType.BYTE)
# struct codes of the integer field types, for small values (cheaper than a numpy array per tag)
_INT_STRUCT = {1: "B", 3: "H", 4: "I", 6: "b", 7: "B", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q"}
_SMALL_COUNT = 64
# The first read of an IFD fetches this many bytes, enough for the entry table of most IFDs.
_IFD_READ_AHEAD = 1024


class Tag:
    """One IFD entry: code, field type, count, and a value decoded on first access."""

    __slots__ = ("_data", "_ifd", "_value", "code", "count", "type", "value_offset")

    def __init__(self, ifd: Ifd, code: int, dtype: int, count: int, inline: bytes | None, value_offset: int) -> None:
        self._ifd = ifd
        self.code = code
        self.type = dtype
        self.count = count
        self._data = inline  # the value bytes when they fit in the entry, else None until read
        self.value_offset = value_offset  # file offset of the value (of the entry field when inline)
        self._value: Any = _UNSET

    @property
    def name(self) -> str:
        return tag_name(self.code)

    @property
    def nbytes(self) -> int:
        """Size of the value in bytes (0 for an unknown field type)."""
        info = _TYPE_INFO.get(self.type)
        return self.count * info[0] if info else 0

    def raw(self) -> bytes:
        """The value's bytes as stored in the file (read from the source on first use)."""
        if self._data is None:
            self._data = self._ifd.read_value_bytes(self)
        return self._data

    def array(self) -> np.ndarray:
        """The value as a 1-D numpy array in native byte order (RATIONALs as ``(count, 2)``)."""
        info = _TYPE_INFO.get(self.type)
        if info is None:
            raise UnsupportedTiffError(
                f"tag {self.name} has unknown field type {self.type}",
                path=self._ifd.source.name,
                offset=self._ifd.offset,
            )
        arr = np.frombuffer(self.raw(), dtype=self._ifd.header.byteorder + info[1])
        arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
        return arr.reshape(-1, 2) if self.type in _PAIRED else arr

    def ints(self) -> tuple[int, ...]:
        """The values of an integer-typed tag as Python ints (the caller checks the type)."""
        code = _INT_STRUCT.get(self.type)
        if code is not None and self.count <= _SMALL_COUNT:
            return _int_struct(self._ifd.header.byteorder, self.count, code).unpack(self.raw())
        return tuple(self.array().tolist())

    @property
    def value(self) -> Any:
        """Python value: int/float for one number, tuple for several, str for ASCII, bytes for BYTE/UNDEFINED.

        RATIONALs are flat ``(numerator, denominator, ...)`` tuples, as tifffile gives them.
        """
        if self._value is _UNSET:
            self._value = self._decode()
        return self._value

    def _decode(self) -> Any:
        if self.type == DataType.ASCII:
            return _decode_ascii(self.raw())
        if self.type in _RAW_BYTES:
            return self.raw()
        values = self.array()
        if self.type in _PAIRED:
            flat = tuple(values.ravel().tolist())
            return flat
        if self.count == 1:
            return values[0].item()
        return tuple(values.tolist())

    def __repr__(self) -> str:
        return f"<Tag {self.code} {self.name} type={self.type} count={self.count}>"


_UNSET = object()


@functools.lru_cache(maxsize=512)
def _int_struct(byteorder: str, count: int, code: str) -> struct.Struct:
    """A compiled struct for ``count`` integers of one type (tags are read by the thousand)."""
    return struct.Struct(f"{byteorder}{count}{code}")


def _decode_ascii(data: bytes) -> str:
    data = data.rstrip(b"\x00")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class Ifd:
    """A parsed image file directory: its offset, tags by code, and the offset of the next IFD (0 = none)."""

    __slots__ = ("header", "invalid_entries", "next_offset", "offset", "source", "tags")

    def __init__(self, source: ByteSource, header: TiffHeader, offset: int, tags: dict[int, Tag], next_offset: int):
        self.invalid_entries: list[tuple[int, int, int]] = []  # (code, field type, count) of unreadable entries
        self.source = source
        self.header = header
        self.offset = offset
        self.tags = tags
        self.next_offset = next_offset

    def __contains__(self, key: int | str) -> bool:
        try:
            return tag_code(key) in self.tags
        except KeyError:
            return False

    def __getitem__(self, key: int | str) -> Tag:
        code = tag_code(key)
        try:
            return self.tags[code]
        except KeyError:
            raise KeyError(f"the IFD at {self.offset} has no {tag_name(code)} tag ({code})") from None

    def __iter__(self) -> Iterator[Tag]:
        return iter(self.tags.values())

    def __len__(self) -> int:
        return len(self.tags)

    def get(self, key: int | str, default: Any = None) -> Any:
        """Value of a tag by code or name, or ``default`` when the IFD lacks it."""
        tag = self.tags.get(tag_code(key))
        return default if tag is None else tag.value

    @property
    def subifd_offsets(self) -> list[int]:
        """Offsets listed in the SubIFDs tag (330), ``[]`` when there is none."""
        tag = self.tags.get(330)
        if tag is None:
            return []
        if tag.type not in (DataType.LONG, DataType.IFD, DataType.LONG8, DataType.IFD8):
            raise TiffFormatError(
                f"the SubIFDs tag has field type {tag.type}, not an offset type",
                path=self.source.name,
                offset=self.offset,
            )
        return [int(v) for v in tag.array().tolist()]

    def read_value_bytes(self, tag: Tag) -> bytes:
        """Read the out-of-line value of ``tag``, checked against the source size."""
        info = _TYPE_INFO.get(tag.type)
        if info is None:
            return b""
        nbytes = tag.count * info[0]
        if tag.value_offset + nbytes > self.source.size:
            raise TiffTruncatedError(
                f"tag {tag.name} ({tag.code}) of the IFD at {self.offset} claims {tag.count} values "
                f"({nbytes} bytes) at offset {tag.value_offset}, past the end of the {self.source.size}-byte file",
                path=self.source.name,
                offset=tag.value_offset,
            )
        return self.source.read(tag.value_offset, nbytes)

    def __repr__(self) -> str:
        return f"<Ifd at {self.offset} with {len(self.tags)} tags, next {self.next_offset}>"


def _check_ifd_offset(source: ByteSource, header: TiffHeader, offset: int) -> None:
    if offset < header.header_size or offset + header.count_size > source.size:
        raise TiffFormatError(
            f"IFD offset {offset} is outside the file ({source.size} bytes)", path=source.name, offset=offset
        )


def _entry_count(source: ByteSource, header: TiffHeader, offset: int, head: bytes) -> int:
    """Number of entries of the IFD at ``offset``, checked to fit in the file (its next link may not)."""
    count = struct.unpack_from(header.byteorder + ("Q" if header.bigtiff else "H"), head, 0)[0]
    end = offset + header.count_size + count * header.entry_size
    if end > source.size:
        raise TiffTruncatedError(
            f"IFD with {count} entries at offset {offset} ends at {end}, past the end of the {source.size}-byte file",
            path=source.name,
            offset=offset,
        )
    return int(count)


def parse_ifd(source: ByteSource, header: TiffHeader, offset: int, head: bytes | None = None) -> Ifd:
    """Parse the IFD at ``offset``: its entry table; values at offsets are read later, on demand, except those
    inside the bytes read with the table. ``head``: bytes at ``offset`` already read (by a chain walk)."""
    _check_ifd_offset(source, header, offset)
    if head is None:
        head = source.read_at_most(offset, _IFD_READ_AHEAD)
    count = _entry_count(source, header, offset, head)
    table_size = header.count_size + count * header.entry_size + header.offset_size + (4 * count if header.ndpi else 0)
    if len(head) < table_size:
        head = source.read_at_most(offset, table_size)
    bo = header.byteorder
    inline_size = 8 if header.bigtiff else 4
    start, esize, head_size = header.count_size, header.entry_size, len(head)
    entries: Any = struct.iter_unpack(bo + ("HHQQ" if header.bigtiff else "HHII"), head[start : start + count * esize])
    if header.ndpi:
        entries = _ndpi_entries(entries, head, start + count * esize + 8, count)
    ifd = Ifd(source, header, offset, {}, 0)
    tags, type_info = ifd.tags, _TYPE_INFO
    field = start + 4 + inline_size  # where the first entry's value field sits in ``head``
    for i, (code, dtype, n, value) in enumerate(entries):
        info = type_info.get(dtype)
        if info is None:  # an unknown field type cannot be read: keep the entry aside, as tifffile drops it
            ifd.invalid_entries.append((code, dtype, n))
            continue
        nbytes = n * info[0]
        if header.ndpi and dtype == DataType.LONG8:  # a value past 32 bits (_ndpi_entries)
            tag = Tag(ifd, code, dtype, n, struct.pack("<Q", value), offset + field + i * esize)
        elif nbytes <= inline_size:
            at = field + i * esize
            tag = Tag(ifd, code, dtype, n, head[at : at + nbytes], offset + at)
        else:  # ``value`` is the file offset; values read with the table need no second read
            at = value - offset
            tag = Tag(
                ifd, code, dtype, n, head[at : at + nbytes] if 0 <= at and at + nbytes <= head_size else None, value
            )
        if code not in tags:  # the first of duplicated tags wins, as in libtiff
            tags[code] = tag
    link = start + count * header.entry_size
    raw_link = head[link : link + header.offset_size]
    ifd.next_offset = _next_link(source, offset + link, raw_link, header.link_format)
    return ifd


def _ndpi_entries(entries: Any, head: bytes, high_at: int, count: int) -> Iterator[tuple[int, int, int, int]]:
    """NDPI entries with their value fields widened by the high 32 bits stored after the next link: an
    offset past 4 GiB, or a single LONG value past 32 bits (given as a LONG8, which classic TIFF lacks)."""
    highs = struct.unpack_from(f"<{count}I", head, high_at) if len(head) >= high_at + 4 * count else (0,) * count
    for (code, dtype, n, value), high in zip(entries, highs, strict=True):
        if not high:
            yield code, dtype, n, value
        elif n * _TYPE_INFO.get(dtype, (8,))[0] > 4:
            yield code, dtype, n, value | high << 32
        elif n == 1 and dtype in (DataType.LONG, DataType.IFD):
            yield code, DataType.LONG8, n, value | high << 32
        else:
            yield code, dtype, n, value


def _next_link(source: ByteSource, link_offset: int, raw: bytes, fmt: str) -> int:
    """Decode a next-IFD link; one cut off by the end of the file ends the chain, with a warning."""
    if len(raw) < struct.calcsize(fmt):
        warnings.warn(
            f"{source.name}: the next-IFD link at offset {link_offset} is cut off by the end of the file",
            IfdChainWarning,
            stacklevel=4,
        )
        return 0
    return int(struct.unpack(fmt, raw)[0])


class _Window:
    """Read-ahead for chain walks: IFDs packed close together (many small pages) share one read."""

    __slots__ = ("data", "last_end", "size", "source", "start")
    SMALL, LARGE = _IFD_READ_AHEAD, 64 * 1024

    def __init__(self, source: ByteSource) -> None:
        self.source = source
        self.start = 0
        self.data = b""
        self.last_end = -1  # where the previous IFD's table ended

    def get(self, offset: int, nbytes: int) -> bytes:
        """Up to ``nbytes`` bytes at ``offset`` (fewer only at the end of the source)."""
        rel = offset - self.start
        if 0 <= rel and rel + nbytes <= len(self.data):
            return self.data[rel : rel + nbytes]
        dense = 0 <= offset - self.last_end < self.LARGE
        self.data = self.source.read_at_most(offset, max(nbytes, self.LARGE if dense else self.SMALL))
        self.start = offset
        return self.data[:nbytes]


def _next_ifd_offset(source: ByteSource, header: TiffHeader, offset: int, window: _Window) -> int:
    _check_ifd_offset(source, header, offset)
    count = _entry_count(source, header, offset, window.get(offset, header.count_size))
    link = header.count_size + count * header.entry_size
    window.last_end = offset + link + header.offset_size
    return _next_link(source, offset + link, window.get(offset + link, header.offset_size), header.link_format)


def read_next_ifd_offset(source: ByteSource, header: TiffHeader, offset: int) -> int:
    """Offset of the IFD after the one at ``offset`` (0 when it is the last), reading only what that needs."""
    return _next_ifd_offset(source, header, offset, _Window(source))


class IfdChain:
    """Incremental walk of an IFD chain: offsets found so far, the next one to visit, loop detection.

    The IFD at ``start`` must be valid. A later link that loops back, points outside the file or at
    an IFD that cannot be read ends the chain with an ``IfdChainWarning`` (libtiff and tifffile stop
    there too, keeping the images before it); with ``strict=True`` it raises ``TiffFormatError``.

    Safe to share between threads: walks take a lock, and ``offsets`` only ever grows, so an offset once
    listed stays where it is.
    """

    __slots__ = ("_heads", "_lock", "_seen", "header", "next_offset", "offsets", "source", "strict")
    KEEP_HEADS = 1024  # bytes read at sparse IFDs, kept for parse_ifd (about 1 KiB each)

    def __init__(self, source: ByteSource, header: TiffHeader, start: int, *, strict: bool = False) -> None:
        self.source = source
        self.header = header
        self.strict = strict
        self.offsets: list[int] = []
        self._seen: set[int] = set()
        self._heads: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self.next_offset: int | None = start or None  # None once the chain has ended

    def take_head(self, offset: int) -> bytes | None:
        """The bytes the walk read at the IFD at ``offset``, if kept (once): parsing it then needs no read."""
        return self._heads.pop(offset, None)

    @property
    def complete(self) -> bool:
        return self.next_offset is None

    def advance(self, count: int | None = None) -> int:
        """Visit up to ``count`` more IFDs (all when None); returns how many were visited."""
        with self._lock:
            return self._advance(count)

    def _advance(self, count: int | None) -> int:
        visited = 0
        offset = self.next_offset
        window = _Window(self.source)
        header, seen, offsets = self.header, self._seen, self.offsets
        bo = header.byteorder
        unpack_count = struct.Struct(bo + ("Q" if header.bigtiff else "H")).unpack_from
        unpack_link = struct.Struct(header.link_format).unpack_from
        csize, esize, osize = header.count_size, header.entry_size, header.offset_size
        lowest, size = header.header_size, self.source.size
        while offset is not None and (count is None or visited < count):
            # fast path: the whole IFD table is in the read-ahead window and every check passes
            rel = offset - window.start
            if offset >= lowest and offset not in seen and 0 <= rel and rel + csize <= len(window.data):
                link = rel + csize + unpack_count(window.data, rel)[0] * esize
                if link + osize <= len(window.data) and window.start + link + osize <= size:
                    seen.add(offset)
                    following = unpack_link(window.data, link)[0] or None
                    # the link first, then the offset: a thread that sees N offsets without the lock
                    # (ensure, walk) sees the link after the N-th too
                    self.next_offset = following
                    offsets.append(offset)
                    visited += 1
                    window.last_end = window.start + link + osize
                    offset = following
                    continue
            try:
                if offset in self._seen:
                    raise TiffFormatError(
                        f"IFD chain loops back to offset {offset} after {len(self.offsets)} IFDs",
                        path=self.source.name,
                        offset=offset,
                    )
                following = _next_ifd_offset(self.source, self.header, offset, window)
            except TiffFormatError as exc:
                if self.strict or not self.offsets:
                    raise
                warnings.warn(f"IFD chain ends early: {exc}", IfdChainWarning, stacklevel=4)
                offset = None
                break
            self._seen.add(offset)
            self.next_offset = following or None  # before the offset, as above
            self.offsets.append(offset)
            if window.start == offset and len(window.data) <= _Window.SMALL:
                if len(self._heads) >= self.KEEP_HEADS:
                    del self._heads[next(iter(self._heads))]
                self._heads[offset] = window.data
            visited += 1
            offset = following or None
        self.next_offset = offset
        return visited

    def ensure(self, count: int) -> bool:
        """Walk until at least ``count`` offsets are known; False when the chain is shorter."""
        if len(self.offsets) < count:
            with self._lock:  # another thread may have walked there while this one waited
                missing = count - len(self.offsets)
                if missing > 0:
                    self._advance(missing)
        return len(self.offsets) >= count

    def walk(self, limit: int | None = None) -> None:
        """Walk to the end of the chain, or until ``limit`` offsets are known (idempotent)."""
        if limit is None:
            self.advance()
        else:
            self.ensure(limit)


def walk_ifd_chain(
    source: ByteSource, header: TiffHeader, start: int, limit: int | None = None
) -> tuple[list[int], int | None]:
    """Offsets of the IFDs chained from ``start`` (at most ``limit``), and where the walk would go on.

    Returns ``(offsets, next_offset)``: ``next_offset`` is None when the chain ended, else the offset
    of the first IFD not visited because ``limit`` was reached. A chain that returns to an IFD it has
    visited raises ``TiffFormatError``.
    """
    chain = IfdChain(source, header, start)
    chain.advance(limit)
    return chain.offsets, chain.next_offset

"""A tiny, independent TIFF byte builder for tests: arbitrary entries, links, byte orders, BigTIFF.

It exists to make files no well-behaved writer makes (loops, links past the end, odd field types),
so the reader can be tested on them. It never imports tiffstream.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

ITEM_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
PACK = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 13: "I", 16: "Q", 17: "q", 18: "Q"}


@dataclass
class Entry:
    code: int
    type: int
    values: object  # a tuple of numbers, bytes (BYTE/UNDEFINED/ASCII), or raw value bytes with count given
    count: int | None = None

    def payload(self, bo: str) -> tuple[int, bytes]:
        if isinstance(self.values, (bytes, bytearray)):
            data = bytes(self.values)
            size = ITEM_SIZE.get(self.type, 1)
            return (self.count if self.count is not None else len(data) // size), data
        values = tuple(self.values)  # type: ignore[arg-type]
        if self.type in (5, 10):
            fmt = "I" if self.type == 5 else "i"
            return len(values) // 2, struct.pack(f"{bo}{len(values)}{fmt}", *values)
        return len(values), struct.pack(f"{bo}{len(values)}{PACK[self.type]}", *values)


@dataclass
class IfdSpec:
    entries: list[Entry]
    next: int | str | None = "auto"  # "auto": the next IfdSpec (0 after the last); int: raw offset; "ifd:K": IFD K
    subifds: list[int] = field(default_factory=list)  # indices of IfdSpecs referenced by tag 330
    data: bytes = b""  # pixel bytes placed after the IFD; StripOffsets entries may use the marker -1


def image_entries(width: int = 4, height: int = 3, *, bits: int = 8, data_marker: bool = True) -> list[Entry]:
    """Entries of a minimal uncompressed gray image whose one strip is the IFD's ``data``."""
    return [
        Entry(256, 3, (width,)),
        Entry(257, 3, (height,)),
        Entry(258, 3, (bits,)),
        Entry(259, 3, (1,)),
        Entry(262, 3, (1,)),
        Entry(273, 4, (0xFFFFFFFF,) if data_marker else (0,)),
        Entry(277, 3, (1,)),
        Entry(278, 3, (height,)),
        Entry(279, 4, (width * height * bits // 8,)),
    ]


def build_tiff(ifds: list[IfdSpec], *, byteorder: str = "<", bigtiff: bool = False) -> tuple[bytes, list[int]]:
    """Lay out ``ifds`` after the header; returns the file bytes and the offset of each IFD."""
    bo = byteorder
    osize, esize, csize = (8, 20, 8) if bigtiff else (4, 12, 2)
    ofmt = "Q" if bigtiff else "I"
    header_size = 16 if bigtiff else 8
    # first pass: sizes, to know every IFD's offset
    offsets, pos = [], header_size
    for spec in ifds:
        offsets.append(pos)
        entries = _entries(spec, [0] * len(ifds))
        pos += csize + len(entries) * esize + osize
        pos += sum(_aligned(len(e.payload(bo)[1])) for e in entries if len(e.payload(bo)[1]) > osize)
        pos += _aligned(len(spec.data))
    out = bytearray()
    out += (b"II" if bo == "<" else b"MM") + struct.pack(bo + "H", 43 if bigtiff else 42)
    out += struct.pack(bo + "HHQ", 8, 0, offsets[0]) if bigtiff else struct.pack(bo + "I", offsets[0])
    for index, spec in enumerate(ifds):
        assert len(out) == offsets[index]
        entries = sorted(_entries(spec, offsets), key=lambda e: e.code)
        table_end = offsets[index] + csize + len(entries) * esize + osize
        extra = bytearray()
        data_offset = table_end + sum(_aligned(len(e.payload(bo)[1])) for e in entries if len(e.payload(bo)[1]) > osize)
        out += struct.pack(bo + ("Q" if bigtiff else "H"), len(entries))
        for entry in entries:
            if entry.code in (273, 324) and entry.values == (0xFFFFFFFF,):
                entry = Entry(entry.code, entry.type, (data_offset,))
            count, payload = entry.payload(bo)
            out += struct.pack(bo + "HH", entry.code, entry.type) + struct.pack(bo + ofmt, count)
            if len(payload) <= osize:
                out += payload.ljust(osize, b"\0")
            else:
                out += struct.pack(bo + ofmt, table_end + len(extra))
                extra += payload.ljust(_aligned(len(payload)), b"\0")
        nxt = spec.next
        if nxt == "auto":
            link = offsets[index + 1] if index + 1 < len(ifds) else 0
        elif isinstance(nxt, str) and nxt.startswith("ifd:"):
            link = offsets[int(nxt[4:])]
        else:
            link = int(nxt or 0)
        out += struct.pack(bo + ofmt, link)
        out += extra
        out += spec.data.ljust(_aligned(len(spec.data)), b"\0")
    return bytes(out), offsets


def _entries(spec: IfdSpec, offsets: list[int]) -> list[Entry]:
    entries = list(spec.entries)
    if spec.subifds:
        entries.append(Entry(330, 4, tuple(offsets[i] for i in spec.subifds)))
    return entries


def _aligned(n: int) -> int:
    return n + (n & 1)


def many_tiny_pages(count: int, *, byteorder: str = "<") -> bytes:
    """A classic TIFF of ``count`` 1x1 uint8 pages, each IFD followed by its one pixel (fast for 100k pages)."""
    bo = byteorder
    entries = [
        (256, 3, 1),
        (257, 3, 1),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, None),
        (277, 3, 1),
        (278, 3, 1),
        (279, 4, 1),
    ]
    ifd_size = 2 + len(entries) * 12 + 4
    stride = ifd_size + 2  # the pixel, padded to a word
    out = bytearray(8 + count * stride)
    out[0:8] = (b"II" if bo == "<" else b"MM") + struct.pack(bo + "HI", 42, 8)
    for page in range(count):
        start = 8 + page * stride
        parts = [struct.pack(bo + "H", len(entries))]
        for code, dtype, value in entries:
            value = start + ifd_size if value is None else value
            parts.append(struct.pack(bo + "HHI", code, dtype, 1))
            parts.append(struct.pack(bo + ("HH" if dtype == 3 else "I"), *((value, 0) if dtype == 3 else (value,))))
        parts.append(struct.pack(bo + "I", start + stride if page + 1 < count else 0))
        parts.append(bytes([page % 256, 0]))
        out[start : start + stride] = b"".join(parts)
    return bytes(out)


def implausible_image() -> bytes:
    """A 64-byte strip claiming 200,000 x 200,000 uint16 pixels: every backend must refuse to allocate for it."""
    entries = [
        Entry(256, 4, (200_000,)),
        Entry(257, 4, (200_000,)),
        Entry(258, 3, (16,)),
        Entry(259, 3, (8,)),
        Entry(262, 3, (1,)),
        Entry(273, 4, (0xFFFFFFFF,)),
        Entry(277, 3, (1,)),
        Entry(278, 4, (200_000,)),
        Entry(279, 4, (64,)),
    ]
    return build_tiff([IfdSpec(entries, data=bytes(64))])[0]


def _lzw_codes(data: bytes, segment_codes: list[int], full: int) -> Iterator[tuple[int, int]]:
    """The codes of ``data`` in TIFF LZW, each with its index since the last Clear: a Clear first and after
    ``segment_codes[k]`` codes of segment k (0: an empty segment; later segments: ``full`` codes), an EOI last."""
    yield 256, 0
    index, segment, word = 0, 0, b""
    table = {bytes([b]): b for b in range(256)}
    for byte in data:
        longer = word + bytes([byte])
        if longer in table:
            word = longer
            continue
        yield table[word], index
        index += 1
        word = bytes([byte])
        if index < (segment_codes[segment] if segment < len(segment_codes) else full):
            table[longer] = 257 + index  # the entry this code makes, as the reader counts (258 + index - 1)
            continue
        yield 256, index
        index, segment = 0, segment + 1
        while segment < len(segment_codes) and segment_codes[segment] == 0:
            yield 256, 0
            segment += 1
        table = {bytes([b]): b for b in range(256)}
    if word:
        yield table[word], index
        index += 1
    yield 257, index


def old_style_lzw(data: bytes) -> bytes:
    """``data`` as LZW of libtiff before 5.0: LSB-first codes, each width one code later than today's ("no
    early change"), a Clear every 3,744 codes. No library writes it any more (libtiff and imagecodecs still read
    it); for tests only."""
    widths = [9] * 255 + [10] * 512 + [11] * 1024 + [12] * 2305  # by the code's index since the last Clear
    bits, nbits = 0, 0
    for code, index in _lzw_codes(data, [], 3744):
        bits |= code << nbits
        nbits += widths[index]
    return bits.to_bytes((nbits + 7) // 8, "little")


def lzw_with_clears(data: bytes, segment_codes: list[int]) -> bytes:
    """``data`` as today's TIFF LZW (MSB-first, early change) with a Clear after ``segment_codes[k]`` codes of
    segment k (later segments: 3836, as libtiff when its table is full), as libtiff clears early where the
    compression worsens; for tests of decoders that split a chunk at its Clears."""
    bits, nbits = 0, 0
    for code, index in _lzw_codes(data, segment_codes, 3836):
        width = 9 if index <= 253 else 10 if index <= 765 else 11 if index <= 1789 else 12
        bits = bits << width | code
        nbits += width
    return (bits << (-nbits % 8)).to_bytes((nbits + 7) // 8, "big")

"""Structure-aware TIFF mutations: find the IFDs, entries, links and chunks of a file, then rewrite them.

Independent of tiffstream (it must not share the reader's bugs): a small scanner of the header, the IFD
chain and SubIFDs, and a set of mutation operators that each rewrite one structure. ``mutant(data, rng)``
applies one to three of them; the same bytes and seed give the same mutant.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

ITEM_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
MAX_IFDS = 64  # IFDs scanned per file (chain and SubIFDs together)
OFFSET_TAGS = (273, 324)  # StripOffsets, TileOffsets
COUNT_TAGS = (279, 325)  # StripByteCounts, TileByteCounts
# tag -> values a hostile file would put there (dimensions, depths, layouts, codes)
TAG_VALUES: dict[int, tuple[int, ...]] = {
    256: (0, 1, 2, 7, 4096, 56128, 65535, 65536, 2**31 - 1, 2**32 - 1),  # ImageWidth
    257: (0, 1, 3, 4096, 65535, 65536, 2**31 - 1, 2**32 - 1),  # ImageLength
    258: (0, 1, 2, 4, 7, 12, 16, 24, 32, 64, 65, 128, 255, 65535),  # BitsPerSample
    259: (0, 1, 2, 3, 4, 5, 6, 7, 8, 32773, 32946, 33003, 34712, 34887, 34925, 50000, 50001, 65535),
    262: (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 32844, 34892, 65535),  # Photometric
    266: (0, 1, 2, 3),  # FillOrder
    273: (0, 1, 8, 2**31, 2**32 - 1),  # StripOffsets
    277: (0, 1, 2, 3, 4, 5, 255, 65535),  # SamplesPerPixel
    278: (0, 1, 2, 3, 65535, 2**32 - 1),  # RowsPerStrip
    279: (0, 1, 2, 2**31, 2**32 - 1),  # StripByteCounts
    284: (0, 1, 2, 3),  # PlanarConfiguration
    317: (0, 1, 2, 3, 4, 34892, 34894),  # Predictor
    320: (0, 1, 65535),  # ColorMap
    322: (0, 1, 3, 16, 65535, 65536, 2**31 - 1),  # TileWidth
    323: (0, 1, 3, 16, 65535, 65536, 2**31 - 1),  # TileLength
    324: (0, 1, 8, 2**31, 2**32 - 1),  # TileOffsets
    325: (0, 1, 2, 2**31, 2**32 - 1),  # TileByteCounts
    330: (0, 1, 8, 2**32 - 1),  # SubIFDs
    338: (0, 1, 2, 3, 65535),  # ExtraSamples
    339: (0, 1, 2, 3, 4, 5, 6, 7, 65535),  # SampleFormat
    347: (0, 1, 2**32 - 1),  # JPEGTables
    530: (0, 1, 2, 3, 4, 65535),  # YCbCrSubSampling
    32997: (0, 1, 2, 65535),  # ImageDepth
}
COUNTS = (0, 1, 2, 3, 255, 65535, 2**20, 2**28, 2**31 - 1, 2**32 - 1)


@dataclass
class Entry:
    position: int  # file offset of the 12- or 20-byte entry
    code: int
    type: int
    count: int
    value_at: int  # file offset of the value (inline: inside the entry)


@dataclass
class Ifd:
    offset: int
    entries: list[Entry]
    link_at: int  # file offset of the next-IFD link


@dataclass
class Layout:
    """What the scanner found: byte order, kind, IFDs, and each chunk's (offset, byte count)."""

    byteorder: str
    bigtiff: bool
    ifds: list[Ifd] = field(default_factory=list)
    chunks: list[tuple[int, int]] = field(default_factory=list)

    @property
    def offset_format(self) -> str:
        return "Q" if self.bigtiff else "I"


def scan(data: bytes) -> Layout | None:
    """The layout of a TIFF or BigTIFF, or None when ``data`` is not one."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return None
    bo = "<" if data[:2] == b"II" else ">"
    magic = struct.unpack_from(bo + "H", data, 2)[0]
    if magic not in (42, 43):
        return None
    bigtiff = magic == 43
    if bigtiff and len(data) < 16:
        return None
    layout = Layout(bo, bigtiff)
    first = struct.unpack_from(bo + ("Q" if bigtiff else "I"), data, 8 if bigtiff else 4)[0]
    todo, seen = [first], set()
    while todo and len(layout.ifds) < MAX_IFDS:
        offset = todo.pop(0)
        if offset in seen or not _scan_ifd(data, layout, offset, todo):
            continue
        seen.add(offset)
    return layout


def _scan_ifd(data: bytes, layout: Layout, offset: int, todo: list[int]) -> bool:
    bo, big = layout.byteorder, layout.bigtiff
    count_size, entry_size, inline = (8, 20, 8) if big else (2, 12, 4)
    if offset < 8 or offset + count_size > len(data):
        return False
    count = struct.unpack_from(bo + ("Q" if big else "H"), data, offset)[0]
    link_at = offset + count_size + count * entry_size
    if link_at + inline > len(data):
        return False
    entries = []
    for i in range(count):
        at = offset + count_size + i * entry_size
        code, dtype, n, value = struct.unpack_from(bo + ("HHQQ" if big else "HHII"), data, at)
        nbytes = n * ITEM_SIZE.get(dtype, 1)
        value_at = at + 4 + (8 if big else 4) if nbytes <= inline else value
        entries.append(Entry(at, code, dtype, n, value_at))
    layout.ifds.append(Ifd(offset, entries, link_at))
    by_code = {e.code: e for e in entries}
    for offsets_code, counts_code in zip(OFFSET_TAGS, COUNT_TAGS):
        if offsets_code in by_code and counts_code in by_code:
            starts = _values(data, layout, by_code[offsets_code])
            sizes = _values(data, layout, by_code[counts_code])
            layout.chunks += [(s, n) for s, n in zip(starts, sizes) if 0 < s < len(data) and n > 0]
    if 330 in by_code:
        todo += _values(data, layout, by_code[330])
    following = struct.unpack_from(bo + layout.offset_format, data, link_at)[0]
    if following:
        todo.append(following)
    return True


def _values(data: bytes, layout: Layout, entry: Entry, limit: int = 4096) -> list[int]:
    """Integer values of an entry (up to ``limit``), [] when they are not integers or not in the file."""
    code = {3: "H", 4: "I", 13: "I", 16: "Q", 18: "Q"}.get(entry.type)
    if code is None:
        return []
    count = min(entry.count, limit)
    end = entry.value_at + count * ITEM_SIZE[entry.type]
    if end > len(data):
        return []
    return list(struct.unpack_from(f"{layout.byteorder}{count}{code}", data, entry.value_at))


def _put(data: bytearray, at: int, fmt: str, value: int) -> None:
    size = struct.calcsize(fmt)
    if 0 <= at and at + size <= len(data):
        struct.pack_into(fmt, data, at, value & ((1 << (8 * size)) - 1))


def _entry(layout: Layout, rng: np.random.Generator, codes: tuple[int, ...] | None = None) -> Entry | None:
    entries = [e for ifd in layout.ifds for e in ifd.entries if codes is None or e.code in codes]
    return entries[int(rng.integers(len(entries)))] if entries else None


def _value_format(layout: Layout, entry: Entry) -> str:
    return layout.byteorder + {1: "B", 3: "H", 4: "I", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q"}.get(
        entry.type, "I"
    )


def op_tag_value(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """A known tag's value (or one of its values) set to a hostile value for that tag."""
    entry = _entry(layout, rng, tuple(TAG_VALUES))
    if entry is None:
        return "none"
    value = int(rng.choice(TAG_VALUES[entry.code]))
    index = int(rng.integers(max(1, min(entry.count, 64))))
    fmt = _value_format(layout, entry)
    _put(data, entry.value_at + index * struct.calcsize(fmt), fmt, value)
    return f"tag {entry.code}[{index}] = {value}"


def op_entry_type(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """An entry's field type rewritten (unknown types, RATIONAL SubIFDs, LONG8 dimensions, ...)."""
    entry = _entry(layout, rng)
    if entry is None:
        return "none"
    new = int(rng.choice((0, 1, 2, 3, 4, 5, 7, 10, 11, 12, 13, 16, 17, 19, 255)))
    _put(data, entry.position + 2, layout.byteorder + "H", new)
    return f"tag {entry.code} type {entry.type} -> {new}"


def op_entry_count(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """An entry's value count rewritten."""
    entry = _entry(layout, rng)
    if entry is None:
        return "none"
    new = int(rng.choice(COUNTS))
    _put(data, entry.position + 4, layout.byteorder + ("Q" if layout.bigtiff else "I"), new)
    return f"tag {entry.code} count {entry.count} -> {new}"


def op_entry_offset(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """An entry's value field (an offset for out-of-line values) pointed elsewhere."""
    entry = _entry(layout, rng)
    if entry is None:
        return "none"
    size = len(data)
    new = int(rng.choice((0, 1, 8, size - 1, size, size + 1, 2**31, 2**32 - 1, int(rng.integers(size)))))
    fmt = layout.byteorder + layout.offset_format
    _put(data, entry.position + 4 + (8 if layout.bigtiff else 4), fmt, new)
    return f"tag {entry.code} value field -> {new}"


def op_ifd_count(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """An IFD's entry count rewritten."""
    if not layout.ifds:
        return "none"
    ifd = layout.ifds[int(rng.integers(len(layout.ifds)))]
    new = int(rng.choice((0, 1, len(ifd.entries) - 1, len(ifd.entries) + 1, 4096, 65535)))
    _put(data, ifd.offset, layout.byteorder + ("Q" if layout.bigtiff else "H"), max(new, 0))
    return f"IFD {ifd.offset} count -> {new}"


def op_next_link(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """A next-IFD link pointed at itself, an earlier IFD, past the end, or anywhere."""
    if not layout.ifds:
        return "none"
    k = int(rng.integers(len(layout.ifds)))
    ifd = layout.ifds[k]
    earlier = layout.ifds[int(rng.integers(k + 1))].offset
    new = int(rng.choice((ifd.offset, earlier, 0, len(data), len(data) + 7, 2**32 - 1, int(rng.integers(max(len(data), 1))))))
    _put(data, ifd.link_at, layout.byteorder + layout.offset_format, new)
    return f"IFD {ifd.offset} next -> {new}"


def op_subifd_loop(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """A SubIFDs entry pointed back at a main IFD (its own parent, often)."""
    entry = _entry(layout, rng, (330,))
    if entry is None or not layout.ifds:
        return op_next_link(data, layout, rng)
    target = layout.ifds[int(rng.integers(len(layout.ifds)))].offset
    _put(data, entry.value_at, _value_format(layout, entry), target)
    return f"SubIFDs -> {target}"


def op_chunk_table(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """One chunk's offset or byte count corrupted: zero, huge, shifted, or past the end."""
    entry = _entry(layout, rng, OFFSET_TAGS + COUNT_TAGS)
    if entry is None:
        return "none"
    index = int(rng.integers(max(1, min(entry.count, 4096))))
    fmt = _value_format(layout, entry)
    at = entry.value_at + index * struct.calcsize(fmt)
    if at + struct.calcsize(fmt) > len(data):
        return "none"
    old = struct.unpack_from(fmt, data, at)[0]
    size = len(data)
    new = int(rng.choice((0, 1, old + 1, old - 1, old * 2, old + 4096, size, size - 1, 2**31, 2**32 - 1)))
    _put(data, at, fmt, new)
    return f"tag {entry.code}[{index}] {old} -> {new}"


def op_truncate(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """The file cut short: inside its last chunk's data (most often) or anywhere."""
    chunks = [c for c in layout.chunks if c[0] < len(data)]
    if chunks and rng.random() < 0.7:
        start, nbytes = max(chunks, key=lambda c: c[0] + c[1])
        cut = int(rng.integers(start, min(start + nbytes, len(data)) + 1))
    else:
        cut = int(rng.integers(len(data) + 1))
    del data[cut:]
    return f"cut at {cut}"


def op_chunk_bytes(data: bytearray, layout: Layout, rng: np.random.Generator) -> str:
    """Bytes inside one chunk's compressed data overwritten."""
    chunks = [c for c in layout.chunks if c[0] + c[1] <= len(data)]
    if not chunks:
        return "none"
    start, nbytes = chunks[int(rng.integers(len(chunks)))]
    for _ in range(int(rng.integers(1, 9))):
        data[start + int(rng.integers(nbytes))] = int(rng.integers(256))
    return f"chunk at {start} damaged"


OPERATORS = (
    op_tag_value,
    op_tag_value,
    op_entry_type,
    op_entry_count,
    op_entry_offset,
    op_ifd_count,
    op_next_link,
    op_subifd_loop,
    op_chunk_table,
    op_truncate,
    op_chunk_bytes,
    op_chunk_bytes,
)


def mutant(data: bytes, rng: np.random.Generator) -> tuple[bytes, list[str]]:
    """One to three mutations of ``data``; returns the mutant and what was done."""
    layout = scan(data)
    out = bytearray(data)
    if layout is None:  # not a TIFF: cut it or damage it anyway
        cut = int(rng.integers(len(out) + 1))
        return bytes(out[:cut]), [f"cut at {cut}"]
    done = []
    for _ in range(int(rng.integers(1, 4))):
        operator = OPERATORS[int(rng.integers(len(OPERATORS)))]
        done.append(operator(out, layout, rng))
    return bytes(out), done

"""Serialise one IFD: sorted entries, values inline or after the table, positions of entries to patch later."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

__all__ = ["IfdBuilder", "SerializedIfd"]

# field type -> numpy type code (RATIONALs as pairs of uint32)
_NUMPY = {
    1: "u1",
    2: "u1",
    3: "u2",
    4: "u4",
    5: "u4",
    6: "i1",
    7: "u1",
    8: "i2",
    9: "i4",
    10: "i4",
    11: "f4",
    12: "f8",
    13: "u4",
    16: "u8",
    17: "i8",
    18: "u8",
}
_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


@dataclass
class SerializedIfd:
    """IFD bytes for a given file offset, and where its next-IFD link and each entry's value field lie."""

    data: bytes
    offset: int
    link_position: int
    entry_positions: dict[int, int] = field(default_factory=dict)  # tag code -> file offset of its entry


class IfdBuilder:
    """Collects tags (code, field type, values) and lays them out as an IFD at a file offset."""

    def __init__(self, byteorder: str = "<", bigtiff: bool = False) -> None:
        self.byteorder = byteorder
        self.bigtiff = bigtiff
        self._tags: dict[int, tuple[int, int, bytes]] = {}

    def add(self, code: int, dtype: int, values: object) -> None:
        """Add tag ``code`` of field type ``dtype``: a str (ASCII), bytes (BYTE/UNDEFINED) or numbers."""
        if dtype == 2:
            if isinstance(values, str):
                raw = values.encode("utf-8")
            elif isinstance(values, (bytes, bytearray, memoryview)):
                raw = bytes(values)
            else:
                raise TypeError(f"an ASCII tag takes str or bytes, got {type(values).__name__}")
            raw = raw + b"\0"
            self._tags[code] = (dtype, len(raw), raw)
            return
        if isinstance(values, (bytes, bytearray)) and dtype in (1, 7):
            self._tags[code] = (dtype, len(values), bytes(values))
            return
        array = np.asarray(values, dtype=self.byteorder + _NUMPY[dtype]).ravel()
        count = array.size // 2 if dtype in (5, 10) else array.size
        self._tags[code] = (dtype, count, array.tobytes())

    def __contains__(self, code: int) -> bool:
        return code in self._tags

    def size(self) -> int:
        """Bytes the serialised IFD will take (table plus out-of-line values)."""
        osize = 8 if self.bigtiff else 4
        table = (8 if self.bigtiff else 2) + len(self._tags) * (20 if self.bigtiff else 12) + osize
        extra = sum(len(raw) + (len(raw) & 1) for _, _, raw in self._tags.values() if len(raw) > osize)
        return table + extra

    def serialize(self, offset: int, next_offset: int = 0) -> SerializedIfd:
        """The IFD bytes as placed at ``offset`` (values after the entry table, word-aligned)."""
        bo = self.byteorder
        osize, esize = (8, 20) if self.bigtiff else (4, 12)
        count_format, offset_format = (bo + "Q", bo + "Q") if self.bigtiff else (bo + "H", bo + "I")
        codes = sorted(self._tags)
        table_size = struct.calcsize(count_format) + len(codes) * esize + osize
        table = bytearray(struct.pack(count_format, len(codes)))
        extra = bytearray()
        positions = {}
        for code in codes:
            dtype, count, raw = self._tags[code]
            positions[code] = offset + len(table)
            table += struct.pack(bo + "HH", code, dtype) + struct.pack(offset_format, count)
            if len(raw) <= osize:
                table += raw.ljust(osize, b"\0")
            else:
                table += struct.pack(offset_format, offset + table_size + len(extra))
                extra += raw + (b"\0" if len(raw) & 1 else b"")
        link_position = offset + len(table)
        table += struct.pack(offset_format, next_offset)
        return SerializedIfd(bytes(table + extra), offset, link_position, positions)

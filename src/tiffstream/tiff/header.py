"""TIFF file header: byte order, classic (42) or BigTIFF (43), and the first IFD offset.

Hamamatsu NDPI files past 4 GiB are classic TIFFs extended to 64 bits: each IFD's next link is 8 bytes,
followed by the high 32 bits of every entry's value field, and the header's link to the first IFD is 8 bytes. A classic little-endian file larger than 4 GiB
whose first IFD has NDPI's FileFormat tag (65420) is read that way (``TiffHeader.ndpi``); smaller NDPI
files cannot hold offsets past 32 bits and read as classic TIFF.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..errors import NotATiffError, TiffFormatError

if TYPE_CHECKING:
    from ..source import ByteSource

__all__ = ["TiffHeader", "is_tiff_signature", "parse_header"]


@dataclass(frozen=True, slots=True)
class TiffHeader:
    """What the first 8 (classic) or 16 (BigTIFF) bytes of a TIFF say."""

    byteorder: Literal["<", ">"]
    bigtiff: bool
    first_ifd_offset: int
    ndpi: bool = False  # NDPI's 64-bit extension of classic TIFF (module docstring)

    @property
    def offset_size(self) -> int:
        """Bytes in a next-IFD link: 4 (classic) or 8 (BigTIFF, NDPI)."""
        return 8 if self.bigtiff or self.ndpi else 4

    @property
    def link_format(self) -> str:
        """struct format of a next-IFD link."""
        return self.byteorder + ("Q" if self.offset_size == 8 else "I")

    @property
    def header_size(self) -> int:
        return 16 if self.bigtiff else 8

    @property
    def entry_size(self) -> int:
        """Bytes in one IFD entry: 12 (classic) or 20 (BigTIFF)."""
        return 20 if self.bigtiff else 12

    @property
    def count_size(self) -> int:
        """Bytes in an IFD's entry count: 2 (classic) or 8 (BigTIFF)."""
        return 8 if self.bigtiff else 2


def is_tiff_signature(head: bytes) -> bool:
    """True when ``head`` (at least 4 bytes) starts like a classic TIFF or a BigTIFF."""
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


_NDPI_FILE_FORMAT = 65420
_FOUR_GIB = 2**32


def _is_large_ndpi(source: ByteSource, first: int) -> bool:
    """A classic little-endian file past 4 GiB whose first IFD lists NDPI's FileFormat tag."""
    if source.size <= _FOUR_GIB or not 8 <= first < source.size - 2:
        return False
    (count,) = struct.unpack("<H", source.read_at_most(first, 2))
    table = source.read_at_most(first + 2, 12 * count)
    return any(code == _NDPI_FILE_FORMAT for (code,) in struct.iter_unpack("<H10x", table[: len(table) // 12 * 12]))


def parse_header(source: ByteSource) -> TiffHeader:
    """Read and check the header of ``source``."""
    head = source.read_at_most(0, 16)
    if len(head) < 8 or not is_tiff_signature(head):
        raise NotATiffError(f"not a TIFF file (starts with {head[:4]!r})", path=source.name, offset=0)
    byteorder: Literal["<", ">"] = "<" if head[:2] == b"II" else ">"
    version = struct.unpack_from(byteorder + "H", head, 2)[0]
    if version == 42:
        (first,) = struct.unpack_from(byteorder + "I", head, 4)
        wide = struct.unpack_from("<Q", head, 4)[0] if len(head) >= 12 else first  # NDPI's 8-byte first link
        ndpi = byteorder == "<" and _is_large_ndpi(source, wide)
        header = TiffHeader(byteorder, False, wide if ndpi else first, ndpi=ndpi)
    else:
        if len(head) < 16:
            raise NotATiffError("BigTIFF header shorter than 16 bytes", path=source.name, offset=0)
        offset_size, reserved, first = struct.unpack_from(byteorder + "HHQ", head, 4)
        if offset_size != 8 or reserved != 0:
            raise TiffFormatError(
                f"BigTIFF header has offset size {offset_size} and reserved {reserved} (expected 8 and 0)",
                path=source.name,
                offset=4,
            )
        header = TiffHeader(byteorder, True, first)
    if first == 0:
        raise TiffFormatError("the header points at no IFD (first IFD offset is 0)", path=source.name, offset=4)
    return header

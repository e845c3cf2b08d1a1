"""TIFF file header: byte order, classic (42) or BigTIFF (43), and the first IFD offset."""

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

    @property
    def offset_size(self) -> int:
        """Bytes in a file offset: 4 (classic) or 8 (BigTIFF)."""
        return 8 if self.bigtiff else 4

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


def parse_header(source: ByteSource) -> TiffHeader:
    """Read and check the header of ``source``."""
    head = source.read_at_most(0, 16)
    if len(head) < 8 or not is_tiff_signature(head):
        raise NotATiffError(f"not a TIFF file (starts with {head[:4]!r})", path=source.name, offset=0)
    byteorder: Literal["<", ">"] = "<" if head[:2] == b"II" else ">"
    version = struct.unpack_from(byteorder + "H", head, 2)[0]
    if version == 42:
        (first,) = struct.unpack_from(byteorder + "I", head, 4)
        header = TiffHeader(byteorder, False, first)
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

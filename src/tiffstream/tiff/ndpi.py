"""Hamamatsu NDPI's JPEG strips as tiles: McuStarts (tag 65426, high bytes in 65432) lists where every
restart interval of the single JPEG stream begins, so each interval is a tile of one MCU row by
``restart interval`` MCUs, decoded with the stream's header patched to the tile's size (as tifffile does).
Regions then read only the intervals they touch, and levels wider than JPEG's 65,535 pixels decode.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ifd import Ifd

__all__ = ["McuTiles", "jpeg_tile_header", "mcu_tiles"]

_MAX_HEADER = 1 << 20  # a JPEG header (tables, frame, scan header) is a few hundred bytes


@dataclass(frozen=True, slots=True)
class McuTiles:
    """The tiles of an NDPI JPEG strip: their size, file offsets and byte counts, and the tile header."""

    height: int
    width: int
    offsets: np.ndarray
    counts: np.ndarray
    header: bytes


def jpeg_tile_header(jpeg: bytes) -> tuple[int, int, bytes]:
    """(tile height, tile width, header) of a JPEG with restart markers: one MCU row by one restart interval,
    the header being the stream up to its scan data with the frame's size set to the tile's."""
    interval = frame = scan = 0
    mcu_width = mcu_height = 8
    at = 0
    while at + 4 <= len(jpeg):
        (marker,) = struct.unpack_from(">H", jpeg, at)
        at += 2
        if marker in (0xFFD8, 0xFF01) or 0xFFD0 <= marker <= 0xFFD7:
            continue
        if marker == 0xFFD9:
            break
        (length,) = struct.unpack_from(">H", jpeg, at)
        if marker == 0xFFDD and at + 4 <= len(jpeg):
            (interval,) = struct.unpack_from(">H", jpeg, at + 2)
        elif marker == 0xFFC0 and at + 8 <= len(jpeg):
            frame = at + 3  # the frame's height field
            components = jpeg[at + 7]
            factors = [jpeg[at + 9 + 3 * i] for i in range(components) if at + 9 + 3 * i < len(jpeg)]
            mcu_width = 8 * max((f >> 4 for f in factors), default=1)
            mcu_height = 8 * max((f & 15 for f in factors), default=1)
        elif marker == 0xFFDA:
            scan = at + length
            break
        at += length
    if not (interval and frame and scan):
        raise ValueError("the JPEG stream lacks a restart interval, a baseline frame or a scan")
    header = jpeg[:frame] + struct.pack(">HH", mcu_height, interval * mcu_width) + jpeg[frame + 4 : scan]
    return mcu_height, interval * mcu_width, header


def mcu_tiles(ifd: Ifd, height: int, width: int, offset: int, count: int) -> McuTiles | None:
    """The tiles of the one-strip JPEG image of ``ifd`` at ``offset`` (``count`` bytes), or None when the
    IFD has no McuStarts or they do not tile the image."""
    starts_tag = ifd.tags.get(65426)
    if starts_tag is None or starts_tag.type not in (4, 16):
        return None
    starts = starts_tag.array().astype(np.int64)
    high = ifd.tags.get(65432)
    if high is not None and high.count == starts.size:
        starts += high.array().astype(np.int64) << 32
    if not starts.size or not 0 < starts[0] <= min(count, _MAX_HEADER) or (np.diff(starts) <= 0).any():
        return None
    try:
        tile_height, tile_width, header = jpeg_tile_header(ifd.source.read_at_most(offset, int(starts[0])))
    except (ValueError, struct.error):  # no usable header: the strip decodes whole
        return None
    if -(-height // tile_height) * -(-width // tile_width) != starts.size or starts[-1] >= count:
        return None
    counts = np.diff(starts, append=count)
    return McuTiles(tile_height, tile_width, offset + starts, counts, header)

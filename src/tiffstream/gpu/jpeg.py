"""JPEG chunks on the GPU: nvJPEG decodes every tile of a group from the group's pinned host blocks into device
scratch, one batched call per output format and engine. Baseline streams go to the NVJPG hardware engines where
the device has them, others to nvJPEG's GPU-assisted backend. A stream nvJPEG cannot take (a frame that does not
fit its chunk, lossless or 12-bit, a batch it refuses) is decoded on the host (imagecodecs) and uploaded.

Every chunk's frame header is checked on the host before anything is queued: nvJPEG writes a whole frame at
the pitch it is given, so a frame larger than its chunk would write past its scratch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from ..codecs import jpeg as jpeg_codec
from .columns import families
from .host_chunks import decode_on_host
from .lanes import run_on_lanes
from .nvjpeg import Engine, NvJpegError, OutputFormat, nvjpeg

if TYPE_CHECKING:
    from .group import Group
    from .settings import GpuSettings

__all__ = ["decode_jpeg"]

_GPU_MARKERS = (0xC0, 0xC1, 0xC2)  # baseline, extended sequential, progressive Huffman (8-bit)


@dataclass
class _Headers:
    """Per chunk: frame marker, precision, height, width, components, whether it has a JFIF marker, and whether
    libjpeg reads it as RGB by itself."""

    marker: np.ndarray
    precision: np.ndarray
    height: np.ndarray
    width: np.ndarray
    components: np.ndarray
    jfif: np.ndarray
    stored_rgb: np.ndarray


def _headers(group: Group, rows: np.ndarray) -> _Headers:
    """Frame headers of the chunks ``rows``. Chunks of one page are usually alike up to their frame header:
    the first is walked marker by marker, the rest compared with it byte for byte up to there (one gather)
    and read there; only those that differ are walked too."""
    col, reads = group.col, group.reads
    assert reads is not None
    n = len(rows)
    fields = np.zeros((7, n), np.int64)
    walk = np.ones(n, bool)
    family = families([id(job.plan) for job in group.jobs])[col.job[rows]]
    for number in np.unique(family):
        mine = np.flatnonzero(family == number)
        first = rows[mine[0]]
        lead = reads.host_view(int(col.start[first]), int(min(col.nbytes[first], 1 << 16)))
        found = jpeg_codec.frame_header(lead.data)
        if found is None:
            continue
        at = found.position
        span = at + 17  # the frame header and three component ids
        got = reads.bytes_at(col.start[rows[mine]], span)
        same = (got[:, :at] == got[0, :at]).all(axis=1) & (col.nbytes[rows[mine]] >= span)
        same &= (got[:, at] == 0xFF) & (got[:, at + 1] == found.marker)
        head = got[same].astype(np.int64)
        picked = mine[same]
        fields[0, picked] = head[:, at + 1]
        fields[1, picked] = head[:, at + 4]
        fields[2, picked] = head[:, at + 5] << 8 | head[:, at + 6]
        fields[3, picked] = head[:, at + 7] << 8 | head[:, at + 8]
        fields[4, picked] = head[:, at + 9]
        ids = (head[:, at + 10 : at + 17 : 3] == np.frombuffer(b"RGB", np.uint8)).all(axis=1)
        # the same bytes up to the frame header: the same JFIF and Adobe markers as the first chunk
        fields[5, picked] = found.jfif
        fields[6, picked] = (not found.jfif) & ((found.adobe == 0) | ((found.adobe < 0) & ids))
        walk[picked] = False
    for k in np.flatnonzero(walk):
        row = rows[k]
        header = jpeg_codec.frame_header(reads.host_view(int(col.start[row]), int(col.nbytes[row])).data)
        if header is not None:
            fields[:5, k] = header[:5]
            fields[5, k], fields[6, k] = header.jfif, header.stored_rgb
    return _Headers(*fields)


@functools.cache
def _hardware(device: int) -> bool:
    """Whether the device has NVJPG engines nvJPEG's hardware backend can use."""
    try:
        return nvjpeg(Engine.HARDWARE, device).hardware_engines() > 0
    except NvJpegError:
        return False


def decode_jpeg(
    group: Group, first: int, stop: int, out_ptrs: np.ndarray, capacity: np.ndarray, settings: GpuSettings
) -> np.ndarray:
    """Queue decoding of JPEG chunks ``first:stop`` of the group into ``out_ptrs`` (room for ``capacity``
    bytes each), split over ``settings.jpeg_lanes`` lanes where tiles are small, at most
    ``settings.jpeg_tiles_per_call`` streams a call; returns the bytes each will have decoded to (host; set on
    the device by the caller)."""
    col = group.col
    rows = np.arange(first, stop)
    heads = _headers(group, rows)
    jobs = group.jobs
    spp = col.pixel_bytes[rows]  # 8-bit samples: a pixel's bytes are its samples
    fits = (heads.width == col.width[rows]) & (heads.height * col.row_bytes[rows] <= capacity)
    fits &= (heads.precision == 8) & (heads.components == spp) & np.isin(heads.marker, _GPU_MARKERS)
    # frames under 64x64 decode on the host: Pillow's child_ifd.tiff (one 32x32 JFIF 4:2:0 strip) came back from
    # both nvJPEG backends with its luma lost (red 254 as 178), cause not found; such frames cost the host little
    fits &= (heads.width >= 64) | (heads.height >= 64)
    photometric = np.array([job.plan.photometric for job in jobs], np.int64)[col.job[rows]]
    # no colour transform where libjpeg would make none: tifffile tells it so for RGB without JFIF; else as it reads it
    rgb_as_stored = (heads.stored_rgb != 0) | ((photometric == 2) & (heads.jfif == 0))
    formats = np.where(spp == 1, OutputFormat.Y, np.where(rgb_as_stored, OutputFormat.UNCHANGEDI, OutputFormat.RGBI))
    device = cp.cuda.Device().id
    # gray tiles go to the GPU-assisted backend: twice the engines' rate on 8 pages of 256x256 tiles (4,971 against
    # 2,355 MP/s, H100), within 1 level of libjpeg-turbo (the engines: equal); on colour tiles it is off by up to 3
    hardware = _hardware(device) & (heads.marker == 0xC0) & (spp > 1)
    # a call per set of JPEGTables (they go into the call's state): one for all the regions of a page
    tables = families([job.plan.jpeg_tables for job in jobs])[col.job[rows]]
    sizes = np.where(fits, heads.height * col.row_bytes[rows], 0)
    addresses = group.reads.host_addresses(col.start[rows])  # type: ignore[union-attr]
    keys: np.ndarray = (
        np.unique(np.stack([formats, hardware, tables])[:, fits], axis=1).T if fits.any() else np.zeros((0, 3))
    )
    small = int((col.height[rows] * col.width[rows]).max()) <= settings.jpeg_lane_max_pixels
    lanes, tiles_per_call = settings.jpeg_lanes if small else 1, settings.jpeg_tiles_per_call
    calls: list[tuple[int, int, int, np.ndarray]] = []  # (format, hardware, tables, chunks) per nvJPEG call
    for fmt, use_hw, number in keys:
        picked = np.flatnonzero(fits & (formats == fmt) & (hardware == use_hw) & (tables == number))
        size = min(tiles_per_call, -(-len(picked) // lanes))  # a call for each lane at least
        calls += [(fmt, use_hw, number, picked[at : at + size]) for at in range(0, len(picked), size)]
    used = min(lanes, len(calls))

    def decode_calls(lane: int, stream: cp.cuda.Stream) -> list[int]:
        """Queue every ``used``-th call from ``lane`` on, with the lane's handles; returns the chunks refused."""
        refused: list[int] = []
        for slot, (fmt, use_hw, number, part) in enumerate(calls[lane::used]):
            engine = nvjpeg(Engine.HARDWARE if use_hw else Engine.GPU_HYBRID, device, lane)
            try:
                engine.decode(
                    addresses[part],
                    col.nbytes[rows[part]],
                    out_ptrs[part],
                    col.row_bytes[rows[part]],
                    OutputFormat(int(fmt)),
                    stream,
                    group.keep,
                    tables=jobs[number].plan.jpeg_tables,
                    slot=slot,
                )
            except NvJpegError:  # nvJPEG does not say which stream it refused: the CPU codec names it
                refused += part.tolist()
        return refused

    refused = run_on_lanes(group.stream, [decode_calls] * used) if used else []
    on_host = np.flatnonzero(~fits).tolist() + [k for mine in refused for k in mine]
    for k in sorted(on_host):
        sizes[k] = decode_on_host(group, int(rows[k]), int(out_ptrs[k]), int(capacity[k]))
    return sizes

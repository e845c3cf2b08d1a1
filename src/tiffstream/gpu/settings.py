"""GpuSettings: every tuning choice of the GPU pipeline in one frozen value, passed in, never patched."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["GpuSettings"]


@dataclass(frozen=True)
class GpuSettings:
    """How the GPU backend pipelines a batch (defaults measured on an H100/H200, docs/performance.md).

    first_group_bytes, max_group_bytes
        Compressed bytes that close the first group; each next one may hold twice as many, up to the max
        (8 and 128 MiB were best of 4/64, 8/128, 16/256 on an H100).
    stage_bytes
        The reads of the images added start once this many compressed bytes of them wait: image by image,
        1,000 small regions ran at half the speed; only at a group's close, its last reads lengthened the tail.
    worker_streams
        Groups take turns on this many streams, so that many decompress at once (2 left an H200 half idle).
    read_threads, native_reads, spread_bytes
        Threads reading chunks (8 kept pace with 16 on a 16-core host); local files read on glibc's AIO
        threads where available (False: our Python read threads); consecutive reads share one descriptor
        (so one AIO thread) up to ``spread_bytes``.
    read_block_bytes
        Pinned blocks that chunk reads go into hold this many bytes (or one addition's, when larger): a few of
        the group's additions, so blocks are mostly full and a group uploads in few copies.
    read_ahead
        False: wait for each group's reads as soon as they start (for comparison only).
    host_chunk_bytes
        Routing: an image whose Deflate chunks are fewer than ``host_max_chunks`` and hold at least this
        many bytes each on average decodes on host threads and is uploaded (nvcomp decodes one chunk at
        ~10 MB/s: it wins by decoding thousands at once, not a few large strips).
    host_max_chunks
        See ``host_chunk_bytes``; 0 turns host routing off. 64: a page of 13 Deflate strips decoded in 3.5 ms on
        the host against 25 ms on the GPU, 24 such pages (312 strips) in 61 ms against 39 (H100).
    jpeg_tiles_per_call
        JPEG streams one nvJPEG call decodes (the hardware backend refused 512 tiles of 512x512 and 2,048 of
        256x256 in one call on an H100 and took 256; 1,024 of 256x256 went through on an H200).
    jpeg_lanes, jpeg_lane_max_pixels
        Lanes (a host thread, a side stream and an nvJPEG handle each) a group's JPEG tiles are split over: the
        hardware engines' calls spend most of their time on the host: on 8 pages of 256x256 tiles two lanes
        ran 1.1-2.2x faster than one (H100). Tiles of more than ``jpeg_lane_max_pixels`` pixels go on one
        lane (512x512: 6,146 MP/s on one, 5,062 on two).
    jpeg2000_lanes
        Lanes (a host thread and a side stream each, with an nvJPEG2000 decode state) a group's JPEG 2000 tiles
        are spread over: nvJPEG2000 parses on the host and decodes one code stream a call, and each tile waits for
        its decode before its lane's state serves the next (without that, tiles came out wrong); 16 lanes ran
        the TCGA page at 110 MP/s, 32 no faster (H100). One lane per core up to 16.
    recipe_bytes
        Device and pinned memory the recipes of images decoded alone may hold (``recipes.py``; 0: none). A
        recipe holds about three times its image's size.
    """

    first_group_bytes: int = 8 << 20
    max_group_bytes: int = 128 << 20
    stage_bytes: int = 8 << 20
    worker_streams: int = 4
    read_threads: int = max(1, min(8, os.cpu_count() or 1))
    native_reads: bool = True
    spread_bytes: int = 2 << 20
    read_block_bytes: int = 32 << 20
    read_ahead: bool = True
    host_chunk_bytes: int = 16 << 10
    host_max_chunks: int = 64
    jpeg_tiles_per_call: int = 256
    jpeg_lanes: int = 2
    jpeg_lane_max_pixels: int = 256 * 256
    jpeg2000_lanes: int = max(1, min(16, os.cpu_count() or 1))
    recipe_bytes: int = 512 << 20

    def __post_init__(self) -> None:
        for name in (
            "first_group_bytes",
            "max_group_bytes",
            "stage_bytes",
            "worker_streams",
            "read_threads",
            "jpeg_tiles_per_call",
            "jpeg_lanes",
            "jpeg_lane_max_pixels",
            "jpeg2000_lanes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"GpuSettings.{name} must be >= 1, got {getattr(self, name)}")

"""JPEG 2000 chunks on the GPU: each code stream is parsed on the host (nvJPEG2000 has no batched call) from the
group's pinned blocks and decoded into device scratch on one of a few side streams, each with a decode state of
its own, so that tiles decode side by side; the group's stream waits for them. A code stream nvJPEG2000 cannot
take (one it fails to parse, a size or sample type that does not fit its chunk, subsampled or signed components)
is decoded on the host and uploaded (``host_chunks``), so errors name the chunk."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from .host_chunks import decode_on_host
from .nvjpeg2k import NvJpeg2kError, Parsed, nvjpeg2k
from .streams import side_streams

if TYPE_CHECKING:
    from .group import Group

__all__ = ["decode_jpeg2000"]


class _Held:
    """Parsed handles of a group, given back to their pool when the group lets go of its buffers (its stream's
    work is done then)."""

    def __init__(self, parsed: list[Parsed], release: Callable[[list[Parsed]], None]) -> None:
        weakref.finalize(self, release, parsed)


def decode_jpeg2000(
    group: Group, first: int, stop: int, out_ptrs: np.ndarray, capacity: np.ndarray, lanes: int
) -> np.ndarray:
    """Queue decoding of JPEG 2000 chunks ``first:stop`` of the group into ``out_ptrs`` (room for ``capacity``
    bytes each) over ``lanes`` side streams; returns the bytes each will have decoded to (host)."""
    col, reads = group.col, group.reads
    assert reads is not None
    rows = np.arange(first, stop)
    device = cp.cuda.Device().id
    engine = nvjpeg2k(device)
    addresses = reads.host_addresses(col.start[rows])
    itemsize = col.pixel_bytes[rows] // np.array([job.plan.samples_per_chunk for job in group.jobs])[col.job[rows]]
    sizes = np.zeros(len(rows), np.int64)
    parsed: list[Parsed] = []
    on_host: list[int] = []
    side = side_streams(device, group.stream.ptr, lanes)
    ready = cp.cuda.Event(disable_timing=True)
    ready.record(group.stream)
    for lane in side:
        lane.wait_event(ready)
    for k, row in enumerate(rows):
        try:
            item = engine.parse(int(addresses[k]), int(col.nbytes[row]))
        except NvJpeg2kError:
            on_host.append(k)
            continue
        parsed.append(item)
        row_bytes = int(col.row_bytes[row])
        fits = item.full_components and not item.signed and item.width == col.width[row]
        fits &= item.components * int(itemsize[k]) == col.pixel_bytes[row] and item.height * row_bytes <= capacity[k]
        fits &= (item.precision <= 8) == (itemsize[k] == 1) and item.precision <= 16
        if not fits:
            on_host.append(k)
            continue
        try:
            engine.decode(item, int(out_ptrs[k]), row_bytes, bool(itemsize[k] == 2), side[k % len(side)])
        except NvJpeg2kError:
            on_host.append(k)
            continue
        sizes[k] = item.height * row_bytes
    for lane in side:
        done = cp.cuda.Event(disable_timing=True)
        done.record(lane)
        group.stream.wait_event(done)
    group.keep.append(_Held(parsed, engine.release))
    for k in on_host:
        sizes[k] = decode_on_host(group, int(rows[k]), int(out_ptrs[k]), int(capacity[k]))
    return sizes

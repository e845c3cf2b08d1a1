"""JPEG 2000 chunks on the GPU: each code stream is parsed on the host (nvJPEG2000 has no batched call) from the
group's pinned blocks and decoded into device scratch on one of a few lanes (a host thread and a side stream each,
with a decode state of its own), so that tiles parse and decode side by side; the group's stream waits for them.
A code stream nvJPEG2000 cannot take (one it fails to parse, a size or sample type that does not fit its chunk,
subsampled or signed components) is decoded on the host and uploaded (``host_chunks``), so errors name the chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from .host_chunks import decode_on_host
from .lanes import run_on_lanes
from .nvjpeg2k import NvJpeg2kError, nvjpeg2k

if TYPE_CHECKING:
    from .group import Group

__all__ = ["decode_jpeg2000"]


def decode_jpeg2000(
    group: Group, first: int, stop: int, out_ptrs: np.ndarray, capacity: np.ndarray, lanes: int
) -> np.ndarray:
    """Queue decoding of JPEG 2000 chunks ``first:stop`` of the group into ``out_ptrs`` (room for ``capacity``
    bytes each) over ``lanes`` lanes (a thread and a side stream each); returns the bytes each will have decoded
    to (host)."""
    col, reads = group.col, group.reads
    assert reads is not None
    rows = np.arange(first, stop)
    engine = nvjpeg2k(cp.cuda.Device().id)
    addresses = reads.host_addresses(col.start[rows])
    samples = np.array([job.plan.samples_per_chunk for job in group.jobs])[col.job[rows]]
    itemsize = col.pixel_bytes[rows] // samples
    sizes = np.zeros(len(rows), np.int64)

    def decode_tiles(lane: int, stream: cp.cuda.Stream) -> list[int]:
        """Parse and queue every ``lanes``-th tile from ``lane`` on; returns those left to the host."""
        refused = []
        for k in range(lane, len(rows), lanes):
            row = rows[k]
            try:
                item = engine.parse(int(addresses[k]), int(col.nbytes[row]), stream)
            except NvJpeg2kError:
                refused.append(k)
                continue
            row_bytes = int(col.row_bytes[row])
            fits = item.full_components and not item.signed and item.width == col.width[row]
            fits &= item.components * int(itemsize[k]) == col.pixel_bytes[row]
            fits &= item.height * row_bytes <= capacity[k] and (item.precision <= 8) == (itemsize[k] == 1)
            try:
                if fits and item.precision <= 16:
                    engine.decode(item, int(out_ptrs[k]), row_bytes, bool(itemsize[k] == 2), stream)
                    stream.synchronize()  # the lane's state and parsed handle serve its next tile once this ran
                    sizes[k] = item.height * row_bytes
                    continue
            except NvJpeg2kError:
                pass
            refused.append(k)
        return refused

    refused = run_on_lanes(group.stream, [decode_tiles] * lanes)
    for k in sorted(k for mine in refused for k in mine):
        sizes[k] = decode_on_host(group, int(rows[k]), int(out_ptrs[k]), int(capacity[k]))
    return sizes

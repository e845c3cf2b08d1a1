"""Reading chunk bytes for the backends: adjacent chunks in one positioned read, sliced without copies."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .plan import Chunk
    from .source import ByteSource

__all__ = ["group_chunks", "read_group"]

_MAX_GAP = 4096  # bytes between two chunks that one read may span
_MAX_READ = 16 << 20  # bytes one coalesced read may hold


def group_chunks(chunks: Sequence[Chunk]) -> list[list[Chunk]]:
    """Chunks with data, in file order, grouped so that each group is one positioned read."""
    groups: list[list[Chunk]] = []
    end = -1
    size = 0
    for chunk in sorted((c for c in chunks if not c.is_missing), key=lambda c: c.offset):
        if groups and 0 <= chunk.offset - end <= _MAX_GAP and size + chunk.nbytes <= _MAX_READ:
            groups[-1].append(chunk)
            size += chunk.nbytes
        else:
            groups.append([chunk])
            size = chunk.nbytes
        end = max(end, chunk.offset + chunk.nbytes)
    return groups


def read_group(source: ByteSource, group: list[Chunk]) -> list[tuple[Chunk, memoryview]]:
    start = group[0].offset
    stop = max(c.offset + c.nbytes for c in group)
    blob = memoryview(source.read_at_most(start, stop - start))  # slices below share it: no copies
    return [(c, blob[c.offset - start : c.offset - start + c.nbytes]) for c in group]

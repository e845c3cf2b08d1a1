"""Read planning, the first stage of the GPU pipeline: which bytes of the file each chunk of a few images
needs, merged into runs of nearby chunks, and where each chunk lands in its group's buffer. The reads
themselves run in the background (``reads.PendingReads``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TiffTruncatedError

if TYPE_CHECKING:
    from .job import GpuJob
    from .reads import PendingReads

__all__ = ["ALIGN", "Staged", "compressed_bytes", "stage"]

ALIGN = 16  # every run, and every buffer cut from one, starts at a multiple of this
_MAX_GAP = 1 << 16  # bytes between chunks that one read may span


@dataclass
class Staged:
    """Where the chunks of some images go in their group's buffer, one entry per row of their chunk tables
    (concatenated in order): ``start`` there (0 for missing chunks) and ``nbytes`` (cut off by the end of the
    file; 0 for missing chunks)."""

    start: np.ndarray
    nbytes: np.ndarray


def compressed_bytes(job: GpuJob) -> int:
    """Bytes of the image's chunks; a chunk that starts past the end of the file is an error, as on the CPU
    (checked as each image comes, so the error names the right one)."""
    table, size = job.chunks, job.source.size
    offsets, nbytes = table[:, 1], table[:, 2]
    if len(offsets) and int(offsets.max()) >= size:
        outside = (offsets >= size) & (nbytes > 0)
        if outside.any():
            row = int(np.argmax(outside))
            raise TiffTruncatedError(
                f"chunk {table[row, 0]} starts at offset {offsets[row]}, past the end of the {size}-byte file",
                path=job.plan.source_name,
                offset=int(offsets[row]),
            )
    return int(nbytes.sum())


def stage(jobs: list[GpuJob], reading: PendingReads) -> Staged:
    """Start reading the chunks of ``jobs`` into ``reading`` (a group being filled): one read per run of
    nearby chunks of a file, across the images (planned together: per image, 1,000 small regions cost more
    to plan than to decode). Returns where each chunk goes."""
    tables = [job.chunks for job in jobs]
    table = np.concatenate(tables) if len(tables) > 1 else tables[0]
    lengths = [len(t) for t in tables]
    offsets, nbytes = table[:, 1], table[:, 2]
    sizes = [job.source.size for job in jobs]
    file_size = sizes[0] if len(set(sizes)) == 1 else np.repeat(np.array(sizes, np.int64), lengths)
    present = (offsets > 0) & (nbytes > 0)
    clipped = np.where(present, np.minimum(nbytes, file_size - offsets), 0)  # cut off by the file's end
    start = np.zeros(len(table), np.int64)
    sources: dict[int, list[int]] = {}
    for number, job in enumerate(jobs):
        sources.setdefault(id(job.source), []).append(number)
    present_rows = np.flatnonzero(present)
    job_of = np.repeat(np.arange(len(jobs)), lengths)[present_rows] if len(sources) > 1 else None
    for numbers in sources.values():
        rows = present_rows if job_of is None else present_rows[np.isin(job_of, numbers)]
        if not len(rows):
            continue
        order = rows[np.argsort(offsets[rows], kind="stable")]
        begins = offsets[order]
        reach = np.maximum.accumulate(begins + clipped[order])
        opens = np.concatenate([[True], begins[1:] - reach[:-1] > _MAX_GAP])  # a chunk that starts a new run
        firsts = np.flatnonzero(opens)
        run_begin = begins[firsts]
        run_size = reach[np.append(firsts[1:], len(order)) - 1] - run_begin
        padded = run_size + (-run_size % ALIGN)
        run_at = np.cumsum(padded) - padded  # where each run goes in the footprint
        runs = list(zip(run_begin.tolist(), run_size.tolist(), run_at.tolist()))
        base = reading.add(jobs[numbers[0]].source, runs, int(padded.sum()))
        run_of = np.cumsum(opens) - 1
        start[order] = base + run_at[run_of] + begins - run_begin[run_of]
    return Staged(start, clipped)

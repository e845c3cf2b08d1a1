"""The chunk columns of a group: one row per chunk with data to decode, as typed numpy columns (never an object
per chunk); the placements of those chunks in the images (a chunk that overlapping images of one page share, as
patches of a slide do, is decoded once and placed in each); and each placement's window in its output. Built
when a group closes; every later stage reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from ..plan import TABLE_COLUMNS, check_allocation
from . import GPU_COMPRESSIONS

if TYPE_CHECKING:
    from .job import GpuJob
    from .staging import Staged

__all__ = [
    "IMAGE_KINDS",
    "KINDS",
    "ChunkColumns",
    "Placements",
    "Windows",
    "allocate_outputs",
    "chunk_columns",
    "families",
    "windows",
]

KINDS = ("none", "deflate", "zstd", "lzw", "packbits", "jpeg", "jpeg2000")  # decompression kinds, in the order run
# kinds an image library decodes from the host blocks (no upload), to whole samples (no predictor, native byte order)
IMAGE_KINDS = ("jpeg", "jpeg2000")


@dataclass
class ChunkColumns:
    """Every chunk with data that overlaps its image's region, sorted by kind then image (each a contiguous run).

    ``index``..``width`` are the plan's chunk table columns; ``start``: where the chunk's bytes are in the
    group's buffer (``nbytes`` of them, cut off by the end of the file); ``capacity_rows``: rows the decoded
    chunk has room for (a whole strip even where the last holds fewer); ``pixel_bytes``/``row_bytes``: one pixel
    and one row as decoded; ``decoded``: device address of each decoded chunk (set by ``decompress``).
    """

    kind: np.ndarray
    job: np.ndarray
    index: np.ndarray
    offset: np.ndarray
    nbytes: np.ndarray
    plane: np.ndarray
    y: np.ndarray
    x: np.ndarray
    height: np.ndarray
    width: np.ndarray
    start: np.ndarray
    capacity_rows: np.ndarray
    pixel_bytes: np.ndarray
    row_bytes: np.ndarray
    decoded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))

    def __len__(self) -> int:
        return len(self.job)


@dataclass
class Placements:
    """Every chunk of every image, as it goes into the image: ``row`` of the columns it is decoded in and
    ``job``, the image. The rows themselves unless images share chunks."""

    row: np.ndarray
    job: np.ndarray
    shared: bool = False  # some row is placed more than once (else ``row`` is ``0..n-1``)

    def __len__(self) -> int:
        return len(self.job)


def families(keys: list[object]) -> np.ndarray:
    """Per item, the number of the first item with the same key (images of one page share their plan, their
    frame headers' layout and their JPEGTables)."""
    first: dict[object, int] = {}
    return np.array([first.setdefault(key, number) for number, key in enumerate(keys)], np.int64)


def _pixel_bytes(jobs: list[GpuJob]) -> np.ndarray:
    """Bytes one pixel of a chunk holds, per job (all samples when interleaved, one when planar-separate)."""
    return np.array([np.dtype(j.plan.dtype).itemsize * j.plan.samples_per_chunk for j in jobs] or [0], np.int64)


def chunk_columns(jobs: list[GpuJob], staged: list[Staged]) -> tuple[ChunkColumns, Placements, np.ndarray]:
    """The columns of ``jobs``' chunks (``staged``: where their bytes are), their placements, and, per job,
    whether it has missing chunks (its output is then pre-filled)."""
    chunks = [job.chunks for job in jobs]
    table = np.concatenate(chunks) if chunks else np.zeros((0, len(TABLE_COLUMNS)), np.int64)
    job_of = np.repeat(np.arange(len(jobs)), [len(c) for c in chunks])
    none = np.zeros(0, np.int64)
    starts = np.concatenate([part.start for part in staged] or [none])
    nbytes = np.concatenate([part.nbytes for part in staged] or [none])  # cut off by the file's end
    present = nbytes > 0  # 0 for missing chunks (no offset or no byte count)
    missing = np.bincount(job_of[~present], minlength=len(jobs)) > 0
    kinds = np.array([KINDS.index(GPU_COMPRESSIONS[job.plan.compression]) for job in jobs], np.int64)
    names = ("kind", "job", *TABLE_COLUMNS, "start")
    table = np.concatenate([kinds[job_of][:, None], job_of[:, None], table, starts[:, None]], axis=1)
    table[:, names.index("nbytes")] = nbytes
    if not present.all():
        table = table[present]
    if len(set(kinds.tolist())) > 1:  # else the rows are in image order already
        table = table[np.lexsort((table[:, 1], table[:, 0]))]
    table, placements = _decode_once(jobs, table, names)
    col = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(names)}
    full = np.array([j.plan.chunk_height for j in jobs] or [0], np.int64)
    capacity_rows = np.maximum(col["height"], full[col["job"]]) if len(table) else col["height"]
    pixel_bytes = _pixel_bytes(jobs)[col["job"]]
    columns = ChunkColumns(
        **col, capacity_rows=capacity_rows, pixel_bytes=pixel_bytes, row_bytes=col["width"] * pixel_bytes
    )
    return columns, placements, missing


def _decode_once(jobs: list[GpuJob], table: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, Placements]:
    """The rows of ``table`` to decode (the first of each chunk of a page and file, in order) and where every row
    goes: patches of a slide share tiles, up to four each."""
    job = np.ascontiguousarray(table[:, names.index("job")])
    owner = families([(id(j.plan), id(j.source)) for j in jobs])
    if len(table) < 2 or len(np.unique(owner)) == len(jobs):
        return table, Placements(np.arange(len(table)), job)
    key = owner[job] * (int(table[:, names.index("index")].max()) + 1) + table[:, names.index("index")]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(first) == len(table):
        return table, Placements(np.arange(len(table)), job)
    keep = np.sort(first)
    return table[keep], Placements(np.searchsorted(keep, first[inverse.ravel()]), job, shared=True)


def allocate_outputs(jobs: list[GpuJob], missing: np.ndarray) -> None:
    """Each job's device output, after the CPU backend's allocation check; pre-filled where chunks are missing."""
    for number, job in enumerate(jobs):
        plan = job.plan
        dtype = np.dtype(plan.dtype)
        shape = plan.output_shape(job.region)
        check_allocation(plan, job.source, shape, dtype)
        job.out = cp.full(shape, plan.fill_value, dtype) if missing[number] else cp.empty(shape, dtype)


@dataclass
class Windows:
    """Per placement: its image's region (``y0``, ``x0``, ``rows_out``, ``cols_out``) and the part of the chunk
    inside it (``cy0``, ``cx0``, ``cy1``, ``cx1``), in image coordinates."""

    y0: np.ndarray
    x0: np.ndarray
    rows_out: np.ndarray
    cols_out: np.ndarray
    cy0: np.ndarray
    cx0: np.ndarray
    cy1: np.ndarray
    cx1: np.ndarray


def windows(col: ChunkColumns, placements: Placements, jobs: list[GpuJob]) -> Windows:
    """Where each placement's visible part lies (see ``Windows``)."""
    bounds = np.array([j.bounds for j in jobs] or [(0, 0, 0, 0)], np.int64)
    y0, x0, y1, x1 = (bounds[placements.job, k] for k in range(4))
    y, x = col.y[placements.row], col.x[placements.row]
    return Windows(
        y0=y0,
        x0=x0,
        rows_out=y1 - y0,
        cols_out=x1 - x0,
        cy0=np.maximum(y, y0),
        cx0=np.maximum(x, x0),
        cy1=np.minimum(y + col.height[placements.row], y1),
        cx1=np.minimum(x + col.width[placements.row], x1),
    )

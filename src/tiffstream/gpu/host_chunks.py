"""Chunks an image library on the GPU cannot take (nvJPEG, nvJPEG2000) decoded on the host by the CPU codec and
uploaded into their place, so that what the GPU refuses still decodes, and a broken chunk's error names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from ..codecs import ChunkContext, codec_for, compression_name
from ..errors import DecodeError, TiffError

if TYPE_CHECKING:
    from .group import Group

__all__ = ["chunk_failure", "decode_on_host"]


def decode_on_host(group: Group, row: int, out_ptr: int, capacity: int) -> int:
    """Decode chunk ``row`` with its CPU codec and queue its upload to ``out_ptr`` (room for ``capacity``
    bytes) on the group's stream; returns its decoded bytes, or -1 (its error kept in ``group.errors``)."""
    col = group.col
    assert group.reads is not None
    plan = group.jobs[col.job[row]].plan
    data = bytes(group.reads.host_view(int(col.start[row]), int(col.nbytes[row])))
    context = ChunkContext(plan, int(col.height[row]), int(col.width[row]), plan.samples_per_chunk)
    try:
        decoded = np.asarray(codec_for(plan).decode(data, context=context))
    except TiffError as exc:
        group.errors[row] = exc
        return -1
    except Exception as exc:  # noqa: BLE001  # any codec failure is this chunk's decode error
        group.errors[row] = chunk_failure(group, row, str(exc))
        return -1
    width, row_bytes, dtype = int(col.width[row]), int(col.row_bytes[row]), np.dtype(plan.dtype).newbyteorder("=")
    if decoded.ndim == 2:
        decoded = decoded[:, :, np.newaxis]
    if decoded.ndim != 3 or decoded.shape[1] > width or decoded.shape[2] * dtype.itemsize * width != row_bytes:
        group.errors[row] = chunk_failure(group, row, f"it decoded to {decoded.shape} {decoded.dtype}")
        return -1
    rows = min(decoded.shape[0], capacity // max(row_bytes, 1))
    whole = np.zeros((rows, width, decoded.shape[2]), dtype)
    whole[:, : decoded.shape[1]] = decoded[:rows]  # an edge chunk may hold only the part inside the image
    payload = group.hold(cp.asarray(whole.view(np.uint8)))
    cp.cuda.runtime.memcpyAsync(
        out_ptr, payload.data.ptr, payload.nbytes, cp.cuda.runtime.memcpyDeviceToDevice, group.stream.ptr
    )
    return int(payload.nbytes)


def chunk_failure(group: Group, row: int, why: str) -> DecodeError:
    """The error of chunk ``row`` that could not be decoded, naming its file, offset and compression."""
    col = group.col
    plan = group.jobs[col.job[row]].plan
    return DecodeError(
        f"chunk {col.index[row]} ({compression_name(plan.compression)}) could not be decoded: {why}",
        path=plan.source_name,
        offset=int(col.offset[row]),
    )

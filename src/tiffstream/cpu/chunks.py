"""Decode one chunk (strip or tile) to samples: decompress, fill order, unpack bits, byte order, predictor.

The result is a native-byte-order array shaped ``(rows, width, samples)`` for the chunk's stored size
(rows may be fewer for a short last strip or a truncated chunk), in the plan's dtype.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import imagecodecs
import numpy as np

from ..codecs import BytesLike, ChunkContext, codec_for, compression_name
from ..errors import DecodeError, UnsupportedTiffError

if TYPE_CHECKING:
    from ..plan import Chunk, DecodePlan

__all__ = ["can_decode_into", "decode_chunk", "decode_chunk_into", "decode_chunk_window"]

_FLOAT_PREDICTORS = {3: 1, 34894: 2, 34895: 4}
_INT_PREDICTORS = {2: 1, 34892: 2, 34893: 4}


def decode_chunk(
    plan: DecodePlan, chunk: Chunk, data: BytesLike, *, window: np.ndarray | None = None, scratch: bool = False
) -> np.ndarray:
    """Decode ``data`` (the chunk's compressed bytes) to a ``(rows, width, samples)`` array.

    ``window``: where the chunk's top-left part lands in the output. When the last step (an integer
    predictor) can write there directly, it does, and the result is a view of ``window``.
    ``scratch``: decompress into this thread's reusable buffer (no allocation, no page faults); the
    result may then be a view of that buffer, valid only until this thread decodes the next chunk.
    """
    samples = plan.samples_per_chunk
    context = ChunkContext(plan, chunk.height, chunk.width, samples)
    codec = codec_for(plan)
    try:
        if codec.KIND == "image":
            if scratch and getattr(codec, "ACCEPTS_OUT", False):
                shape = (chunk.height, chunk.width, samples) if samples > 1 else (chunk.height, chunk.width)
                dtype = np.dtype(plan.dtype)
                buffer = _scratch_buffer(int(np.prod(shape)) * dtype.itemsize).view(dtype).reshape(shape)
                decoded = codec.decode(data, context=context, out=buffer)
            else:
                decoded = codec.decode(data, context=context)
            return _shape_image(np.asarray(decoded), plan, chunk, samples)
        if plan.fill_order == 2:
            data = imagecodecs.bitorder_decode(data)
        if scratch and hasattr(codec, "decode_into"):
            buffer = _scratch_buffer(context.nbytes)
            raw = buffer[: codec.decode_into(data, buffer)]
        else:
            raw = codec.decode(data, context=context)
        return _from_bytes(raw, plan, chunk, samples, window)
    except (UnsupportedTiffError, DecodeError):
        raise
    except Exception as exc:  # any codec failure becomes a DecodeError naming the chunk
        raise _codec_failure(plan, chunk, exc) from exc


def _codec_failure(plan: DecodePlan, chunk: Chunk, exc: Exception) -> DecodeError:
    """A codec's own exception as a DecodeError naming the chunk, its compression and its offset."""
    return DecodeError(
        f"chunk {chunk.index} ({compression_name(plan.compression)}, {chunk.nbytes} bytes) could not be decoded: {exc}",
        path=plan.source_name,
        offset=chunk.offset,
    )


_SCRATCH = threading.local()


def _scratch_buffer(nbytes: int) -> np.ndarray:
    """This thread's reusable decompression buffer, at least ``nbytes`` long."""
    buffer = getattr(_SCRATCH, "buffer", None)
    if buffer is None or buffer.size < nbytes:
        buffer = np.empty(max(nbytes, 1 << 16), np.uint8)
        _SCRATCH.buffer = buffer
    return buffer[:nbytes]


def _rows_available(count: int, per_row: int, rows: int) -> int:
    return min(rows, count // per_row) if per_row else 0


def _from_bytes(
    raw: BytesLike | np.ndarray, plan: DecodePlan, chunk: Chunk, samples: int, window: np.ndarray | None
) -> np.ndarray:
    bits = plan.bits_per_sample
    dtype = np.dtype(plan.dtype)
    width, rows = chunk.width, chunk.height
    if len(set(bits[:samples])) > 1:
        raise UnsupportedTiffError(f"mixed bits per sample {bits} are not supported yet", path=plan.source_name)
    nbits = bits[0]
    if plan.sample_format == 3 and nbits == 24:
        values = imagecodecs.float24_decode(raw, byteorder=plan.byteorder)
        per_row = width * samples
    elif nbits in (8, 16, 32, 64) and dtype.itemsize * 8 == nbits:
        stored = dtype.newbyteorder(plan.byteorder) if plan.predictor not in _FLOAT_PREDICTORS else dtype
        usable = len(raw) - len(raw) % stored.itemsize
        values = np.frombuffer(raw, stored, count=usable // stored.itemsize)
        per_row = width * samples
    else:
        per_row = width * samples
        row_bytes = -(-per_row * nbits // 8)
        usable_rows = min(rows, len(raw) // row_bytes) if row_bytes else 0
        values = imagecodecs.packints_decode(raw[: usable_rows * row_bytes], dtype, nbits, runlen=per_row)
    rows_here = _rows_available(values.size, per_row, rows)
    if rows_here == 0:
        raise DecodeError(
            f"chunk {chunk.index} decoded to {values.size} samples, less than one row of {per_row}",
            path=plan.source_name,
            offset=chunk.offset,
        )
    array = values[: rows_here * per_row].reshape(rows_here, width, samples)
    if plan.predictor in _INT_PREDICTORS and window is not None and array.dtype.isnative:
        # undo the predictor straight into the output (a prefix of each row's running sum is its own sum)
        rows, cols = min(rows_here, window.shape[0]), window.shape[1]
        target = window[:rows]
        imagecodecs.delta_decode(
            array[:rows, :cols, : window.shape[2]], axis=-2, dist=_INT_PREDICTORS[plan.predictor], out=target
        )
        return target
    if plan.predictor in _INT_PREDICTORS:
        array = array.astype(dtype.newbyteorder("="), copy=True)
        imagecodecs.delta_decode(array, axis=-2, dist=_INT_PREDICTORS[plan.predictor], out=array)
    elif plan.predictor in _FLOAT_PREDICTORS:
        array = imagecodecs.floatpred_decode(array, axis=-2, dist=_FLOAT_PREDICTORS[plan.predictor])
    elif plan.predictor != 1:
        raise UnsupportedTiffError(f"predictor {plan.predictor} is not supported", path=plan.source_name)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _shape_image(array: np.ndarray, plan: DecodePlan, chunk: Chunk, samples: int) -> np.ndarray:
    """Bring an image codec's output to ``(rows, width, samples)``; it may cover only the visible part."""
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3:
        array = array.reshape(array.shape[0], array.shape[1], -1)
    if array.shape[2] != samples and array.size == chunk.height * chunk.width * samples:
        array = array.reshape(chunk.height, chunk.width, samples)
    if array.shape[2] < samples:
        raise DecodeError(
            f"chunk {chunk.index} decoded to {array.shape[2]} samples per pixel, the IFD says {samples}",
            path=plan.source_name,
            offset=chunk.offset,
        )
    dtype = np.dtype(plan.dtype)
    if array.dtype != dtype and dtype != np.bool_:
        array = array.astype(dtype)
    return array


def can_decode_into(plan: DecodePlan) -> bool:
    """True when chunks can be decoded straight into a contiguous part of the output (no unpacking, no
    byte swapping, no bit reversal, no floating-point predictor)."""
    dtype = np.dtype(plan.dtype)
    return (
        hasattr(codec_for(plan), "decode_into")
        and len(set(plan.bits_per_sample)) == 1
        and plan.bits_per_sample[0] == dtype.itemsize * 8
        and dtype.kind in "uif"
        and (dtype.itemsize == 1 or plan.byteorder == ("<" if np.little_endian else ">"))
        and plan.fill_order == 1
        and plan.predictor in (1, 2)
    )


def decode_chunk_into(plan: DecodePlan, chunk: Chunk, data: BytesLike, view: np.ndarray) -> int:
    """Decode ``data`` into ``view`` (a C-contiguous ``(rows, width, samples)`` part of the output).

    Returns the number of whole rows decoded (fewer than ``view`` holds for a truncated chunk).
    Only for plans where ``can_decode_into(plan)`` is true.
    """
    codec = codec_for(plan)
    flat = view.reshape(-1).view(np.uint8)
    try:
        written = codec.decode_into(data, flat)
    except Exception as exc:  # any codec failure becomes a DecodeError naming the chunk
        raise _codec_failure(plan, chunk, exc) from exc
    row_bytes = view.shape[1] * view.shape[2] * view.itemsize
    rows = min(view.shape[0], written // row_bytes)
    if plan.predictor == 2 and rows:
        part = view[:rows]
        imagecodecs.delta_decode(part, axis=-2, out=part)
    return rows


def decode_chunk_window(plan: DecodePlan, chunk: Chunk, data: BytesLike, view: np.ndarray) -> int:
    """Decode ``data`` into this thread's scratch and copy its top-left part into ``view`` (the chunk's visible
    window, which starts at the chunk's origin), undoing a horizontal predictor on the way; returns the rows
    placed. For plans ``can_decode_into`` allows: the tiles of most files, with none of ``decode_chunk``'s
    general steps (a few microseconds a chunk, under the GIL, was what bounded small tiles on many threads)."""
    dtype = np.dtype(plan.dtype)
    samples = plan.samples_per_chunk
    row_bytes = chunk.width * samples * dtype.itemsize
    buffer = _scratch_buffer(chunk.height * row_bytes)
    try:
        written = codec_for(plan).decode_into(data, buffer)
    except Exception as exc:  # any codec failure becomes a DecodeError naming the chunk
        raise _codec_failure(plan, chunk, exc) from exc
    rows = min(chunk.height, written // row_bytes)
    if rows == 0:
        raise DecodeError(
            f"chunk {chunk.index} decoded to {written} bytes, less than one row of {row_bytes}",
            path=plan.source_name,
            offset=chunk.offset,
        )
    rows = min(rows, view.shape[0])
    pixels = buffer[: rows * row_bytes].view(dtype).reshape(rows, chunk.width, samples)[:, : view.shape[1]]
    if plan.predictor == 2:
        imagecodecs.delta_decode(pixels, axis=-2, out=view[:rows])  # a prefix of a row's running sum is its own
    else:
        view[:rows] = pixels
    return rows

"""The LZW kernel for a few chunks (a block a chunk, its segments decoded side by side) against imagecodecs and
against the warp-per-chunk kernel of large batches, on the same streams (``tests/lzw_streams.py``). Both kernels
must give the same bytes and the same ``written`` per chunk.

Marked ``gpu``: skipped without CuPy and a CUDA device.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
from lzw_streams import STREAMS, UNDECODABLE

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

from tiffstream.gpu.decompress import launch_lzw


def _decode(streams: list[bytes], capacities: list[int]) -> tuple[str, np.ndarray, list[bytes]]:
    """The kernel launch_lzw picks for these chunks, its ``written`` and each output (as far as capacity)."""
    sizes = np.array([len(s) for s in streams], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blob = cp.asarray(np.frombuffer(b"".join(streams), np.uint8))
    out = cp.full(len(streams) * 65536, 7, cp.uint8)
    src = cp.asarray((blob.data.ptr + starts).astype(np.uint64))
    dst = cp.asarray((out.data.ptr + np.arange(len(streams), dtype=np.int64) * 65536).astype(np.uint64))
    written = cp.zeros(len(streams), cp.int64)
    args = (src, cp.asarray(sizes), dst, cp.asarray(np.array(capacities, np.int64)))
    name = launch_lzw(args, written, len(streams), 65536)
    got = out.get().reshape(len(streams), 65536)
    return name, written.get(), [bytes(got[k, :c]) for k, c in enumerate(capacities)]


@pytest.mark.parametrize("name", list(STREAMS))
def test_few_chunks_decode_as_many(name: str) -> None:
    stream, capacity = STREAMS[name]
    few_kernel, few_written, few_out = _decode([stream] * 3, [capacity] * 3)
    many = 2 * cp.cuda.Device().attributes["MultiProcessorCount"] + 1
    many_kernel, many_written, many_out = _decode([stream] * many, [capacity] * many)
    assert (few_kernel, many_kernel) == ("lzw_decode16_segments", "lzw_decode16")
    assert few_written.tolist() == [many_written[0]] * 3 and len(set(many_written.tolist())) == 1
    assert few_out == [many_out[0]] * 3
    if name not in UNDECODABLE:
        expected = imagecodecs.lzw_decode(stream)[:capacity]
        assert few_written[0] == len(expected) and few_out[0][: len(expected)] == expected
    if name == "invalid code":
        assert few_written[0] == -1

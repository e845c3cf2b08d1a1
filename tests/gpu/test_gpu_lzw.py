"""The LZW kernel for a few chunks (a block a chunk, its segments decoded side by side) against imagecodecs and
against the warp-per-chunk kernel of large batches, on the same streams: segments of libtiff's and imagecodecs'
lengths, early and empty segments, long strings, outputs that fill before the codes end or end early, truncated
and invalid streams, the old style. Both kernels must give the same bytes and the same ``written`` per chunk.

Marked ``gpu``: skipped without CuPy and a CUDA device.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
from _tiffbuild import lzw_with_clears, old_style_lzw

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

from tiffstream.gpu.decompress import launch_lzw

rng = np.random.default_rng(11)
NOISY = np.clip(rng.normal(128, 4, 65536), 0, 255).astype(np.uint8).tobytes()
SMOOTH = (np.add.outer(np.arange(256), np.arange(256)) // 5 % 256).astype(np.uint8).tobytes()


def _invalid_in_segment_four(stream: bytes) -> bytes:
    broken = bytearray(stream)
    broken[len(stream) // 2 : len(stream) // 2 + 3] = b"\xff\xff\xff"  # a 12-bit code past the table
    return bytes(broken)


STREAMS = {  # name: (stream, output capacity)
    "imagecodecs": (imagecodecs.lzw_encode(NOISY), 65536),
    "full segments": (lzw_with_clears(NOISY, []), 65536),
    "early clears": (lzw_with_clears(NOISY, [515, 1075]), 65536),
    "empty segments": (lzw_with_clears(NOISY, [1, 0, 2, 700, 0]), 65536),
    "smooth": (lzw_with_clears(SMOOTH, [300]), 65536),
    "long strings": (lzw_with_clears(bytes(65536), [10]), 65536),
    "fills early": (lzw_with_clears(NOISY, []), 40000),
    "room to spare": (lzw_with_clears(NOISY[:50001], [900]), 65536),
    "truncated": (lzw_with_clears(NOISY, [])[:20000], 65536),
    "invalid code": (_invalid_in_segment_four(lzw_with_clears(NOISY, [])), 65536),
    "old style": (old_style_lzw(NOISY[:30000]), 30000),
    "tiny": (lzw_with_clears(b"abcabcabc", []), 9),
    "one segment": (lzw_with_clears(NOISY[:3000], []), 3000),
}


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
    if name not in ("truncated", "invalid code"):  # imagecodecs raises for these; the kernels agree above
        expected = imagecodecs.lzw_decode(stream)[:capacity]
        assert few_written[0] == len(expected) and few_out[0][: len(expected)] == expected
    if name == "invalid code":
        assert few_written[0] == -1

"""The LZW kernels of ``gpu/cuda/lzw.cu`` run on the CPU (``tools/cuda_emu``: a thread per GPU thread, barriers
for the block's and the warp's synchronisation), so CI checks what they compute without a GPU: the kernel for a
few chunks (a block a chunk, its segments decoded side by side by groups of 128 threads) against imagecodecs and
against the warp-per-chunk kernel of large batches, on the streams of ``tests/lzw_streams.py``, with as many
groups a block as an H100 gives and with one; and which chunks it leaves to one warp. The GPU tests
(tests/gpu/test_gpu_lzw.py) check the same on a device.
"""

from __future__ import annotations

import ctypes

import cuda_emu
import imagecodecs
import pytest
from lzw_streams import STREAMS, UNDECODABLE

cuda_emu.require_compiler()

HOST = r"""
extern "C" void few(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w, long long n, int groups) {
    emu_launch((unsigned)n, 128u * groups, [=] { lzw_decode16_segments(s, ss, d, dc, w, n); });
}
extern "C" void many(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w, long long n) {
    emu_launch((unsigned)n, 32u, [=] { lzw_decode16(s, ss, d, dc, w, n); });
}
extern "C" long long one_warp_chunks() { return emu_marks.exchange(0); }
"""
ONE_WARP = "    } else if (warp == 0) {\n"  # lzw_decode16_segments leaves the chunk to one warp
ONE_WARP_EXPECTED = {"old style", "invalid code", "fills early"}  # old style, an invalid code, output past capacity


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    edits = {ONE_WARP: ONE_WARP + "        if (lane == 0) emu_marks++;\n"}
    return cuda_emu.build("lzw.cu", HOST, tmp_path_factory.mktemp("lzw"), edits)


def _decode(kernels: ctypes.CDLL, kernel: str, names: list[str], groups: int = 0) -> tuple[list[int], list[bytes], int]:
    """``written``, each output as far as its capacity, and how many chunks the few-chunks kernel left to one
    warp; all chunks in one launch."""
    extra = [ctypes.c_int(groups)] if kernel == "few" else []
    kernels.one_warp_chunks()
    streams, capacities = [STREAMS[name][0] for name in names], [STREAMS[name][1] for name in names]
    written, outs = cuda_emu.decode_chunks(getattr(kernels, kernel), streams, capacities, *extra)
    return written, outs, kernels.one_warp_chunks()


@pytest.mark.parametrize("groups", [8, 1])
def test_few_chunks_decode_as_imagecodecs(kernels: ctypes.CDLL, groups: int) -> None:
    names = list(STREAMS)
    few_written, few_out, one_warp = _decode(kernels, "few", names, groups)
    assert one_warp == len(ONE_WARP_EXPECTED)  # every other stream decoded by the block's groups
    for name, written, out in zip(names, few_written, few_out):
        if name not in UNDECODABLE:
            expected = imagecodecs.lzw_decode(STREAMS[name][0])[: STREAMS[name][1]]
            assert written == len(expected) and out[: len(expected)] == expected, name
    assert few_written[names.index("invalid code")] == -1


def test_few_chunks_decode_as_many(kernels: ctypes.CDLL) -> None:
    """Where imagecodecs gives no reference (a cut stream, an invalid code) or the kernels stop early (output
    past its capacity), the few-chunks kernel ends as the warp-per-chunk kernel does: same ``written``, bytes."""
    names = [*UNDECODABLE, "fills early", "tiny"]
    many_written, many_out, _ = _decode(kernels, "many", names)
    few_written, few_out, _ = _decode(kernels, "few", names, 8)
    for name, few, many, out, expected_out in zip(names, few_written, many_written, few_out, many_out):
        assert few == many, name
        assert out[: max(few, 0)] == expected_out[: max(many, 0)], name


def test_one_warp_for_exactly_those(kernels: ctypes.CDLL) -> None:
    """Each stream alone: the block path declines the old style, invalid codes and overflowing outputs only."""
    declined = {name for name in STREAMS if _decode(kernels, "few", [name], 8)[2]}
    assert declined == ONE_WARP_EXPECTED

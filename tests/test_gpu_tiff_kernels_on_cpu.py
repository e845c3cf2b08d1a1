"""The post-decompression kernels of ``gpu/cuda/tiff.cu`` run on the CPU (``tools/cuda_emu``), launched as
``gpu/postprocess.py`` and ``gpu/decompress.py`` launch them, against numpy and imagecodecs: PackBits (whole,
capacity short of the output, cut streams), predictor 2 for 1-, 2-, 4- and 8-byte samples (rows of 1 to 257
pixels, 1 to 4 samples: stretches shorter than a warp and longer), byte swaps, the floating-point predictor,
and the scatter of decoded chunks into their outputs.
The GPU tests (tests/gpu) check the same kernels on a device, inside the pipeline.
"""

from __future__ import annotations

import ctypes

import cuda_emu
import imagecodecs
import numpy as np
import pytest
from cuda_emu import addresses, pointers

cuda_emu.require_compiler()

HOST = r"""
extern "C" void packbits(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w, long long n) {
    emu_launch((unsigned)((n + 63) / 64), 64u, [=] { packbits_decode(s, ss, d, dc, w, n); });
}
extern "C" void horizontal(int itemsize, const u64* p, const i64* rows, int width, int samples, long long n,
                           unsigned blocks_x) {
    emu_launch(Dim3{blocks_x, (unsigned)n, 1}, 128u, [=] {
        if (itemsize == 1) undo_horizontal_1(p, rows, width, samples, n);
        if (itemsize == 2) undo_horizontal_2(p, rows, width, samples, n);
        if (itemsize == 4) undo_horizontal_4(p, rows, width, samples, n);
        if (itemsize == 8) undo_horizontal_8(p, rows, width, samples, n);
    });
}
extern "C" void swap(const u64* p, const i64* nbytes, int itemsize, long long n, unsigned blocks_x) {
    emu_launch(Dim3{blocks_x, (unsigned)n, 1}, 64u, [=] { byteswap(p, nbytes, itemsize, n); });
}
extern "C" void place(const u64* s, const i64* srb, const i64* sr, const i64* fr, const i64* skip, const u64* d,
                      const i64* drb, const i64* cr, const i64* cb, long long n, unsigned blocks_x) {
    emu_launch(Dim3{blocks_x, (unsigned)n, 1}, 128u, [=] { scatter(s, srb, sr, fr, skip, d, drb, cr, cb, n); });
}
extern "C" void float_predictor(const u64* s, const u64* d, const i64* rows, int row_items, int itemsize, int samples,
                                long long n, unsigned blocks_x) {
    emu_launch(Dim3{blocks_x, (unsigned)n, 1}, 32u, [=] { undo_float_predictor(s, d, rows, row_items, itemsize, samples, n); });
}
"""


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    return cuda_emu.build("tiff.cu", HOST, tmp_path_factory.mktemp("tiff"))


def test_packbits(kernels: ctypes.CDLL) -> None:
    rng = np.random.default_rng(3)
    runs = np.repeat(rng.integers(0, 256, 300, dtype=np.uint8), rng.integers(1, 200, 300)).tobytes()
    noise = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    encoded = [imagecodecs.packbits_encode(runs), imagecodecs.packbits_encode(noise), b"\x80\x01ab\xfdZ"]
    expected = [runs, noise, b"abZZZZ"]
    cases = [(e, x, len(x), False) for e, x in zip(encoded, expected)]  # (stream, output, capacity, cut)
    cases += [(encoded[0], runs, 1000, False), (encoded[1][:2000], noise, len(noise), True)]
    cases += [(encoded[0][:-1], runs, len(runs), True)]
    streams, capacities = [case[0] for case in cases], [case[2] for case in cases]
    written, outs = cuda_emu.decode_chunks(kernels.packbits, streams, capacities)
    for (_, whole, capacity, cut), out, got in zip(cases, outs, written):
        if cut:  # what the stream holds, as far as it goes
            assert 0 < got < len(whole)
        else:
            assert got == min(len(whole), capacity)
        assert out[:got] == whole[:got]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_horizontal_predictor(kernels: ctypes.CDLL, dtype: type) -> None:
    rng = np.random.default_rng(5)
    for width, samples in ((1, 1), (7, 3), (32, 1), (33, 4), (257, 3)):
        original = [
            rng.integers(0, np.iinfo(dtype).max, (rows, width, samples), dtype=dtype, endpoint=True) for rows in (1, 5)
        ]
        chunks = [np.diff(o, axis=1, prepend=np.zeros((o.shape[0], 1, samples), dtype)) for o in original]
        rows = np.array([c.shape[0] for c in chunks], np.int64)
        table = addresses(chunks)
        kernels.horizontal(
            ctypes.c_int(np.dtype(dtype).itemsize),
            *pointers(table, rows),
            ctypes.c_int(width),
            ctypes.c_int(samples),
            ctypes.c_longlong(len(chunks)),
            ctypes.c_uint(-(-int(rows.max()) * 32 // 128)),
        )
        for chunk, expected in zip(chunks, original):
            np.testing.assert_array_equal(chunk, expected, err_msg=f"width {width}, samples {samples}")


@pytest.mark.parametrize("itemsize", [2, 4, 8])
def test_byteswap(kernels: ctypes.CDLL, itemsize: int) -> None:
    rng = np.random.default_rng(itemsize)
    chunks = [rng.integers(0, 256, n * itemsize, dtype=np.uint8) for n in (1, 100, 1000)]
    expected = [c.view(f"u{itemsize}").byteswap().view(np.uint8) for c in chunks]
    nbytes = np.array([c.size for c in chunks], np.int64)
    kernels.swap(
        *pointers(addresses(chunks), nbytes), ctypes.c_int(itemsize), ctypes.c_longlong(len(chunks)), ctypes.c_uint(4)
    )
    for chunk, swapped in zip(chunks, expected):
        np.testing.assert_array_equal(chunk, swapped)


@pytest.mark.parametrize(("dtype", "samples"), [("<f4", 1), ("<f4", 3), ("<f8", 2), ("<f2", 1)])
def test_float_predictor(kernels: ctypes.CDLL, dtype: str, samples: int) -> None:
    rng = np.random.default_rng(7)
    images = [rng.normal(0, 1000, (rows, 45, samples)).astype(dtype) for rows in (1, 6)]
    encoded = [np.frombuffer(imagecodecs.floatpred_encode(i, axis=-2).tobytes(), np.uint8).copy() for i in images]
    outs = [np.zeros(i.nbytes, np.uint8) for i in images]
    rows = np.array([i.shape[0] for i in images], np.int64)
    kernels.float_predictor(
        *pointers(addresses(encoded), addresses(outs), rows),
        ctypes.c_int(45 * samples),
        ctypes.c_int(np.dtype(dtype).itemsize),
        ctypes.c_int(samples),
        ctypes.c_longlong(len(images)),
        ctypes.c_uint(1),
    )
    for out, image in zip(outs, images):
        np.testing.assert_array_equal(out.view(dtype).reshape(image.shape), image)


@pytest.mark.parametrize("itemsize", [3, 4])  # rows copied bytewise, and as 32-bit words
def test_scatter(kernels: ctypes.CDLL, itemsize: int) -> None:
    """Chunks of a 4x4-tile image placed into it (edge tiles cut, a chunk that decoded only some rows), as
    ``gpu/postprocess.scatter`` describes them."""
    rng = np.random.default_rng(9)
    tile = 16  # 16x16 tiles of 3- or 4-byte pixels; the image 56x61 pixels
    height, width = 56, 61
    out = np.zeros((height, width * itemsize), np.uint8)
    expected = np.zeros_like(out)
    chunks, fields = [], []  # fields: src row bytes, decoded rows, first row, skip, dst, dst row bytes, rows, bytes
    for ty in range(0, height, tile):
        for tx in range(0, width, tile):
            chunk = rng.integers(0, 256, (tile, tile * itemsize), dtype=np.uint8)
            decoded = tile if (ty, tx) != (16, 32) else 5  # this chunk decoded 5 rows only
            rows, cols = min(tile, height - ty), min(tile, width - tx)
            expected[ty : ty + min(rows, decoded), tx * itemsize : (tx + cols) * itemsize] = chunk[
                : min(rows, decoded), : cols * itemsize
            ]
            chunks.append(chunk)
            dst = out.ctypes.data + ty * out.shape[1] + tx * itemsize
            fields.append((tile * itemsize, decoded, 0, 0, dst, out.shape[1], rows, cols * itemsize))
    table = np.array(fields, np.int64).T
    srb, sr, fr, skip, dst, drb, cr, cb = (np.ascontiguousarray(column) for column in table)
    dst = dst.astype(np.uint64)
    kernels.place(
        *pointers(addresses(chunks), srb, sr, fr, skip, dst, drb, cr, cb),
        ctypes.c_longlong(len(chunks)),
        ctypes.c_uint(4),
    )
    np.testing.assert_array_equal(out, expected)

"""The LZW kernels alone, on tiles like benchmark (f): 256x256 uint8 with predictor 2, LZW-coded by imagecodecs.

    python benchmarks/gpu_lzw.py [--copies N]

448 distinct tiles (8 pages of the gpu_decode content) are decoded N times over (default 24: 10,752 chunks,
as in (f)); each kernel's time is the median of 5 launches (CUDA events), and its output is checked
against the tiles before predictor decoding. Shows what bounds row (f) apart from I/O.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys

import cupy as cp
import imagecodecs
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gpu_decode import content

from tiffstream.gpu.kernels import kernel


def differenced_tiles() -> list[np.ndarray]:
    """The (f) file's tiles as stored before LZW: each row differenced (predictor 2), edge tiles padded."""
    tiles = []
    for z in range(8):
        page = np.zeros((1792, 2048), np.uint8)
        page[:1567] = content(1567, 2048, z, "uint8")
        for y in range(0, 1792, 256):
            for x in range(0, 2048, 256):
                tile = page[y : y + 256, x : x + 256].astype(np.int16)
                tiles.append(np.concatenate([tile[:, :1], tile[:, 1:] - tile[:, :-1]], axis=1).astype(np.uint8))
    return tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=24)
    args = parser.parse_args()
    raw = differenced_tiles()
    encoded = [imagecodecs.lzw_encode(tile.tobytes()) for tile in raw]
    count = len(encoded) * args.copies
    sizes = np.array([len(e) for e in encoded] * args.copies, np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blob = cp.asarray(np.frombuffer(b"".join(encoded * args.copies), np.uint8))
    out = cp.empty(count * 65536, cp.uint8)
    src = cp.asarray((blob.data.ptr + starts).astype(np.uint64))
    dst = cp.asarray((out.data.ptr + np.arange(count, dtype=np.int64) * 65536).astype(np.uint64))
    d_sizes, capacity = cp.asarray(sizes), cp.full(count, 65536, cp.int64)
    written = cp.zeros(count, cp.int64)
    expected = np.concatenate([tile.reshape(-1) for tile in raw] * args.copies)
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"GPU {name}; {count} chunks, {sizes.sum() / 1e6:.0f} MB compressed -> {count * 65536 / 1e6:.0f} MB")
    launches = {
        "lzw_decode (15 KiB packed prefix table, 1 chunk a block)": ("lzw_decode", (count,), (1,), 3840 * 4),
        "lzw_decode_small (7.5 KiB offset table, 2 chunks a block)": (
            "lzw_decode_small",
            (-(-count // 2),),
            (2,),
            2 * 3840 * 2,
        ),
    }
    args_ = (src, d_sizes, dst, capacity, written, np.int64(count))
    for label, (function, grid, block, shared) in launches.items():
        run = kernel(function)
        out.fill(0)
        run(grid, block, args_, shared_mem=shared)
        cp.cuda.Device().synchronize()
        ok = bool((written == 65536).all()) and np.array_equal(out.get(), expected)
        times = []
        for _ in range(5):
            begin, end = cp.cuda.Event(), cp.cuda.Event()
            begin.record()
            run(grid, block, args_, shared_mem=shared)
            end.record()
            end.synchronize()
            times.append(cp.cuda.get_elapsed_time(begin, end))
        ms = statistics.median(times)
        print(f"{label:<60} {ms:7.2f} ms  {count * 65536 / ms / 1e6:6.1f} GB/s out  correct={ok}")


if __name__ == "__main__":
    main()

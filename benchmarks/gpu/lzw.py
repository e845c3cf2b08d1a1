"""The LZW kernels alone, on chunks like benchmark (f) and (g): what bounds those rows apart from I/O.

    python benchmarks/gpu/lzw.py [--copies N]

Chunks of 8 pages of the gpu_decode content, LZW-coded by imagecodecs and decoded N times over (default 24:
10,752 tiles, as in (f)), then one page's 56 tiles (the latency of one image): 256x256 tiles with predictor 2 (f), without (g), and 128-row strips (2048 wide,
256 KiB, which take the kernel with 32-bit positions). Each time is the median of 5 launches (CUDA events);
every output is checked against the chunks before coding.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys

import cupy as cp
import imagecodecs
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
from gpu_decode import content

from tiffstream.gpu.decompress import launch_lzw


def chunks(kind: str) -> list[np.ndarray]:
    """The chunks of 8 pages as stored before LZW: tiles (edge tiles padded; (f) rows differenced) or strips."""
    out = []
    for z in range(8):
        page = np.zeros((1792, 2048), np.uint8)
        page[:1567] = content(1567, 2048, z, "uint8")
        if kind == "strips":
            out += [page[y : min(y + 128, 1567)].reshape(-1) for y in range(0, 1567, 128)]
            continue
        for y in range(0, 1792, 256):
            for x in range(0, 2048, 256):
                tile = page[y : y + 256, x : x + 256].astype(np.int16)
                if kind == "f":
                    tile = np.concatenate([tile[:, :1], tile[:, 1:] - tile[:, :-1]], axis=1)
                out.append(tile.astype(np.uint8).reshape(-1))
    return out


def measure(kind: str, copies: int, first: int | None = None) -> None:
    raw = (chunks(kind) * copies)[:first]
    encoded = ([imagecodecs.lzw_encode(chunk.tobytes()) for chunk in chunks(kind)] * copies)[:first]
    count, size = len(raw), max(len(chunk) for chunk in raw)
    sizes = np.array([len(e) for e in encoded], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blob = cp.asarray(np.frombuffer(b"".join(encoded), np.uint8))
    out = cp.zeros(count * size, cp.uint8)
    src = cp.asarray((blob.data.ptr + starts).astype(np.uint64))
    dst = cp.asarray((out.data.ptr + np.arange(count, dtype=np.int64) * size).astype(np.uint64))
    capacity = cp.asarray(np.array([len(chunk) for chunk in raw], np.int64))
    written = cp.zeros(count, cp.int64)
    args = (src, cp.asarray(sizes), dst, capacity)
    name = launch_lzw(args, written, count, size)  # as the backend launches it
    cp.cuda.Device().synchronize()
    got = out.get().reshape(count, size)
    ok = bool((written == capacity).all()) and all(np.array_equal(got[i, : len(c)], c) for i, c in enumerate(raw))
    times = []
    for _ in range(5):
        begin, end = cp.cuda.Event(), cp.cuda.Event()
        begin.record()
        launch_lzw(args, written, count, size)
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(begin, end))
    ms = statistics.median(times)
    total = int(capacity.sum())
    print(
        f"{kind:<7} {count:6d} chunks {sizes.sum() / 1e6:5.0f} MB -> {total / 1e6:4.0f} MB  {name}: "
        f"{ms:7.2f} ms  {total / ms / 1e6:6.1f} GB/s out  correct={ok}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=24)
    args = parser.parse_args()
    print(f"GPU {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    for kind in ("f", "g", "strips"):
        measure(kind, args.copies)
    for kind in ("f", "g"):  # one page's tiles (56), which take the kernel for few chunks (a block a tile)
        measure(kind, 1, 56)


if __name__ == "__main__":
    main()

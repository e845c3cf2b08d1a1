"""CPU decode speed and peak memory vs tifffile + imagecodecs, same files, same thread count, same run.

    python benchmarks/cpu_decode.py [--dir DIR] [--threads N] [--size 8192] [--budget SECONDS]

Cases (files written once with tifffile): SIZE x SIZE RGB uint8 in 256x256 tiles with none, deflate,
LZW + predictor, zstd, JPEG and WebP; the seed-like 192-page 2048x1567 uint8 deflate-strip stack with two
SubIFD levels; a 16-bit deflate-tiled stack; a gray page in 64x64 deflate tiles with a predictor (many small
chunks: what each chunk costs besides its codec); 1024 random 512x512 regions of the deflate RGB file.
Prints MPix/s for both, the ratio (ours / tifffile speed, > 1: we are faster) and peak RSS over output size.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import pathlib
import resource
import sys
import tempfile
import time

import imagecodecs
import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine
from parse import seed_like

import tiffstream


def synthetic_rgb(size: int) -> np.ndarray:
    """A smooth picture with texture: compresses like a photograph, not like noise or a flat field."""
    y, x = np.ogrid[0:size, 0:size]
    rng = np.random.default_rng(42)
    base = np.empty((size, size, 3), np.uint8)
    for channel, (fy, fx) in enumerate(((37.0, 53.0), (71.0, 29.0), (45.0, 45.0))):
        plane = 127 + 60 * np.sin(x / fx + channel) * np.cos(y / fy) + 30 * np.sin((x + y) / 311.0)
        base[:, :, channel] = np.clip(plane + rng.normal(0, 6, (size, size)), 0, 255).astype(np.uint8)
    return base


def write_files(folder: pathlib.Path, size: int) -> dict[str, pathlib.Path]:
    files: dict[str, pathlib.Path] = {}
    rgb = None
    for name, options in {
        "none": {},
        "deflate": {"compression": "zlib"},
        "lzw+pred": {"compression": "lzw", "predictor": True},
        "zstd": {"compression": "zstd"},
        "jpeg": {"compression": "jpeg", "compressionargs": {"level": 90}},
        "webp": {"compression": "webp", "compressionargs": {"level": 90}},
    }.items():
        path = folder / f"rgb{size}_{name}.tif"
        if not path.exists():
            rgb = synthetic_rgb(size) if rgb is None else rgb
            tifffile.imwrite(
                path.with_suffix(".partial"),
                rgb,
                tile=(256, 256),
                photometric="rgb",
                maxworkers=os.cpu_count(),
                **options,
            )
            path.with_suffix(".partial").rename(path)
        files[f"{size}x{size} RGB tiles {name}"] = path
    page = (np.hypot(*np.mgrid[0:1567, 0:2048] - 800) % 200).astype(np.uint8)
    seed = seed_like(folder / "seed_like_deflate.ome.tif", page)
    files["seed-like 192 pages deflate strips"] = seed
    stack16 = folder / "stack16_deflate_tiles.tif"
    if not stack16.exists():
        rng = np.random.default_rng(1)
        plane = (np.hypot(*np.mgrid[0:2048, 0:2048] - 1000) * 20).astype(np.uint16)
        with tifffile.TiffWriter(stack16.with_suffix(".partial")) as writer:
            for z in range(16):
                data = plane + rng.integers(0, 64, plane.shape, dtype=np.uint16) + np.uint16(z)
                writer.write(
                    data, tile=(256, 256), compression="zlib", photometric="minisblack", maxworkers=os.cpu_count()
                )
        stack16.with_suffix(".partial").rename(stack16)
    files["16 pages 2048x2048 uint16 deflate tiles"] = stack16
    small = folder / f"gray{size}_deflate_64tiles.tif"  # 4,096 tiles a 4096x4096 page: the per-tile cost shows
    if not small.exists():
        rgb = synthetic_rgb(size) if rgb is None else rgb
        tifffile.imwrite(
            small.with_suffix(".partial"),
            np.ascontiguousarray(rgb[:, :, 1]),
            tile=(64, 64),
            compression="zlib",
            predictor=True,
            photometric="minisblack",
            maxworkers=os.cpu_count(),
        )
        small.with_suffix(".partial").rename(small)
    files[f"{size}x{size} gray 64x64 tiles deflate+pred"] = small
    return files


def _pages(path: pathlib.Path) -> int:
    with tifffile.TiffFile(path) as tif:
        return len(tif.pages)


def run_tifffile(path: pathlib.Path, threads: int) -> np.ndarray:
    count = _pages(path)
    return tifffile.imread(path, key=range(count) if count > 1 else 0, maxworkers=threads)


def run_ours(path: pathlib.Path, threads: int) -> np.ndarray:
    with tiffstream.open(path) as tif:
        return tif.asarray(0 if len(tif.pages) == 1 else slice(None), max_workers=threads)


def regions(path: pathlib.Path, count: int = 1024, size: int = 512) -> list[tuple[int, int, int, int]]:
    with tiffstream.open(path) as tif:
        height, width = tif.pages[0].height, tif.pages[0].width
    rng = np.random.default_rng(7)
    ys = rng.integers(0, height - size, count)
    xs = rng.integers(0, width - size, count)
    return [(int(y), int(x), int(y) + size, int(x) + size) for y, x in zip(ys, xs)]


def run_tifffile_regions(path: pathlib.Path, threads: int, boxes) -> int:
    total = 0
    with tifffile.TiffFile(path) as tif:
        store = tif.aszarr(level=0)  # tifffile's own region reader: decodes only the touched tiles
        import zarr

        array = zarr.open(store, mode="r")
        for y0, x0, y1, x1 in boxes:
            total += array[y0:y1, x0:x1].size
    return total


def run_ours_regions(path: pathlib.Path, threads: int, boxes) -> int:
    total = 0
    with tiffstream.open(path) as tif:
        page = tif.pages[0]
        for box in boxes:
            total += page.asarray(region=box, max_workers=threads).size
    return total


def timed(func, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def _peak_child(queue, func, args) -> None:
    func(*args)
    # VmHWM belongs to this process's own address space (ru_maxrss would carry the parent's over exec)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                queue.put(int(line.split()[1]) * 1024)
                return
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def _nothing() -> None:
    """Baseline for peak RSS: the interpreter with numpy, tifffile and tiffstream imported."""


def peak_rss(func, *args) -> int:
    """Peak resident memory (bytes) of a fresh process that runs ``func(*args)`` once."""
    context = multiprocessing.get_context("spawn")  # a fresh process: nothing inherited from this one
    queue = context.Queue()
    process = context.Process(target=_peak_child, args=(queue, func, args))
    process.start()
    value = queue.get()
    process.join()
    return int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory subprocesses")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("tifffile").setLevel(logging.ERROR)
    files = write_files(args.dir, args.size)
    print(
        f"tiffstream {tiffstream.__version__}, tifffile {tifffile.__version__}, imagecodecs {imagecodecs.__version__}, "
        f"numpy {np.__version__}; {machine()}; {args.threads} threads for both"
    )
    print(f"{'case':<42} {'tifffile':>10} {'tiffstream':>11} {'ratio':>6}  {'RSS/out tifffile':>16} {'ours':>6}  equal")
    baseline = peak_rss(_nothing) if not args.no_rss else 0
    for case, path in files.items():
        expected = run_tifffile(path, args.threads)
        ours = run_ours(path, args.threads)
        equal = bool(np.array_equal(expected, ours))
        theirs_t = min(timed(run_tifffile, path, args.threads)[0] for _ in range(args.repeats))
        ours_t = min(timed(run_ours, path, args.threads)[0] for _ in range(args.repeats))
        mpix = expected.size / (expected.shape[-1] if expected.ndim >= 3 and expected.shape[-1] <= 4 else 1) / 1e6
        rss = ""
        if not args.no_rss:
            theirs_rss = (peak_rss(run_tifffile, path, args.threads) - baseline) / expected.nbytes
            ours_rss = (peak_rss(run_ours, path, args.threads) - baseline) / expected.nbytes
            rss = f"{theirs_rss:16.2f} {ours_rss:6.2f}"
        del expected, ours
        print(
            f"{case:<42} {mpix / theirs_t:7.0f} MP/s {mpix / ours_t:7.0f} MP/s {theirs_t / ours_t:5.2f}x  {rss}  {equal}"
        )
    path = files[f"{args.size}x{args.size} RGB tiles deflate"]
    boxes = regions(path)
    try:
        import zarr  # noqa: F401

        theirs_t = min(timed(run_tifffile_regions, path, args.threads, boxes)[0] for _ in range(args.repeats))
    except ImportError:
        theirs_t = float("nan")
    ours_t = min(timed(run_ours_regions, path, args.threads, boxes)[0] for _ in range(args.repeats))
    with tiffstream.open(path) as tif, tifffile.TiffFile(path) as reference:
        full = reference.pages[0].asarray()
        equal = all(np.array_equal(tif.pages[0].asarray(region=b), full[b[0] : b[2], b[1] : b[3]]) for b in boxes[:32])
    mpix = len(boxes) * 512 * 512 / 1e6
    print(
        f"{'1024 random 512x512 regions (deflate RGB)':<42} {mpix / theirs_t:7.0f} MP/s {mpix / ours_t:7.0f} MP/s "
        f"{theirs_t / ours_t:5.2f}x  (tifffile via aszarr+zarr)  {equal}"
    )


if __name__ == "__main__":
    main()

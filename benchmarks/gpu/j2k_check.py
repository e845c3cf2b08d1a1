"""JPEG 2000 tiles through the GPU pipeline (nvJPEG2000): pixels against tifffile (OpenJPEG) and speed beside
nvImageCodec and tifffile.

    python benchmarks/gpu/j2k_check.py [--dir DIR] [--lanes 1,2,4,8] [FILE.tif ...]

Per file (every page of generated files, the first page of others): max |diff| and the histogram of differences
against tifffile; ours GPU_ONLY for all pages and for one page, over each count of lanes
(``GpuSettings.jpeg2000_lanes``: host threads with a side stream each); nvImageCodec 0.9 GPU_ONLY on the same pages; tifffile with 16 threads.
"""

from __future__ import annotations

import argparse
import functools
import os
import pathlib
import tempfile

import cupy as cp
import numpy as np
import tifffile
from jpeg_check import median_ms  # this folder is on sys.path when the script runs

import tiffstream


def picture(size: int, seed: int) -> np.ndarray:
    y, x = np.ogrid[0:size, 0:size]
    rng = np.random.default_rng(seed)
    data = np.stack([128 + 90 * np.sin(x / (23.0 + 7 * c + seed)) * np.cos(y / 31.0) for c in range(3)], -1)
    return np.clip(data + rng.normal(0, 6, data.shape), 0, 255).astype(np.uint8)


def generated(folder: pathlib.Path, count: int) -> list[pathlib.Path]:
    """The first ``count`` of: 4 pages of 2048x2048 each, RGB lossy and lossless (256 tiles), gray 16-bit lossless, RGB 512 tiles."""
    cases = {
        "j2k_rgb_256": ({"level": 80}, (256, 256), "rgb"),
        "j2k_lossless_256": ({"level": 0}, (256, 256), "rgb"),
        "j2k_gray16_256": ({"level": 0}, (256, 256), "gray16"),
        "j2k_rgb_512": ({"level": 80}, (512, 512), "rgb"),
    }
    paths = []
    for name, (args, tile, kind) in list(cases.items())[:count]:
        path = folder / f"{name}.tif"
        paths.append(path)
        if path.exists():
            continue
        with tifffile.TiffWriter(path) as writer:
            for page in range(4):
                data = picture(2048, page)
                if kind == "gray16":
                    data = data[..., 1].astype(np.uint16) * 257 + page
                writer.write(data, compression="jpeg2000", compressionargs=args, tile=tile, maxworkers=os.cpu_count())
    return paths


def difference(results, expected: list[np.ndarray]) -> str:
    diffs = [
        np.abs(cp.asarray(r).get().reshape(e.shape).astype(np.int32) - e.astype(np.int32)).ravel()
        for r, e in zip(results, expected)
    ]
    every = np.concatenate(diffs)
    counts = np.bincount(np.minimum(every, 9))
    return f"max|diff| {int(every.max())} hist " + " ".join(f"{v}:{int(n)}" for v, n in enumerate(counts) if n)


def check(path: pathlib.Path, pages: int | None, streams: list[int], nvimgcodec) -> None:
    with tifffile.TiffFile(path) as tif:
        count = len(tif.pages) if pages is None else pages
        keys = list(range(count))
        expected = [tif.pages[k].asarray() for k in keys]
        page = tif.pages[0]
        print(
            f"\n{path.name}: {count} x {page.shape} {page.dtype} compression {page.compression} tile {page.tilewidth}"
        )
    mpix = sum(e.shape[0] * e.shape[1] for e in expected) / 1e6
    t = median_ms(lambda: [tifffile.imread(path, key=k, maxworkers=16) for k in keys], 3)
    print(f"  tifffile 16 threads: {mpix / t * 1e3:6.0f} MP/s")
    code = tiffstream.CodeStream(str(path))
    subs = [code.get_sub_code_stream(image_idx=k) for k in keys]
    for count_streams in streams:
        settings = tiffstream.GpuSettings(jpeg2000_lanes=count_streams)
        ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=settings)
        params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
        found = difference(ours.decode(subs, params=params), expected)
        ms = median_ms(functools.partial(ours.decode, subs, params=params))
        one = median_ms(functools.partial(ours.decode, subs[0], params=params))
        print(f"  ours, {count_streams} lanes: {mpix / ms * 1e3:6.0f} MP/s, one page {one:7.2f} ms, {found}")
    if nvimgcodec is None:
        return
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)])
    params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    code = nvimgcodec.CodeStream(str(path))
    subs = [code.get_sub_code_stream(image_idx=k) for k in keys]
    results = decoder.decode(subs, params=params)
    if any(r is None for r in results):
        print("  nvImageCodec GPU_ONLY: fails (None)")
        return
    found = difference(results, expected)
    ms = median_ms(lambda: decoder.decode(subs, params=params))
    one = median_ms(lambda: decoder.decode(subs[0], params=params))
    print(f"  nvImageCodec GPU_ONLY: {mpix / ms * 1e3:6.0f} MP/s, one page {one:7.2f} ms, {found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-j2k")
    parser.add_argument("--lanes", default="1,2,4,8")
    parser.add_argument("--generated", type=int, default=4, help="how many of the generated files (in order)")
    parser.add_argument("files", nargs="*", type=pathlib.Path)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    streams = [int(s) for s in args.lanes.split(",")]
    for path in args.files:
        check(path, 1, streams, nvimgcodec)
    for path in generated(args.dir, args.generated):
        check(path, None, streams, nvimgcodec)


if __name__ == "__main__":
    main()

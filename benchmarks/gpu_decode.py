"""GPU decode speed vs nvImageCodec (GPU_ONLY) and tifffile (16 threads), same files, same process.

    python benchmarks/gpu_decode.py [--dir DIR] [--repeats N] [--quick]

Files (written once with tifffile) like the seed's retina stack: 192 pages 2048x1567 uint8 with two SubIFD
levels as (a) uncompressed strips, (b) deflate strips, (c) deflate 256x256 tiles, (e) zstd tiles, (f) LZW +
predictor tiles, and (d) 64 pages 2048x1567 uint16 deflate tiles. Per file: tiffstream GPU batch (all pages
in one decode call) and page by page, nvImageCodec batch (UNCHANGED, allow_any_depth), tifffile; MPix/s,
ratio to nvImageCodec, and whether each output equals tifffile's. Then page 31's three levels and 1,000
random 512x512 regions. End to end: file bytes to device arrays, synchronized.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

import cupy as cp
import numpy as np
import tifffile

import tiffstream

PARAMS = dict(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)


def content(height: int, width: int, z: int, dtype: str) -> np.ndarray:
    y, x = np.ogrid[0:height, 0:width]
    rng = np.random.default_rng(z)
    base = 110 + 60 * np.sin(x / (37.0 + z % 7)) * np.cos(y / 53.0) + 25 * np.sin((x + y) / 211.0)
    data = base + rng.normal(0, 4, (height, width))
    if dtype == "uint16":
        data = data * 200
    return np.clip(data, 0, np.iinfo(dtype).max).astype(dtype)


def write(path: pathlib.Path, pages: int, dtype: str, **options) -> pathlib.Path:
    if path.exists():
        return path
    height, width = 1567, 2048
    planes = [content(height, width, z, dtype) for z in range(8)]
    tmp = path.with_suffix(".partial")
    with tifffile.TiffWriter(tmp) as writer:
        for z in range(pages):
            writer.write(planes[z % 8], subifds=2, photometric="minisblack", maxworkers=os.cpu_count(), **options)
            for factor in (2, 4):
                writer.write(
                    planes[z % 8][::factor, ::factor][: height // factor, : width // factor],
                    subfiletype=1,
                    photometric="minisblack",
                    maxworkers=os.cpu_count(),
                    **options,
                )
    tmp.rename(path)
    return path


def files(folder: pathlib.Path, quick: bool) -> dict[str, pathlib.Path]:
    n = 24 if quick else 192
    tiles = {"tile": (256, 256)}
    return {
        "(a) uncompressed strips": write(folder / f"a{n}.tif", n, "uint8", rowsperstrip=64),
        "(b) deflate strips": write(folder / f"b{n}.tif", n, "uint8", compression="zlib", rowsperstrip=16),
        "(c) deflate 256 tiles": write(folder / f"c{n}.tif", n, "uint8", compression="zlib", **tiles),
        "(d) uint16 deflate tiles": write(folder / f"d{n // 3}.tif", n // 3, "uint16", compression="zlib", **tiles),
        "(e) zstd tiles": write(folder / f"e{n}.tif", n, "uint8", compression="zstd", **tiles),
        "(f) lzw+predictor tiles": write(folder / f"f{n}.tif", n, "uint8", compression="lzw", predictor=True, **tiles),
    }


def sync() -> None:
    cp.cuda.Device().synchronize()


def timed(func, repeats: int) -> float:
    func()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-gpu-bench"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="24 pages instead of 192")
    parser.add_argument("--profile", type=pathlib.Path, help="write a cProfile of one batch of (b) and (c) here")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(
        f"GPU {name}; tiffstream {tiffstream.__version__}, nvImageCodec "
        f"{getattr(nvimgcodec, '__version__', 'absent')}, tifffile {tifffile.__version__}, CuPy {cp.__version__}"
    )
    ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    theirs = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)]) if nvimgcodec else None
    their_params = (
        nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True) if nvimgcodec else None
    )
    params = tiffstream.DecodeParams(**PARAMS)
    rows = []
    for case, path in files(args.dir, args.quick).items():
        with tifffile.TiffFile(path) as tif:
            count = len(tif.pages)
            reference = tif.asarray(key=range(count), maxworkers=16)
        mpix = reference.size / 1e6
        stream = tiffstream.CodeStream(str(path))
        streams = [stream.get_sub_code_stream(image_idx=i) for i in range(count)]
        batch = ours.decode(streams, params=params)
        ok = all(np.array_equal(cp.asarray(im)[:, :, 0].get(), ref) for im, ref in zip(batch, reference))

        def ours_batch() -> object:
            opened = tiffstream.CodeStream(str(path))
            return ours.decode([opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=params)

        t_batch = timed(ours_batch, args.repeats)
        t_single = timed(lambda: [ours.decode(s, params=params) for s in streams], max(1, args.repeats // 2))
        t_tifffile = timed(lambda: tifffile.imread(path, key=range(count), maxworkers=16), max(1, args.repeats // 2))
        nv = "absent"
        t_nv = float("nan")
        if theirs is not None:
            nv_cs = nvimgcodec.CodeStream(str(path))
            nv_streams = [nv_cs.get_sub_code_stream(image_idx=i) for i in range(count)]
            result = theirs.decode(nv_streams, params=their_params)
            if any(r is None for r in result):
                nv = "fails (None)"
            else:
                equal = all(
                    np.array_equal(cp.asarray(r).reshape(ref.shape).get(), ref) for r, ref in zip(result, reference)
                )

                def theirs_batch() -> object:
                    opened = nvimgcodec.CodeStream(str(path))
                    return theirs.decode(
                        [opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=their_params
                    )

                t_nv = timed(theirs_batch, args.repeats)
                nv = f"{mpix / t_nv:7.0f} MP/s equal={equal}"
        rows.append((case, mpix / t_batch, mpix / t_single, nv, t_nv / t_batch, mpix / t_tifffile, ok))
    print(
        f"{'case':<26} {'ours batch':>11} {'ours 1-by-1':>12} {'nvImageCodec batch':>28} {'ratio':>6} {'tifffile16':>10} equal"
    )
    for case, batch_rate, single_rate, nv, ratio, tf_rate, ok in rows:
        print(
            f"{case:<26} {batch_rate:8.0f} MP/s {single_rate:8.0f} MP/s {nv:>28} {ratio:5.2f}x {tf_rate:7.0f} MP/s {ok}"
        )
    if args.profile:
        import cProfile
        import pstats

        for key in ("(b) deflate strips", "(c) deflate 256 tiles"):
            path = files(args.dir, args.quick)[key]
            opened = tiffstream.CodeStream(str(path))
            subs = [opened.get_sub_code_stream(image_idx=i) for i in range(opened.num_images)]
            profiler = cProfile.Profile()
            profiler.enable()
            ours.decode(subs, params=params)
            sync()
            profiler.disable()
            with open(args.profile, "a") as handle:
                handle.write(f"== {key}\n")
                pstats.Stats(profiler, stream=handle).sort_stats("cumulative").print_stats(25)
    # page 31's levels and random regions of the deflate-tiles file
    path = files(args.dir, args.quick)["(c) deflate 256 tiles"]
    stream = tiffstream.CodeStream(str(path))
    page31 = stream.get_sub_code_stream(image_idx=min(31, stream.num_images - 1))
    levels = [page31] + [tiffstream.CodeStream(str(path), bitstream_offset=o) for o in page31.subifd_offsets]
    t_levels = timed(lambda: ours.decode(levels, params=params), args.repeats)
    rng = np.random.default_rng(0)
    regions = [
        stream.get_sub_code_stream(
            image_idx=int(rng.integers(0, stream.num_images)),
            region=tiffstream.Region(int(y), int(x), int(y) + 512, int(x) + 512),
        )
        for y, x in zip(rng.integers(0, 1567 - 512, 1000), rng.integers(0, 2048 - 512, 1000))
    ]
    t_regions = timed(lambda: ours.decode(regions, params=params), max(1, args.repeats // 2))
    print(
        f"page 31 levels (3 images): {t_levels * 1e3:.2f} ms;  1000 random 512x512 regions: {t_regions * 1e3:.1f} ms "
        f"({1000 * 512 * 512 / 1e6 / t_regions:.0f} MP/s)"
    )
    if theirs is not None:
        nv_cs = nvimgcodec.CodeStream(str(path))
        nv_regions = [
            nv_cs.get_sub_code_stream(
                image_idx=int(i), region=nvimgcodec.Region(int(y), int(x), int(y) + 512, int(x) + 512)
            )
            for i, y, x in zip(
                np.random.default_rng(0).integers(0, stream.num_images, 1000),
                rng.integers(0, 1567 - 512, 1000),
                rng.integers(0, 2048 - 512, 1000),
            )
        ]
        try:
            t_nv_regions = timed(lambda: theirs.decode(nv_regions, params=their_params), max(1, args.repeats // 2))
            print(
                f"nvImageCodec 1000 regions: {t_nv_regions * 1e3:.1f} ms ({1000 * 512 * 512 / 1e6 / t_nv_regions:.0f} MP/s)"
            )
        except Exception as exc:  # noqa: BLE001  # report a peer failure, do not stop
            print(f"nvImageCodec regions failed: {exc}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

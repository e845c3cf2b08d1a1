"""GPU decode speed vs nvImageCodec (GPU_ONLY) and tifffile (16 threads), same files, same process.

    python benchmarks/gpu_decode.py [--dir DIR] [--repeats N] [--quick]

Files (written once with tifffile, its default strip sizes) like the seed's retina stack: 192 pages
2048x1567 uint8 with two SubIFD levels as (a) uncompressed strips (one per page), (b) deflate strips (128
rows), (c) deflate 256x256 tiles, (e) zstd tiles, (f) LZW + predictor tiles, and (d) 64 pages 2048x1567
uint16 deflate tiles; besides: (b16) deflate strips of 16 rows and (g) LZW tiles without predictor. Per file: tiffstream GPU batch (all pages
in one decode call) and page by page, nvImageCodec batch (UNCHANGED, allow_any_depth), tifffile; MPix/s,
ratio to nvImageCodec, and whether each output equals tifffile's. Then page 31's three levels and 1,000
random 512x512 regions. End to end: file bytes to device arrays, synchronized. Our batch and nvImageCodec's are
timed in turn (ours, theirs, ours, ...; medians), so both see the same spells of the shared host.

One image at a time (a viewer's or a tile server's latency): page 31 alone of each file, and 100 random 512x512
regions of (c) one per call, medians of ours (as routed by default, and all on the GPU: ``host_max_chunks=0``)
and of nvImageCodec, with the ratio and whether ours equals tifffile. Host CPU time (``process_time``) per batch
and per single image is printed beside.
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


CASES = {
    "(a) uncompressed strips": ("a", "uint8", {}),
    "(b) deflate strips": ("b", "uint8", {"compression": "zlib"}),
    "(c) deflate 256 tiles": ("c", "uint8", {"compression": "zlib", "tile": (256, 256)}),
    "(d) uint16 deflate tiles": ("d", "uint16", {"compression": "zlib", "tile": (256, 256)}),
    "(e) zstd tiles": ("e", "uint8", {"compression": "zstd", "tile": (256, 256)}),
    "(f) lzw+predictor tiles": ("f", "uint8", {"compression": "lzw", "predictor": True, "tile": (256, 256)}),
    "(b16) deflate 16-row strips": ("b16", "uint8", {"compression": "zlib", "rowsperstrip": 16}),
    "(g) lzw tiles": ("g", "uint8", {"compression": "lzw", "tile": (256, 256)}),
}


def add_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--dir``: where the benchmark files are (written on first use); every GPU benchmark shares them."""
    parser.add_argument(
        "--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-gpu-bench"
    )


def letter(case: str) -> str:
    return case[1 : case.index(")")]


def files(folder: pathlib.Path, quick: bool, wanted: set[str] | None = None) -> dict[str, pathlib.Path]:
    """The benchmark files (written on first use), only the ``wanted`` case letters when given."""
    n = 24 if quick else 192
    paths = {}
    for case, (key, dtype, options) in CASES.items():
        if wanted is None or key in wanted:
            pages = n // 3 if key == "d" else n
            paths[case] = write(folder / f"{key}{pages}.tif", pages, dtype, **options)
    return paths


def sync() -> None:
    cp.cuda.Device().synchronize()


def timed(func, repeats: int) -> float:
    return timed_together([func], repeats)[0]


def timed_together(funcs: list, repeats: int) -> list[float]:
    """Median seconds of each of ``funcs`` (each warmed up once), run in turn ``repeats`` times: peers
    measured in the same stretch of time, so a slow spell of the shared host slows all of them alike."""
    for func in funcs:
        func()
        sync()
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeats):
        for func, spent in zip(funcs, times):
            start = time.perf_counter()
            func()
            sync()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def host_cpu(func, repeats: int) -> float:
    """Median process CPU seconds of ``func`` (all threads of this process: decoding on host threads counts)."""
    spent = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        sync()
        spent.append(time.process_time() - start)
    return statistics.median(spent)


def single_images(args, ours, plain, gpu_only, theirs, their_params, params, wanted) -> None:
    """Page 31 alone of each file, then 100 random 512x512 regions of (c) one per call: latency vs nvImageCodec.
    Page 31 again and again is replayed from its recipe (``gpu/recipes.py``) from the third call on; ``plain``
    (no recipes) is what a page decoded once costs."""
    import nvidia.nvimgcodec as nvimgcodec_module  # only called with nvImageCodec present

    host = tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY])

    def uploaded(stream: object) -> object:  # decoded on the host's threads, then copied to the device
        return cp.asarray(np.asarray(host.decode(stream, params=params)))

    print(
        f"\n{'one image':<28} {'ours':>9} {'no recipe':>9} {'all GPU':>9} {'host+up':>9} {'nvImageCodec':>13} "
        f"{'ratio':>6} {'ratio 1st':>9} {'host CPU':>9} equal"
    )
    for case, path in files(args.dir, args.quick, wanted).items():
        index = min(31, len(tifffile.TiffFile(path).pages) - 1)
        expected = tifffile.imread(path, key=index)
        stream = tiffstream.CodeStream(str(path)).get_sub_code_stream(image_idx=index)
        nv_stream = nvimgcodec_module.CodeStream(str(path)).get_sub_code_stream(image_idx=index)
        ok = all(  # the usual way, captured into its recipe, replayed
            np.array_equal(cp.asarray(ours.decode(stream, params=params)).get().reshape(expected.shape), expected)
            for _ in range(3)
        )
        t_ours, t_plain, t_gpu, t_host, t_nv = timed_together(
            [
                lambda: ours.decode(stream, params=params),
                lambda: plain.decode(stream, params=params),
                lambda: gpu_only.decode(stream, params=params),
                lambda: uploaded(stream),
                lambda: theirs.decode(nv_stream, params=their_params),
            ],
            max(20, args.repeats * 4),
        )
        cpu = host_cpu(lambda: ours.decode(stream, params=params), 20)
        where = "host" if ours.last_batch_stats.get("host_routed") else "GPU"
        if theirs.decode(nv_stream, params=their_params) is None:  # a failure is quick: no ratio
            theirs_column = f"{'fails (None)':>13} {'':>6} {'':>9}"
        else:
            theirs_column = f"{t_nv * 1e3:11.2f}ms {t_nv / t_ours:5.2f}x {t_nv / t_plain:8.2f}x"
        print(
            f"{case:<28} {t_ours * 1e3:7.2f}ms {t_plain * 1e3:7.2f}ms {t_gpu * 1e3:7.2f}ms {t_host * 1e3:7.2f}ms "
            f"{theirs_column} {cpu * 1e3:7.2f}ms {ok} ({where})"
        )
    if wanted is not None and "regions" not in wanted:
        return
    path = files(args.dir, args.quick, {"c"})["(c) deflate 256 tiles"]
    rng = np.random.default_rng(1)
    opened, nv_opened = tiffstream.CodeStream(str(path)), nvimgcodec_module.CodeStream(str(path))
    picks = [
        (int(i), int(y), int(x))
        for i, y, x in zip(
            rng.integers(0, opened.num_images, 100), rng.integers(0, 1567 - 512, 100), rng.integers(0, 2048 - 512, 100)
        )
    ]
    ours_regions = [
        opened.get_sub_code_stream(image_idx=i, region=tiffstream.Region(y, x, y + 512, x + 512)) for i, y, x in picks
    ]
    nv_regions = [
        nv_opened.get_sub_code_stream(image_idx=i, region=nvimgcodec_module.Region(y, x, y + 512, x + 512))
        for i, y, x in picks
    ]
    with tifffile.TiffFile(path) as tif:
        ok = all(
            np.array_equal(
                cp.asarray(ours.decode(r, params=params)).get()[:, :, 0],
                tif.pages[i].asarray()[y : y + 512, x : x + 512],
            )
            for r, (i, y, x) in zip(ours_regions[:10], picks)
        )

    def each(decoder, streams, decode_params):
        return lambda: [decoder.decode(r, params=decode_params) for r in streams]

    t_ours, t_gpu, t_nv = timed_together(
        [
            each(ours, ours_regions, params),
            each(gpu_only, ours_regions, params),
            each(theirs, nv_regions, their_params),
        ],
        max(3, args.repeats),
    )
    cpu = host_cpu(each(ours, ours_regions, params), 3)
    print(
        f"{'512x512 region of (c)':<28} {t_ours * 10:7.2f}ms {'':>9} {t_gpu * 10:7.2f}ms {'':>9} {t_nv * 10:11.2f}ms "
        f"{t_nv / t_ours:5.2f}x {'':>9} "
        f"{cpu * 10:7.2f}ms {ok}"
    )


def profile(path: pathlib.Path, title: str, func) -> None:
    """Append a cProfile (by own time) of one call of ``func`` to ``path``."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    func()
    sync()
    profiler.disable()
    with open(path, "a") as handle:
        handle.write(f"== {title}\n")
        pstats.Stats(profiler, stream=handle).sort_stats("tottime").print_stats(22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dir_argument(parser)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="24 pages instead of 192")
    parser.add_argument(
        "--profile", type=pathlib.Path, help="append a cProfile of one batch of each case (and of the regions) here"
    )
    parser.add_argument("--cases", help="comma-separated case letters to run, e.g. b,f (default: all)")
    parser.add_argument("--no-tifffile", action="store_true", help="skip timing tifffile")
    parser.add_argument("--no-nvimgcodec", action="store_true", help="skip nvImageCodec (tuning runs)")
    parser.add_argument("--group-mb", help="first,max compressed MB per GPU group (tuning)")
    parser.add_argument("--sync-reads", action="store_true", help="no reads in the background (tuning)")
    parser.add_argument("--thread-reads", action="store_true", help="Python read threads, not glibc AIO (tuning)")
    parser.add_argument("--read-threads", type=int, help="threads reading chunks for the GPU (tuning)")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval, seconds (tuning)")
    parser.add_argument("--no-single", action="store_true", help="skip the one-image-at-a-time section")
    parser.add_argument("--no-batch", action="store_true", help="only the one-image-at-a-time section")
    args = parser.parse_args()
    from tiffstream.gpu.settings import GpuSettings

    tuning: dict = {}
    if args.sync_reads:
        tuning["read_ahead"] = False
    if args.thread_reads:
        tuning["native_reads"] = False
    if args.read_threads:
        tuning["read_threads"] = args.read_threads
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    if args.group_mb:
        first, most = (int(float(v) * (1 << 20)) for v in args.group_mb.split(","))
        tuning.update(first_group_bytes=first, max_group_bytes=most)
    settings = GpuSettings(**tuning)
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    if args.no_nvimgcodec:
        nvimgcodec = None
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(
        f"GPU {name}; tiffstream {tiffstream.__version__}, nvImageCodec "
        f"{getattr(nvimgcodec, '__version__', 'absent')}, tifffile {tifffile.__version__}, CuPy {cp.__version__}"
    )
    ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=settings)
    gpu_only = tiffstream.Decoder(
        backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=GpuSettings(**{**tuning, "host_max_chunks": 0})
    )
    theirs = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)]) if nvimgcodec else None
    their_params = (
        nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True) if nvimgcodec else None
    )
    params = tiffstream.DecodeParams(**PARAMS)
    rows = []
    wanted = set(args.cases.split(",")) if args.cases else None
    if not args.no_single and theirs is not None:
        plain = tiffstream.Decoder(
            backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=GpuSettings(**{**tuning, "recipe_bytes": 0})
        )
        single_images(args, ours, plain, gpu_only, theirs, their_params, params, wanted)
    if args.no_batch:
        return
    for case, path in files(args.dir, args.quick, wanted).items():
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

        t_single = timed(lambda: [ours.decode(s, params=params) for s in streams], max(1, args.repeats // 2))
        t_tifffile = (
            float("nan")
            if args.no_tifffile
            else timed(lambda: tifffile.imread(path, key=range(count), maxworkers=16), max(1, args.repeats // 2))
        )
        nv = "absent"
        t_nv = float("nan")
        t_batch = None
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

                t_batch, t_nv = timed_together([ours_batch, theirs_batch], args.repeats)  # in turn
                nv = f"{mpix / t_nv:7.0f} MP/s equal={equal}"
        if t_batch is None:
            t_batch = timed(ours_batch, args.repeats)
        cpu = host_cpu(ours_batch, 3)
        rows.append((case, mpix / t_batch, mpix / t_single, nv, t_nv / t_batch, mpix / t_tifffile, ok, cpu))
    print(
        f"{'case':<28} {'ours batch':>11} {'ours 1-by-1':>12} {'nvImageCodec batch':>28} {'ratio':>6} {'tifffile16':>10} "
        f"{'host CPU':>9} equal"
    )
    for case, batch_rate, single_rate, nv, ratio, tf_rate, ok, cpu in rows:
        print(
            f"{case:<28} {batch_rate:8.0f} MP/s {single_rate:8.0f} MP/s {nv:>28} {ratio:5.2f}x {tf_rate:7.0f} MP/s "
            f"{cpu * 1e3:7.1f}ms {ok}"
        )
    if args.profile:
        for key, path in files(args.dir, args.quick, wanted).items():
            opened = tiffstream.CodeStream(str(path))
            subs = [opened.get_sub_code_stream(image_idx=i) for i in range(opened.num_images)]
            profile(args.profile, key, lambda: ours.decode(subs, params=params))
    # page 31's levels and random regions of the deflate-tiles file
    if wanted is not None and "regions" not in wanted:
        return
    path = files(args.dir, args.quick, {"c"})["(c) deflate 256 tiles"]
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
    t_regions = timed(lambda: ours.decode(regions, params=params), args.repeats)
    if args.profile:
        profile(args.profile, "1000 regions", lambda: ours.decode(regions, params=params))
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
            t_nv_regions = timed(lambda: theirs.decode(nv_regions, params=their_params), args.repeats)
            print(
                f"nvImageCodec 1000 regions: {t_nv_regions * 1e3:.1f} ms ({1000 * 512 * 512 / 1e6 / t_nv_regions:.0f} MP/s)"
            )
        except Exception as exc:  # noqa: BLE001  # report a peer failure, do not stop
            print(f"nvImageCodec regions failed: {exc}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

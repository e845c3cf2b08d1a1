"""nvJPEG on TIFF JPEG tiles, before it is wired into the pipeline: which backend, output format, colour and
table handling give libjpeg-turbo's pixels (tifffile), and how fast, beside nvImageCodec.

    python benchmarks/gpu/jpeg_check.py [--dir DIR] [FILE.tif ...]

Per file (its first page) and per variant (engine x upsampling x table handling): max |diff| against tifffile,
the histogram of differences, and the time of one batched call for the page's tiles (median of 5). Then 8 pages
of 4096x4096 at once, and nvImageCodec 0.9 GPU_ONLY / HW_GPU_ONLY on the same pages.
"""

from __future__ import annotations

import argparse
import functools
import os
import pathlib
import statistics
import sys
import tempfile
import time

import cupy as cp
import cupyx
import numpy as np
import tifffile

from tiffstream.gpu.nvjpeg import Engine, NvJpeg, NvJpegError, OutputFormat
from tiffstream.gpu.settings import GpuSettings


def picture(size: int, seed: int) -> np.ndarray:
    """Smooth colour gradients, edges and noise: chroma upsampling and IDCT differences both show."""
    y, x = np.ogrid[0:size, 0:size]
    rng = np.random.default_rng(seed)
    channels = [
        128 + 90 * np.sin(x / (23.0 + 7 * c + seed)) * np.cos(y / (31.0 + 5 * c)) + 30 * ((x // 97 + y // 61) % 2)
        for c in range(3)
    ]
    data = np.stack(channels, -1) + rng.normal(0, 6, (size, size, 3))
    return np.clip(data, 0, 255).astype(np.uint8)


def generated(folder: pathlib.Path, count: int = 5) -> list[pathlib.Path]:
    cases = {
        "jpeg420_256": {"tile": (256, 256)},
        "jpeg444_256": {"tile": (256, 256), "subsampling": (1, 1)},
        "jpeg420_512": {"tile": (512, 512)},
        "jpeg422_256": {"tile": (256, 256), "subsampling": (2, 1)},
        "jpeggray_256": {"tile": (256, 256), "gray": True},
    }
    paths = []
    for name, options in list(cases.items())[:count]:
        path = folder / f"{name}.tif"
        paths.append(path)
        if path.exists():
            continue
        gray = options.pop("gray", False)
        with tifffile.TiffWriter(path) as writer:
            for page in range(8):
                data = picture(4096, page)
                if gray:
                    data = data[..., 1]
                writer.write(
                    data,
                    compression="jpeg",
                    compressionargs={"level": 90},
                    photometric="minisblack" if gray else "ycbcr",
                    maxworkers=os.cpu_count(),
                    **options,
                )
    return paths


def layout(page: tifffile.TiffPage, fh) -> tuple[list[bytes], int, int, int]:
    """The page's chunk streams, chunk height, width and samples."""
    chunks = []
    for offset, count in zip(page.dataoffsets, page.databytecounts):
        fh.seek(offset)
        chunks.append(fh.read(count))
    height = page.tilelength if page.is_tiled else page.rowsperstrip
    width = page.tilewidth if page.is_tiled else page.imagewidth
    return chunks, min(height, page.imagelength), width, page.samplesperpixel


def output_format(page: tifffile.TiffPage, first: bytes) -> OutputFormat:
    if page.samplesperpixel == 1:
        return OutputFormat.Y
    jfif = first[6:10] == b"JFIF"
    return OutputFormat.UNCHANGEDI if page.photometric == 2 and not jfif else OutputFormat.RGBI


class Staged:
    """Streams in one pinned host buffer (tables spliced in, or as stored) and a device output per chunk."""

    def __init__(self, chunks: list[bytes], tables: bytes | None, splice: bool, rows: int, width: int, spp: int):
        if tables and splice:
            chunks = [tables[:-2] + c[2:] for c in chunks]
        lengths = np.array([len(c) for c in chunks], np.uint64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.uint64)
        self.host = cupyx.empty_pinned(int(lengths.sum()), np.uint8)
        for chunk, start in zip(chunks, starts):
            self.host[int(start) : int(start) + len(chunk)] = np.frombuffer(chunk, np.uint8)
        self.data = self.host.ctypes.data + starts
        self.lengths = lengths
        self.tables = tables if (tables and not splice) else None
        self.out = cp.zeros((len(chunks), rows, width, spp), np.uint8)
        self.pointers = (self.out.data.ptr + np.arange(len(chunks)) * rows * width * spp).astype(np.uint64)
        self.pitches = np.full(len(chunks), width * spp, np.uint64)
        self.keep: list[object] = []  # the calls' host arrays, alive while their decodes may be queued

    def decode(self, engine: NvJpeg, fmt: OutputFormat, stream: cp.cuda.Stream) -> None:
        engine.decode(self.data, self.lengths, self.pointers, self.pitches, fmt, stream, self.keep, tables=self.tables)


def assemble(tiles: np.ndarray, page: tifffile.TiffPage) -> np.ndarray:
    rows, width = tiles.shape[1:3]
    height, image_width = page.imagelength, page.imagewidth
    across = -(-image_width // width)
    out = np.zeros((height, image_width, tiles.shape[3]), np.uint8)
    for k, tile in enumerate(tiles):
        y, x = (k // across) * rows, (k % across) * width
        h, w = min(rows, height - y), min(width, image_width - x)
        if h > 0 and w > 0:
            out[y : y + h, x : x + w] = tile[:h, :w]
    return out


def median_ms(func, repeats: int = 5) -> float:
    func()
    cp.cuda.Device().synchronize()
    spent = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        cp.cuda.Device().synchronize()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1e3


def histogram(diff: np.ndarray) -> str:
    counts = np.bincount(diff.ravel(), minlength=4)
    return " ".join(f"{v}:{int(n)}" for v, n in enumerate(counts) if n) or "-"


def check_file(path: pathlib.Path, engines: dict[str, NvJpeg], stream: cp.cuda.Stream) -> None:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        if page.compression != 7:
            print(f"{path.name}: compression {page.compression}, skipped")
            return
        expected = page.asarray()
        chunks, rows, width, spp = layout(page, tif.filehandle)
        tables = page.jpegtables
        fmt = output_format(page, (tables[:-2] + chunks[0][2:]) if tables else chunks[0])
        print(
            f"\n{path.name}: {page.shape} photometric {page.photometric} subsampling {page.subsampling} "
            f"tables {len(tables) if tables else 0} chunks {len(chunks)} {rows}x{width} -> {fmt.name}"
        )
        for name, engine in engines.items():
            for splice in (True, False) if tables else (True,):
                try:
                    staged = Staged(chunks, tables, splice, rows, width, spp)
                    staged.decode(engine, fmt, stream)
                    stream.synchronize()
                    got = assemble(staged.out.get(), page).reshape(expected.shape)
                    diff = np.abs(got.astype(np.int16) - expected.astype(np.int16)).astype(np.uint8)
                    ms = median_ms(lambda: staged.decode(engine, fmt, stream))
                    how = "splice" if splice else "parse-tables"
                    print(
                        f"  {name:<22} {how:<12} max|diff| {int(diff.max()):3d}  {ms:7.2f} ms  hist {histogram(diff)}"
                    )
                except NvJpegError as exc:
                    print(f"  {name:<22} {exc}")


def throughput(
    path: pathlib.Path, engines: dict[str, NvJpeg], stream: cp.cuda.Stream, nvimgcodec, lanes: list[int]
) -> None:
    with tifffile.TiffFile(path) as tif:
        pages = list(tif.pages)
        expected = tif.asarray(key=range(len(pages)), maxworkers=16)
        everything = [layout(page, tif.filehandle) for page in pages]
        fmt = output_format(pages[0], everything[0][0][0])
    chunks = [c for chunk_list, *_ in everything for c in chunk_list]
    rows, width, spp = everything[0][1:]
    mpix = expected.size / spp / 1e6
    t_tifffile = median_ms(lambda: tifffile.imread(path, key=range(len(pages)), maxworkers=16), 3)
    line = f"{path.name} x{len(pages)} pages: tifffile16 {mpix / t_tifffile * 1e3:6.0f} MP/s"
    for name, engine in engines.items():
        staged = Staged(chunks, None, True, rows, width, spp)
        try:
            ms = median_ms(lambda: staged.decode(engine, fmt, stream))
        except NvJpegError as exc:
            line += f"; {name} {exc}"
            continue
        line += f"; {name} {mpix / ms * 1e3:6.0f} MP/s"
    print(line)
    import tiffstream

    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    code = tiffstream.CodeStream(str(path))
    subs = [code.get_sub_code_stream(image_idx=i) for i in range(len(pages))]
    for count in lanes:
        settings = GpuSettings(jpeg_lanes=count)
        ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=settings)
        result = ours.decode(subs, params=params)
        worst = max(
            int(np.abs(cp.asarray(r).get().reshape(e.shape).astype(np.int16) - e).max())
            for r, e in zip(result, expected)
        )
        ms = median_ms(functools.partial(ours.decode, subs, params=params))
        one = median_ms(functools.partial(ours.decode, subs[0], params=params))
        print(
            f"  tiffstream GPU_ONLY, {count} JPEG lane(s): {mpix / ms * 1e3:6.0f} MP/s, one page {one:.2f} ms, "
            f"max|diff| {worst}"
        )
    if nvimgcodec is None:
        return
    for kind in ("GPU_ONLY", "HW_GPU_ONLY"):
        decoder = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(getattr(nvimgcodec.BackendKind, kind))])
        params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
        code = nvimgcodec.CodeStream(str(path))
        subs = [code.get_sub_code_stream(image_idx=i) for i in range(len(pages))]
        result = decoder.decode(subs, params=params)
        if any(r is None for r in result):
            print(f"  nvImageCodec {kind}: fails (None)")
            continue
        worst = max(
            int(np.abs(cp.asarray(r).get().reshape(e.shape).astype(np.int16) - e).max())
            for r, e in zip(result, expected)
        )
        ms = median_ms(lambda: decoder.decode(subs, params=params))
        one = median_ms(lambda: decoder.decode(subs[0], params=params))
        print(f"  nvImageCodec {kind}: {mpix / ms * 1e3:6.0f} MP/s, one page {one:.2f} ms, max|diff| {worst}")


def hardware_scaling(path: pathlib.Path) -> None:
    """The hardware engines on many tiles: the largest batch one call takes, sub-batches in turn, and
    sub-batches from several host threads at once (own handle, state and stream each)."""
    from concurrent.futures import ThreadPoolExecutor

    with tifffile.TiffFile(path) as tif:
        everything = [layout(page, tif.filehandle) for page in tif.pages]
        fmt = output_format(tif.pages[0], everything[0][0][0])
    chunks = [c for chunk_list, *_ in everything for c in chunk_list]
    rows, width, spp = everything[0][1:]
    per_page = len(everything[0][0])
    staged = Staged(chunks, None, True, rows, width, spp)
    mpix = len(chunks) * rows * width / 1e6
    for size in (256, 384, 512, 1024):
        engine = NvJpeg(Engine.HARDWARE, True)
        stream = cp.cuda.Stream(non_blocking=True)
        try:
            engine.decode(
                staged.data[:size],
                staged.lengths[:size],
                staged.pointers[:size],
                staged.pitches[:size],
                fmt,
                stream,
                staged.keep,
            )
            stream.synchronize()
            print(f"{path.name}: one call of {size} tiles: ok")
        except NvJpegError as exc:
            print(f"{path.name}: one call of {size} tiles: {exc}")
    for threads, size in ((1, 64), (1, 128), (1, 256), (2, 128), (2, 256), (4, 64), (4, 128), (4, 256), (8, 128)):
        engines = [NvJpeg(Engine.HARDWARE, True) for _ in range(threads)]
        streams = [cp.cuda.Stream(non_blocking=True) for _ in range(threads)]
        pool = ThreadPoolExecutor(threads)

        def run(count: int) -> float:
            parts = [slice(a, min(a + size, count)) for a in range(0, count, size)]

            def worker(k: int) -> float:
                spent = 0.0
                for number, part in enumerate(parts[k::threads]):
                    start = time.perf_counter()
                    engines[k].decode(
                        staged.data[part],
                        staged.lengths[part],
                        staged.pointers[part],
                        staged.pitches[part],
                        fmt,
                        streams[k],
                        staged.keep,
                        slot=number % 4,
                    )
                    spent += time.perf_counter() - start
                streams[k].synchronize()
                return spent

            return sum(pool.map(worker, range(threads)))

        try:
            host_all = run(len(chunks))
            t_all = median_ms(lambda: run(len(chunks)))
            t_page = median_ms(lambda: run(per_page))
        except NvJpegError as exc:
            print(f"  {threads} threads x {size}: {exc}")
            continue
        print(
            f"  {threads} threads x {size}-tile calls: all {len(chunks)} tiles {mpix / t_all * 1e3:6.0f} MP/s "
            f"(host in calls {host_all * 1e3:.1f} ms), one page {t_page:.2f} ms"
        )
        pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-jpeg")
    parser.add_argument("files", nargs="*", type=pathlib.Path)
    parser.add_argument("--generated", type=int, default=5, help="how many of the generated files (in order)")
    parser.add_argument("--throughput-only", action="store_true", help="only the 8-page batches and one page")
    parser.add_argument("--jpeg-lanes", default="2", help="comma-separated GpuSettings.jpeg_lanes to time ours with")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"GPU {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    engines: dict[str, NvJpeg] = {}
    for engine in (Engine.HARDWARE, Engine.GPU_HYBRID):
        for interpolate in (False, True):
            name = f"{engine.name}{'+interp' if interpolate else ''}"
            try:
                engines[name] = NvJpeg(engine, interpolate)
            except NvJpegError as exc:
                print(f"{name}: {exc}")
    for name, engine in engines.items():
        print(f"{name}: hardware engines {engine.hardware_engines()}")
    stream = cp.cuda.Stream(non_blocking=True)
    made = generated(args.dir, args.generated)
    for path in [] if args.throughput_only else [*made, *args.files]:
        try:
            check_file(path, engines, stream)
        except Exception as exc:  # noqa: BLE001  # a survey: report the file and go on
            print(f"{path.name}: {type(exc).__name__}: {exc}")
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    print()
    for path in [] if args.throughput_only else made[:2]:
        hardware_scaling(path)
    for path in made:
        throughput(path, engines, stream, nvimgcodec, [int(n) for n in args.jpeg_lanes.split(",")])
    sys.stdout.flush()


if __name__ == "__main__":
    main()

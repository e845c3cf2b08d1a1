"""nvJPEG2000 on TIFF JPEG 2000 tiles, before it is wired into the pipeline: pixels against tifffile (OpenJPEG)
and speed beside nvImageCodec.

    python benchmarks/gpu/j2k_check.py [--dir DIR] [FILE.tif ...]

Per file (first page): max |diff| against tifffile and the time to decode all its tiles, parsed on the host and
decoded over 1, 2 and 4 CUDA streams (a decode state each); nvImageCodec GPU_ONLY on the same page.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import tempfile
import time

import cupy as cp
import numpy as np
import tifffile

from tiffstream.gpu.nvjpeg2k import NvJpeg2k, NvJpeg2kError


def generated(folder: pathlib.Path) -> list[pathlib.Path]:
    y, x = np.ogrid[0:2048, 0:2048]
    rng = np.random.default_rng(0)
    data = np.stack([128 + 90 * np.sin(x / (23.0 + 7 * c)) * np.cos(y / 31.0) for c in range(3)], -1)
    data = np.clip(data + rng.normal(0, 6, data.shape), 0, 255).astype(np.uint8)
    paths = []
    for name, options in {
        "j2k_rgb_256": {"compressionargs": {"level": 80}},
        "j2k_lossless_256": {"compressionargs": {"level": 0}},
    }.items():
        path = folder / f"{name}.tif"
        paths.append(path)
        if not path.exists():
            tifffile.imwrite(path, data, compression="jpeg2000", tile=(256, 256), maxworkers=os.cpu_count(), **options)
    return paths


def check(path: pathlib.Path, nvimgcodec) -> None:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        expected = page.asarray()
        fh = tif.filehandle
        chunks = []
        for offset, count in zip(page.dataoffsets, page.databytecounts):
            fh.seek(offset)
            chunks.append(np.frombuffer(fh.read(count), np.uint8))
        rows, width = page.tilelength, page.tilewidth
    spp = expected.shape[2] if expected.ndim == 3 else 1
    engine = NvJpeg2k()
    out = cp.zeros((len(chunks), rows, width, spp), np.uint8)

    def run(streams: list[cp.cuda.Stream]) -> None:
        for k, chunk in enumerate(chunks):  # a parsed handle per tile: each must live until its decode ran
            slot = k % len(streams)
            engine.parse(chunk.ctypes.data, len(chunk), k)
            engine.decode(k, slot, out[k].data.ptr, width * spp, spp, False, streams[slot])
        for stream in streams:
            stream.synchronize()

    try:
        first = engine.parse(chunks[0].ctypes.data, len(chunks[0]), 0)
        streams = [cp.cuda.Stream(non_blocking=True)]
        run(streams)
    except NvJpeg2kError as exc:
        print(f"{path.name}: {exc}")
        return
    tiles = out.get()
    across = -(-page.imagewidth // width)
    got = np.zeros((page.imagelength, page.imagewidth, spp), np.uint8)
    for k, tile in enumerate(tiles):
        y, x = (k // across) * rows, (k % across) * width
        h, w = min(rows, page.imagelength - y), min(width, page.imagewidth - x)
        if h > 0 and w > 0:
            got[y : y + h, x : x + w] = tile[:h, :w]
    diff = np.abs(got.reshape(expected.shape).astype(np.int16) - expected.astype(np.int16))
    counts = np.bincount(diff.ravel().astype(np.int64))
    print(
        f"{path.name}: {expected.shape} compression {page.compression} tiles {len(chunks)} first {first}: "
        f"max|diff| {int(diff.max())} hist {' '.join(f'{v}:{n}' for v, n in enumerate(counts[:6]) if n)}"
    )
    mpix = expected.size / spp / 1e6
    for count in (1, 2, 4):
        streams = [cp.cuda.Stream(non_blocking=True) for _ in range(count)]
        run(streams)
        spent = []
        for _ in range(3):
            start = time.perf_counter()
            run(streams)
            spent.append(time.perf_counter() - start)
        ms = statistics.median(spent) * 1e3
        print(f"  {count} streams: {ms:.2f} ms ({mpix / ms * 1e3:.0f} MP/s)")
    if nvimgcodec is not None:
        decoder = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)])
        params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
        stream = nvimgcodec.CodeStream(str(path)).get_sub_code_stream(image_idx=0)
        result = decoder.decode(stream, params=params)
        if result is None:
            print("  nvImageCodec GPU_ONLY: fails (None)")
            return
        worst = int(np.abs(cp.asarray(result).get().reshape(expected.shape).astype(np.int16) - expected).max())
        decoder.decode(stream, params=params)
        spent = []
        for _ in range(3):
            start = time.perf_counter()
            decoder.decode(stream, params=params)
            cp.cuda.Device().synchronize()
            spent.append(time.perf_counter() - start)
        ms = statistics.median(spent) * 1e3
        print(f"  nvImageCodec GPU_ONLY: {ms:.2f} ms ({mpix / ms * 1e3:.0f} MP/s), max|diff| {worst}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-j2k")
    parser.add_argument("files", nargs="*", type=pathlib.Path)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    for path in [*generated(args.dir), *args.files]:
        check(path, nvimgcodec)


if __name__ == "__main__":
    main()

"""Peak memory of a decode against what it must hold: the output, plus the compressed bytes in flight.

    python benchmarks/memory.py [--dir DIR] [--size 8192] [--threads N]

Each case runs once in a fresh process; its peak resident memory (VmHWM) less that of a process that only
imported the libraries is compared with the output's bytes, and with the output plus the compressed bytes
that may be in flight at once (each worker reads up to 16 MiB of chunks at a time; never more than the
file). Cases: a SIZE x SIZE RGB uint8 deflate-tiled file, and the seed-like 192-page 2048x1567 deflate-strip
stack, through our reader (``asarray``), the Decoder with nvImageCodec's default parameters (sRGB, 8 bits:
gray becomes 3 channels) and with ``UNCHANGED``, and tifffile's ``imread`` as the peer.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile

import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine
from cpu_decode import _nothing, peak_rss, synthetic_rgb
from parse import seed_like

import tiffstream

_READ_GROUP = 16 << 20  # the CPU backend's largest coalesced read (chunkio._MAX_READ)


def reader(path: pathlib.Path, threads: int) -> int:
    with tiffstream.open(path) as tif:
        return tif.asarray(slice(None), max_workers=threads).nbytes


def decoder(path: pathlib.Path, threads: int, unchanged: bool) -> int:
    params = (
        tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
        if unchanged
        else tiffstream.DecodeParams()
    )
    stream = tiffstream.CodeStream(str(path))
    with tiffstream.Decoder(max_num_cpu_threads=threads) as dec:
        images = dec.decode([stream.get_sub_code_stream(image_idx=i) for i in range(stream.num_images)], params)
        return sum(np.asarray(image).nbytes for image in images)


def peer(path: pathlib.Path, threads: int) -> int:
    with tifffile.TiffFile(path) as tif:
        return tif.asarray(key=range(len(tif.pages)), maxworkers=threads).nbytes


def write_rgb(folder: pathlib.Path, size: int) -> pathlib.Path:
    path = folder / f"rgb{size}_deflate_tiles.tif"
    if not path.exists():
        tifffile.imwrite(path, synthetic_rgb(size), photometric="rgb", compression="zlib", tile=(256, 256))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench")
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    files = {
        "RGB deflate tiles": write_rgb(args.dir, args.size),
        "seed-like stack": seed_like(args.dir / "seed_like.tif"),
    }
    print(f"{machine()}, {args.threads} threads; peak RSS above an idle process (MiB), ratios to what must be held")
    baseline = peak_rss(_nothing)
    header = f"{'file':<18} {'how':<26} {'output':>8} {'peak':>8} {'peak/output':>12} {'peak/(out+in flight)':>21}"
    print(header)
    for label, path in files.items():
        with tifffile.TiffFile(path) as tif:
            pages = len(tif.pages)
        in_flight = min(path.stat().st_size, args.threads * _READ_GROUP)
        for how, func, extra in (
            ("tiffstream asarray", reader, ()),
            ("Decoder default (sRGB)", decoder, (False,)),
            ("Decoder UNCHANGED", decoder, (True,)),
            ("tifffile asarray (peer)", peer, ()),
        ):
            output = _output_bytes(path, pages, how)
            peak = peak_rss(func, path, args.threads, *extra) - baseline
            print(
                f"{label:<18} {how:<26} {output / 2**20:8.0f} {peak / 2**20:8.0f} {peak / output:12.2f} "
                f"{peak / (output + in_flight):21.2f}"
            )


def _output_bytes(path: pathlib.Path, pages: int, how: str) -> int:
    """Bytes of what the call returns: the stacked pages, or (sRGB) three 8-bit channels per pixel."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        stored = int(np.prod(page.shape)) * page.dtype.itemsize
        if "sRGB" in how:
            return pages * page.shape[0] * page.shape[1] * 3
        return pages * stored


if __name__ == "__main__":
    main()

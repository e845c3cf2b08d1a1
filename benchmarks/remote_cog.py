"""Remote Cloud Optimized GeoTIFF: requests and bytes to read one 512x512 window over HTTP (local server,
127.0.0.1), tiffstream vs rasterio (GDAL's /vsicurl/) on the same file and server, pixels compared.

    python benchmarks/remote_cog.py [--size 8192] [--tile 512]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
from range_server import RangeHandler, serving

import tiffstream
from tiffstream.write.cog import CogWriter


def transferred(requests: list[tuple[str, str | None]]) -> int:
    """Bytes the range GETs asked for."""
    total = 0
    for method, spec in requests:
        if method == "GET" and spec:
            first, _, last = spec[6:].partition("-")
            total += int(last) - int(first) + 1
    return total


def window_reads(url: str, window: tuple[int, int, int]) -> dict[str, tuple[list, np.ndarray]]:
    """(requests, pixels) of one window read by each reader, each with a fresh connection."""
    import rasterio
    from rasterio.windows import Window

    y, x, size = window
    RangeHandler.requests = []
    stream = tiffstream.CodeStream(url).get_sub_code_stream(region=tiffstream.Region(y, x, y + size, x + size))
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    ours = np.asarray(tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]).decode(stream, params))[:, :, 0]
    found = {"tiffstream": (list(RangeHandler.requests), ours)}
    RangeHandler.requests = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), rasterio.open("/vsicurl/" + url) as dataset:
            theirs = dataset.read(1, window=Window(x, y, size, size))
    found["rasterio (GDAL /vsicurl/)"] = (list(RangeHandler.requests), theirs)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--tile", type=int, default=512)
    args = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 64, (args.size, args.size), dtype=np.uint8)  # ~6 bits of noise
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "cog.tif"
        with CogWriter(path) as writer:
            writer.write_cog(image, tile=(args.tile, args.tile))
        with serving(path.read_bytes(), "cog.tif") as url:
            window = (args.size // 2 - 256, args.size // 2 - 256, 512)
            results = window_reads(url, window)
    y, x, size = window
    print(f"{args.size}x{args.size} uint8 COG, {args.tile} tiles; one 512x512 window at ({y}, {x})")
    gdal = results["rasterio (GDAL /vsicurl/)"][0]
    for name, (requests, pixels) in results.items():
        equal = np.array_equal(pixels, image[y : y + size, x : x + size])
        ratio = transferred(requests) / max(transferred(gdal), 1)
        print(
            f"  {name:<26} {len(requests):3d} requests {transferred(requests) / 1024:9.1f} KiB ({ratio:.2f}x GDAL) equal={equal}"
        )


if __name__ == "__main__":
    main()

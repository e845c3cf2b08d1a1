"""Series and levels: open + ``series`` + level shapes, vs tifffile in the same run; and a COG level through dask.

    python benchmarks/series.py [--dir DIR] [--budget SECONDS] [--svs PATH]

Writes (once, with tifffile) the seed-like 192-page OME-TIFF with two SubIFD levels, a 10,000-page ImageJ
stack, a 10,000-page shaped stack, and a 4096x4096 RGB COG-like file (deflate 256x256 tiles, 3 overviews);
the SVS is the corpus' CMU-1-Small-Region.svs when present. Each row opens the file, finds its series
and reads every level's shape; the last row computes a dask array of COG level 1 (tifffile: its zarr
store through ``dask.array.from_zarr``). Ratios are tifffile / tiffstream (> 1: we are faster).
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys
import tempfile

import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine, measure, print_table
from parse import seed_like

import tiffstream

SVS = (
    pathlib.Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus-wsi"
    / "files"
    / "libvips"
    / "CMU-1-Small-Region.svs"
)


def stack(path: pathlib.Path, *, imagej: bool) -> pathlib.Path:
    """10,000 pages of 64x64 uint16, written in one call (contiguous, as tifffile and ImageJ do)."""
    if not path.exists():
        data = np.zeros((10_000, 64, 64), np.uint16)
        tifffile.imwrite(path, data, imagej=imagej, metadata={"axes": "ZYX"})
    return path


def cog(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        yy, xx = np.mgrid[0:4096, 0:4096]
        image = np.stack([(xx // 7) % 256, (yy // 5) % 256, ((xx + yy) // 11) % 256], -1).astype(np.uint8)
        with tifffile.TiffWriter(path) as writer:
            writer.write(image, tile=(256, 256), compression="zlib", photometric="rgb", metadata=None)
            for factor in (2, 4, 8):
                writer.write(
                    image[::factor, ::factor], tile=(256, 256), compression="zlib", photometric="rgb",
                    subfiletype=1, metadata=None,
                )  # fmt: skip
    return path


def series_shapes_tifffile(path: pathlib.Path) -> list:
    with tifffile.TiffFile(path) as tif:
        return [[level.shape for level in s.levels] for s in tif.series]


def series_shapes_ours(path: pathlib.Path) -> list:
    with tiffstream.open(path) as tif:
        return [[level.shape for level in s.levels] for s in tif.series]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--svs", type=pathlib.Path, default=SVS)
    args = parser.parse_args()
    logging.getLogger("tifffile").setLevel(logging.ERROR)
    args.dir.mkdir(parents=True, exist_ok=True)
    files = {
        "seed-like OME, 192 pages + 2 SubIFD levels": seed_like(args.dir / "seed_like.ome.tif"),
        "ImageJ stack, 10,000 pages": stack(args.dir / "imagej_10000.tif", imagej=True),
        "shaped stack, 10,000 pages": stack(args.dir / "shaped_10000.tif", imagej=False),
        "COG 4096^2 RGB + 3 overviews": cog(args.dir / "cog_4096.tif"),
    }
    if args.svs.exists():
        files["Aperio SVS (CMU-1-Small-Region)"] = args.svs
    print(f"open + series + level shapes ({machine()}; tifffile {tifffile.__version__})")
    rows = []
    for label, path in files.items():
        assert series_shapes_ours(path) == series_shapes_tifffile(path), label
        theirs = measure(lambda p=path: series_shapes_tifffile(p), budget=args.budget)
        ours = measure(lambda p=path: series_shapes_ours(p), budget=args.budget)
        rows.append((label, theirs, ours))

    import dask.array as da
    import zarr

    level_path = files["COG 4096^2 RGB + 3 overviews"]

    def dask_tifffile() -> np.ndarray:
        store = tifffile.imread(level_path, aszarr=True, series=0, level=1)
        try:
            return da.from_zarr(zarr.open(store, mode="r")).compute()
        finally:
            store.close()

    def dask_ours() -> np.ndarray:
        return tiffstream.to_dask(str(level_path), series=0, level=1).compute()

    np.testing.assert_array_equal(dask_ours(), dask_tifffile())
    rows.append(
        (
            "to_dask(COG level 1 2048^2).compute()",
            measure(dask_tifffile, budget=args.budget),
            measure(dask_ours, budget=args.budget),
        )
    )
    print_table(rows, "tifffile")


if __name__ == "__main__":
    main()

"""``tiffstream convert IN OUT.ome.tif [--series N] [--tile 256] [--levels N] [--compression zstd] [--cog]``.

Any series (an OME stack, a COG with its overviews, a slide with its levels, an ImageJ hyperstack) becomes
a tiled, pyramidal OME-TIFF: its axes (a TZYX series stays TZYX; axes OME cannot name are flattened into
Z), photometric and colormap (palette, CMYK, MinIsWhite, bilevel), resolution and physical sizes are
kept; its own levels become SubIFDs (halved further when more are asked for). Pages stream a band of
tiles at a time, so memory stays bounded whatever the slide's size. ``--cog`` writes a Cloud Optimized
GeoTIFF instead (one image: IFDs first, overviews in the main chain, the GeoTIFF tags kept); an output
ending in ``.zarr`` is an OME-Zarr (NGFF 0.5) pyramid.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import TiffWriter
from .. import open as open_tiff
from ..errors import TiffWriteError
from ..tiff.geo import GEO_TAGS
from ..tiff.series import ome_pixel_sizes
from ..write.cog import CogWriter
from ..write.pyramid import Downsampled

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator

    from ..tiff.file import TiffFile
    from ..tiff.series import Level, Series

__all__ = ["add_parser", "run"]

_PHOTOMETRIC = {0: "miniswhite", 1: "minisblack", 2: "rgb", 3: "palette", 5: "separated", 6: "rgb"}
_MICRONS_PER_UNIT = {2: 25400.0, 3: 10000.0}  # ResolutionUnit inch, centimetre


def _progress(items: Iterable[Any], total: int, label: str) -> Iterator[Any]:
    """tqdm's progress bar when installed and the output is a terminal; plain items otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, total=total, desc=label, unit="image", disable=not sys.stderr.isatty())


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _lead(level: Level) -> tuple[str, tuple[int, ...]]:
    """Axes and sizes of the level's image dimension (everything before the page's own axes)."""
    count = len(level.shape) - len(level.page_shape)
    return level.axes[:count], level.shape[:count]


def _ome_axes(axes: str, sizes: tuple[int, ...]) -> tuple[str, tuple[int, ...], str]:
    """OME page axes for the series' image axes (Z, C, T kept; others flattened into Z), and a note."""
    if not axes:
        return "Z", (1,), ""
    if len(set(axes)) == len(axes) and set(axes) <= set("ZCT"):
        return axes, sizes, ""
    return "Z", (math.prod(sizes),), f"axes {axes} stored as Z"


def _physical_size(series: Series) -> tuple[float | None, float | None, float | None]:
    """(z, y, x) pixel sizes in micrometres: from OME, Aperio's MPP, or the resolution tags."""
    if series.kind == "ome":
        sizes = ome_pixel_sizes(series)
        return sizes.get("Z"), sizes.get("Y"), sizes.get("X")
    mpp = series.metadata.get("MPP")
    if isinstance(mpp, (int, float)) and mpp > 0:
        return None, float(mpp), float(mpp)
    resolution = _resolution(series.keyframe)
    if resolution is not None and resolution[2] in _MICRONS_PER_UNIT:
        x, y, unit = resolution
        return None, _MICRONS_PER_UNIT[unit] / y, _MICRONS_PER_UNIT[unit] / x
    return None, None, None


def _resolution(page: Any) -> tuple[float, float, int] | None:
    x, y = page.ifd.get(282), page.ifd.get(283)
    if x is None or y is None:
        return None
    try:
        xres, yres = float(np.ravel(x)[0]), float(np.ravel(y)[0])
    except (TypeError, ValueError, IndexError):
        return None
    unit = page.ifd.get(296, 2)
    return (xres, yres, int(np.ravel(unit)[0])) if xres > 0 and yres > 0 else None


def _levels(series: Series, image: int, count: int | None, tile: int) -> list[Any]:
    """The pyramid of one image: the series' own levels, halved further up to ``count`` (None: its own
    levels, or halvings while the longest side exceeds a tile when it has none)."""
    base = series.base.image_view(image)
    own = [level.image_view(image) for level in series.levels[1:] if len(level) == len(series.base)]
    if count is None:
        count = len(own) if own else _halvings(base.shape, tile)
    chosen: list[Any] = list(own[:count])
    last: Any = chosen[-1] if chosen else base
    while len(chosen) < count and min(last.shape[:2]) >= 2:
        last = Downsampled(last, 2)
        chosen.append(last)
    return chosen


def _halvings(shape: tuple[int, ...], tile: int) -> int:
    longest, count = max(shape[:2]), 0
    while longest > tile and min(shape[:2]) >> (count + 1):
        longest //= 2
        count += 1
    return count


def _geo_tags(page: Any) -> list[tuple[int, int, Any]]:
    """The page's GeoTIFF and GDAL tags, to copy as they are."""
    tags = page.ifd.tags
    return [(code, tags[code].type, tags[code].value) for code in GEO_TAGS if code in tags]


def _write_cog(args: argparse.Namespace, tif: TiffFile, series: Series) -> int:
    base = series.base
    if len(base) != 1:
        raise TiffWriteError(f"a COG holds one image; series {args.series} has {len(base)}", path=args.output)
    keyframe = base.keyframe
    overviews = _levels(series, 0, args.levels, args.tile)
    mask = next(  # GDAL's transparency mask of this image: a bilevel series of its size
        (
            other.base.image_view(0)
            for other in tif.series
            if other is not series and int(other.keyframe.photometric) == 4 and other.base.image_size == base.image_size
        ),
        None,
    )
    with CogWriter(args.output, bigtiff=args.bigtiff or base.nbytes > 2**32 - 2**25) as writer:
        writer.write_cog(
            base.image_view(0),
            mask=mask,
            overviews=overviews,
            tile=(args.tile, args.tile),
            compression=args.compression,
            photometric=_PHOTOMETRIC.get(int(keyframe.photometric)),
            extratags=_geo_tags(keyframe),
        )
    shape = "x".join(str(n) for n in base.shape)
    masked = ", with its mask" if mask is not None else ""
    print(f"{args.output}: COG of series {args.series} ({shape} {base.dtype}), {len(overviews)} overviews{masked}")
    return 0


def run(args: argparse.Namespace) -> int:
    if _same_file(args.input, args.output):
        raise TiffWriteError("the output is the input file: refusing to overwrite it", path=args.output)
    if args.output.rstrip("/\\").endswith(".zarr"):
        from .. import to_ome_zarr

        shapes = to_ome_zarr(args.input, args.output, args.series, chunk=args.tile, progress=True)
        print(f"{args.output}: OME-Zarr (NGFF 0.5) of series {args.series}, levels {shapes}")
        return 0
    if args.cog:
        with open_tiff(args.input) as tif:
            tif.series_level(args.series)
            return _write_cog(args, tif, tif.series[args.series])
    with open_tiff(args.input) as tif:
        tif.series_level(args.series)  # a clear error for a series that is not there
        series = tif.series[args.series]
        base = series.base
        keyframe = base.keyframe
        axes, sizes = _lead(base)
        page_axes, page_shape, note = _ome_axes(axes, sizes)
        count = len(base)
        photometric = _PHOTOMETRIC.get(int(keyframe.photometric), None)
        colormap = keyframe.ifd.get(320) if photometric == "palette" else None
        options: dict[str, Any] = {
            "compression": args.compression,
            "tile": (args.tile, args.tile),
            "photometric": photometric,
            "resolution": _resolution(keyframe),
            "colormap": None if colormap is None else np.asarray(colormap).reshape(3, -1),
        }
        with TiffWriter(
            args.output,
            bigtiff=args.bigtiff or base.nbytes > 2**32 - 2**25,
            ome=True,
            page_axes=page_axes,
            page_shape=page_shape,
            physical_size=_physical_size(series),
        ) as writer:
            levels = 0
            for image in _progress(range(count), count, "convert"):
                pyramid = _levels(series, image, args.levels, args.tile)
                levels = len(pyramid)
                writer.write(base.image_view(image), subifds=pyramid, **options)
    shape = "x".join(str(n) for n in base.shape)
    extra = f"; {note}" if note else ""
    print(
        f"{args.output}: series {args.series} ({series.kind}, {base.axes} {shape} {base.dtype}), "
        f"{count} {'image' if count == 1 else 'images'}, {levels} SubIFD {'level' if levels == 1 else 'levels'}, "
        f"{args.compression}{extra}"
    )
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "convert", help="convert a series of any readable TIFF to a pyramidal OME-TIFF (or a COG with --cog)"
    )
    parser.add_argument("input", help="TIFF file to read")
    parser.add_argument("output", help="OME-TIFF to write (never the input); a name ending .zarr: OME-Zarr")
    parser.add_argument("--series", type=int, default=0, help="series to convert (default 0)")
    parser.add_argument("--tile", type=int, default=256, help="tile size (multiple of 16; default 256)")
    parser.add_argument(
        "--levels", type=int, default=None, help="SubIFD levels per image (default: the series' own, else halvings)"
    )
    parser.add_argument(
        "--compression", default="zstd", help="none, deflate, zstd, lzw, packbits, jpeg, webp, jpeg2000 (default zstd)"
    )
    parser.add_argument("--bigtiff", action="store_true", help="write BigTIFF (chosen anyway past 4 GiB)")
    parser.add_argument("--cog", action="store_true", help="write a Cloud Optimized GeoTIFF (one image, overviews)")
    parser.set_defaults(run=run)

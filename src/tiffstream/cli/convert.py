"""``tiffstream convert IN OUT.ome.tif [--tile 256] [--levels N] [--compression zstd]``: pyramidal OME-TIFF."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import TiffWriter
from .. import open as open_tiff

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator

__all__ = ["add_parser", "run"]


def _progress(items: Iterable[Any], total: int, label: str) -> Iterator[Any]:
    """tqdm's progress bar when installed and the output is a terminal; plain items otherwise."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, total=total, desc=label, unit="page", disable=not sys.stderr.isatty())


def run(args: argparse.Namespace) -> int:
    with open_tiff(args.input) as tif:
        count = len(tif.pages)
        first = tif.pages[0]
        ome = tif.ome
        physical: tuple[float | None, float | None, float | None] = (None, None, None)
        if ome is not None and ome.images:
            pixels = ome.images[0].pixels
            physical = (pixels.physical_size_z, pixels.physical_size_y, pixels.physical_size_x)
        with TiffWriter(args.output, bigtiff=args.bigtiff, ome=True, page_axes="Z", physical_size=physical) as writer:
            for page in _progress(tif.pages, count, "convert"):
                if page.shape != first.shape or page.dtype != first.dtype:
                    raise ValueError(f"page {page.index} is {page.shape}, page 0 {first.shape}: not one stack")
                array = page.asarray()
                if array.ndim == 3 and page.planar_config == 2:
                    array = np.moveaxis(array, 0, -1)
                writer.write(
                    array,
                    compression=args.compression,
                    tile=(args.tile, args.tile),
                    subifds=args.levels,
                    photometric="rgb" if array.ndim == 3 and array.shape[2] in (3, 4) else "minisblack",
                )
    print(
        f"{args.output}: {count} pages of {first.shape} {first.dtype}, {args.levels} SubIFD levels, {args.compression}"
    )
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("convert", help="convert any readable TIFF to a tiled, pyramidal OME-TIFF")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--tile", type=int, default=256, help="tile size (multiple of 16; default 256)")
    parser.add_argument("--levels", type=int, default=2, help="SubIFD pyramid levels per page (default 2)")
    parser.add_argument(
        "--compression", default="zstd", help="none, deflate, zstd, lzw, packbits, jpeg, webp, jpeg2000"
    )
    parser.add_argument("--bigtiff", action="store_true", help="write BigTIFF")
    parser.set_defaults(run=run)

"""``tiffstream decode FILE [--page N] [--subifd K] [--region y0:y1,x0:x1] [--backend cpu|gpu] -o OUT``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from .. import open as open_tiff
from ._output import save_array

__all__ = ["add_parser", "parse_region", "run"]


def parse_region(text: str) -> tuple[int, int, int, int]:
    """``"y0:y1,x0:x1"`` -> (y0, x0, y1, x1)."""
    try:
        rows, cols = text.split(",")
        y0, y1 = (int(v) for v in rows.split(":"))
        x0, x1 = (int(v) for v in cols.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"region must look like y0:y1,x0:x1, got {text!r}") from None
    return (y0, x0, y1, x1)


def run(args: argparse.Namespace) -> int:
    if args.backend == "gpu":
        print("tiffstream: the GPU backend is not available in this build; decoding on the CPU", file=sys.stderr)
    with open_tiff(args.file) as tif:
        page = tif.pages[args.page]
        if args.subifd:
            subifds = page.subifds
            if args.subifd > len(subifds):
                raise IndexError(f"page {args.page} has {len(subifds)} SubIFDs, not {args.subifd}")
            page = subifds[args.subifd - 1]
        array = page.asarray(region=args.region)
    if array.ndim == 3 and page.planar_config == 2:
        array = np.moveaxis(array, 0, -1)  # planar-separate -> height, width, samples
    save_array(array, args.output)
    print(f"{args.output}: {array.shape} {array.dtype}")
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("decode", help="decode a page, SubIFD or region to .npy, .png or .tif")
    parser.add_argument("file")
    parser.add_argument("--page", type=int, default=0, help="page index (default 0)")
    parser.add_argument("--subifd", type=int, default=0, help="SubIFD level of that page, 1-based (default: the page)")
    parser.add_argument("--region", type=parse_region, help="rows and columns y0:y1,x0:x1")
    parser.add_argument("--backend", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("-o", "--output", required=True, help="output file: .npy, .png or .tif")
    parser.set_defaults(run=run)

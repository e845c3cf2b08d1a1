"""``tiffstream decode FILE [--page N] [--subifd K] [--region y0:y1,x0:x1] [--backend cpu|gpu] -o OUT``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from .. import open as open_tiff
from ._display import displayable
from ._output import save_array
from .info import plural

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


def _clipped(region: tuple[int, int, int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """``region`` cut to the image; a ValueError when nothing of it lies inside."""
    y0, x0, y1, x1 = region
    clipped = (max(0, y0), max(0, x0), min(height, y1), min(width, x1))
    if clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:
        raise ValueError(f"region {y0}:{y1},{x0}:{x1} lies outside the {height}x{width} image")
    if clipped != region:
        print(f"tiffstream: region clipped to the image: {clipped[0]}:{clipped[2]},{clipped[1]}:{clipped[3]}")
    return clipped


def _on_gpu(plan: Any, source: Any, region: tuple[int, int, int, int] | None) -> np.ndarray:
    """The page decoded through a GPU ``Decoder`` (on the CPU where the GPU path cannot take it), to the host."""
    from .. import BackendKind, Decoder

    with Decoder(backends=[BackendKind.HYBRID_CPU_GPU]) as decoder:
        (array,) = decoder.decode_plans([(plan, source, region)])
    return array.get() if hasattr(array, "get") else array


def run(args: argparse.Namespace) -> int:
    if args.backend == "gpu":
        from ..decoder import gpu_available

        usable, why = gpu_available()
        if not usable:
            print(f"tiffstream: the GPU backend cannot run here ({why}); decoding on the CPU", file=sys.stderr)
    with open_tiff(args.file) as tif:
        page = tif.pages[args.page]
        if args.subifd:
            subifds = page.subifds
            if args.subifd > len(subifds):
                raise IndexError(f"page {args.page} has {plural(len(subifds), 'SubIFD')}, not {args.subifd}")
            page = subifds[args.subifd - 1]
        region = _clipped(args.region, page.height, page.width) if args.region else None
        plan = page.plan
        array = _on_gpu(plan, tif.source, region) if args.backend == "gpu" else page.asarray(region=region)
    if args.output.lower().endswith(".png"):
        array = displayable(array, plan)  # what a person expects to see: palette, CMYK, floats scaled
    elif array.ndim == 3 and page.planar_config == 2:
        array = np.moveaxis(array, 0, -1)  # planar-separate -> height, width, samples
    save_array(array, args.output)
    print(f"{args.output}: {array.shape} {array.dtype}")
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "decode", help="decode a page, SubIFD or region to .npy, .tif (samples) or .png (a picture)"
    )
    parser.add_argument("file", help="TIFF file")
    parser.add_argument("--page", type=int, default=0, help="page index (default 0)")
    parser.add_argument("--subifd", type=int, default=0, help="SubIFD level of that page, 1-based (default: the page)")
    parser.add_argument("--region", type=parse_region, help="rows and columns y0:y1,x0:x1 (clipped to the image)")
    parser.add_argument("--backend", choices=("cpu", "gpu"), default="cpu", help="where to decode (default cpu)")
    parser.add_argument("-o", "--output", required=True, help="output file: .npy, .png or .tif")
    parser.set_defaults(run=run)

"""``tiffstream thumbnail FILE -o OUT.png [--size 256]``: the smallest pyramid level at least SIZE wide or high."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import CodeStream, Decoder
from .. import open as open_tiff
from ._output import save_array

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    with open_tiff(args.file) as tif:
        first = tif.pages[0]
        candidates = [first, *first.subifds]
        big_enough = [p for p in candidates if max(p.height, p.width) >= args.size]
        chosen = (
            min(big_enough, key=lambda p: p.height * p.width)
            if big_enough
            else max(candidates, key=lambda p: p.height * p.width)
        )
        offset = chosen.offset
    with Decoder(backends=[]) as decoder:  # sRGB, 8 bits: what a thumbnail shows
        pixels = np.asarray(decoder.decode(CodeStream(args.file, bitstream_offset=offset)))
    save_array(pixels, args.output)
    print(f"{args.output}: {pixels.shape[1]}x{pixels.shape[0]} from the level at offset {offset}")
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("thumbnail", help="write the smallest level at least --size pixels as PNG")
    parser.add_argument("file")
    parser.add_argument("-o", "--output", required=True, help="output PNG")
    parser.add_argument("--size", type=int, default=256, help="minimum longest side in pixels (default 256)")
    parser.set_defaults(run=run)

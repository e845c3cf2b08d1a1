"""``tiffstream thumbnail FILE -o OUT.png [--size 256]``: a picture of a series, its longest side SIZE.

The smallest pyramid level at least SIZE on its longest side is decoded (the first image of a stack) and
reduced to SIZE by area averaging, aspect kept, in the colours a viewer shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import open as open_tiff
from ._display import displayable, fit
from ._output import save_array

if TYPE_CHECKING:
    import argparse

    from ..tiff.series import Level

__all__ = ["add_parser", "choose_level", "run"]


def _longest(level: Level) -> int:
    return max(level.image_size)


def choose_level(levels: list[Level], size: int) -> int:
    """Index of the smallest level whose longest side is at least ``size`` (else the largest level)."""
    big_enough = [i for i, level in enumerate(levels) if _longest(level) >= size]
    if big_enough:
        return min(big_enough, key=lambda i: _longest(levels[i]))
    return max(range(len(levels)), key=lambda i: _longest(levels[i]))


def run(args: argparse.Namespace) -> int:
    if args.size < 1:
        raise ValueError(f"--size must be at least 1, got {args.size}")
    with open_tiff(args.file) as tif:
        tif.series_level(args.series)  # a clear error for a series that is not there
        levels = tif.series[args.series].levels
        number = choose_level(levels, args.size)
        level = levels[number]
        pixels = level.asarray(key=0)  # the first image, in its page shape
        image = fit(displayable(pixels, level.keyframe.plan), args.size)
    save_array(image, args.output)
    print(f"{args.output}: {image.shape[1]}x{image.shape[0]} from level {number} ({_longest(level)} pixels long)")
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("thumbnail", help="write a picture of a series, reduced to --size, as PNG")
    parser.add_argument("file", help="TIFF file")
    parser.add_argument("-o", "--output", required=True, help="output picture (.png)")
    parser.add_argument("--size", type=int, default=256, help="longest side in pixels (default 256)")
    parser.add_argument("--series", type=int, default=0, help="series to show (default 0)")
    parser.set_defaults(run=run)

"""The ``tiffstream`` command line: a thin client of the public API, one module per command.

Bad input files or arguments print one line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import TiffError
from . import convert, decode, demo, info, thumbnail

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main"]

COMMANDS = (info, decode, thumbnail, convert, demo)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tiffstream", description="Inspect, decode, convert TIFF / OME-TIFF files.")
    parser.add_argument("--version", action="version", version=f"tiffstream {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input files or arguments)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (TiffError, OSError, ValueError, IndexError) as exc:
        print(f"tiffstream: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``tiffstream`` command line: a thin client of the public API, one module per command.

Bad input files or arguments, and any other failure, print one line and exit with status 2, never a
traceback; warnings (a truncated file, a broken IFD chain) print one line each.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import TiffError
from . import convert, decode, demo, info, serve, thumbnail

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main"]

COMMANDS = (info, decode, thumbnail, convert, serve, demo)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tiffstream", description="Inspect, decode, convert TIFF / OME-TIFF files.")
    parser.add_argument("--version", action="version", version=f"tiffstream {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _show_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    print(f"tiffstream: warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input files or arguments, or any other failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.run(args))
        except BrokenPipeError:  # the reader went away (``info --json | head``): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except TiffError as exc:
            print(f"tiffstream: error: {_one_line(exc)}", file=sys.stderr)
        except OSError as exc:  # a missing file, a directory: name it
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"tiffstream: error: {where}{exc.strerror or _one_line(exc)}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001  # the command line's contract: one line and status 2, always
            print(f"tiffstream: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``tiffstream demo [DIR]``: write the sample files (once) and run the seed notebook's walkthrough on them."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OSError("the demo draws figures with matplotlib: pip install 'tiffstream[demo]'") from None
    from ..demo.run import run_demo

    run_demo(args.directory)
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("demo", help="write the sample files and run the SubIFDs-and-pagination walkthrough")
    default = os.environ.get("TIFFSTREAM_DEMO_DIR", str(pathlib.Path.cwd() / "tiffstream-demo"))
    parser.add_argument(
        "directory", nargs="?", default=default, help=f"where samples and figures go (default {default})"
    )
    parser.set_defaults(run=run)

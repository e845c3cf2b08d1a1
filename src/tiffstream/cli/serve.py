"""``tiffstream serve SLIDE... [--host 127.0.0.1] [--port 8000]``: slides as Deep Zoom, with a viewer page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..slide.server import SlideSet, create_app
    except ImportError as exc:
        raise OSError(
            f"serving needs Starlette and uvicorn ({exc.name} is missing): pip install 'tiffstream[serve]'"
        ) from None
    slides = SlideSet(args.slides, tile_size=args.tile_size)
    for name in slides.paths:
        if slides.get(name) is None:
            raise OSError(f"{slides.paths[name]}: not a slide")
    print(
        f"serving {len(slides.paths)} slide{'s' if len(slides.paths) != 1 else ''} at http://{args.host}:{args.port}/"
    )
    uvicorn.run(create_app(slides), host=args.host, port=args.port, log_level="warning")
    return 0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("serve", help="serve slides over HTTP as Deep Zoom, with a viewer in the browser")
    parser.add_argument("slides", nargs="+", help="slide files (SVS, NDPI, OME-TIFF, tiled TIFF, ...)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--tile-size", type=int, default=254, help="Deep Zoom tile size (default 254)")
    parser.set_defaults(run=run)

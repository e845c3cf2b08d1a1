"""``tiffstream serve``: slides over HTTP as Deep Zoom (``.dzi`` and tiles), with an index and a viewer page.

A Starlette application (run by uvicorn; extra ``[serve]``). Only the slides it was given are served, by
name; anything else (an unknown name, a level or tile out of range, a format we do not encode, a path
that tries to leave the set) is a 404, never a traceback. Tiles are cut by ``DeepZoomGenerator`` and
encoded as JPEG, PNG or WebP; each slide keeps its own tile cache.
"""

from __future__ import annotations

import contextlib
import html
import io
import pathlib
import re
import threading
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ._tiff import OpenSlide
from .deepzoom import DeepZoomGenerator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["SlideSet", "create_app"]

_FORMATS = {
    "jpeg": ("JPEG", "image/jpeg"),
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
}
_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


class SlideSet:
    """The slides served, by a URL-safe name made from each file name (unique), opened once."""

    def __init__(self, paths: Sequence[str | pathlib.Path], *, tile_size: int = 254, overlap: int = 1) -> None:
        self.paths: dict[str, pathlib.Path] = {}
        for path in paths:
            stem = re.sub(r"[^A-Za-z0-9._-]", "_", pathlib.Path(path).stem) or "slide"
            name, n = stem, 1
            while name in self.paths:
                n += 1
                name = f"{stem}-{n}"
            self.paths[name] = pathlib.Path(path)
        self.tile_size, self.overlap = tile_size, overlap
        self._opened: dict[str, tuple[OpenSlide, DeepZoomGenerator]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> tuple[OpenSlide, DeepZoomGenerator] | None:
        """The open slide and its Deep Zoom generator, or None for a name not served."""
        if not _NAME.match(name) or name not in self.paths:
            return None
        with self._lock:
            if name not in self._opened:
                slide = OpenSlide(self.paths[name])
                self._opened[name] = (slide, DeepZoomGenerator(slide, self.tile_size, self.overlap))
            return self._opened[name]

    def close(self) -> None:
        with self._lock:
            for slide, _ in self._opened.values():
                slide.close()
            self._opened.clear()


def _encode(image: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, _FORMATS[fmt][0], quality=80)
    return buffer.getvalue()


def create_app(slides: SlideSet) -> Starlette:
    """The Starlette application serving ``slides``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    viewer = files(__package__).joinpath("static", "viewer.html").read_text(encoding="utf-8")

    def not_found(what: str) -> Response:
        return Response(f"not found: {what}\n", status_code=404, media_type="text/plain")

    async def index(request: Request) -> Response:
        items = "".join(f'<li><a href="/view/{name}">{html.escape(name)}</a></li>' for name in slides.paths)
        return HTMLResponse(f"<!doctype html><title>tiffstream slides</title><h1>Slides</h1><ul>{items}</ul>")

    async def listing(request: Request) -> Response:
        return JSONResponse(sorted(slides.paths))

    async def view(request: Request) -> Response:
        name = request.path_params["name"]
        if slides.get(name) is None:
            return not_found(name)
        return HTMLResponse(viewer.replace("{{SLIDE}}", html.escape(name)))

    async def dzi(request: Request) -> Response:
        found = slides.get(request.path_params["name"])
        if found is None:
            return not_found(request.path_params["name"])
        return Response(found[1].get_dzi("jpeg"), media_type="application/xml")

    async def info(request: Request) -> Response:
        found = slides.get(request.path_params["name"])
        if found is None:
            return not_found(request.path_params["name"])
        slide, zoom = found
        return JSONResponse(
            {
                "dimensions": slide.dimensions,
                "level_dimensions": slide.level_dimensions,
                "deepzoom_levels": zoom.level_count,
                "tile_size": slides.tile_size,
                "overlap": slides.overlap,
                "properties": dict(slide.properties),
                "associated_images": list(slide.associated_images),
            }
        )

    async def tile(request: Request) -> Response:
        name, fmt = request.path_params["name"], request.path_params["format"].lower()
        found = slides.get(name)
        if found is None or fmt not in _FORMATS:
            return not_found(request.url.path)
        zoom = found[1]
        level, column, row = (int(request.path_params[k]) for k in ("level", "column", "row"))
        if not 0 <= level < zoom.level_count:
            return not_found(f"level {level}")
        columns, rows = zoom.level_tiles[level]
        if not (0 <= column < columns and 0 <= row < rows):
            return not_found(f"tile {column}_{row} of level {level}")
        image = await run_in_threadpool(zoom.get_tile, level, (column, row))
        return Response(await run_in_threadpool(_encode, image, fmt), media_type=_FORMATS[fmt][1])

    async def associated(request: Request) -> Response:
        found = slides.get(request.path_params["name"])
        image_name, fmt = request.path_params["image"], request.path_params["format"].lower()
        if found is None or fmt not in _FORMATS or image_name not in found[0].associated_images:
            return not_found(request.url.path)
        image = await run_in_threadpool(found[0].associated_images.__getitem__, image_name)
        return Response(await run_in_threadpool(_encode, image, fmt), media_type=_FORMATS[fmt][1])

    routes = [
        Route("/", index),
        Route("/slides.json", listing),
        Route("/view/{name}", view),
        Route("/slides/{name}.dzi", dzi),
        Route("/slides/{name}.json", info),
        Route("/slides/{name}_files/{level:int}/{column:int}_{row:int}.{format}", tile),
        Route("/slides/{name}/associated/{image}.{format}", associated),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        slides.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.slides = slides
    return app

"""Deep Zoom tiles of a slide (openslide-python's ``DeepZoomGenerator``, with the same numbers).

Deep Zoom level ``k`` halves the slide ``levels - 1 - k`` times (the last level is level 0's size); each
is cut into ``tile_size`` squares plus ``overlap`` pixels on every interior edge. A tile is read from the
slide level best suited to its downsample and resized to its Deep Zoom size.
"""

from __future__ import annotations

import math
from io import BytesIO
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ElementTree, SubElement

from ._abstract import PROPERTY_NAME_BACKGROUND_COLOR

if TYPE_CHECKING:
    from PIL import Image

    from ._abstract import AbstractSlide

__all__ = ["DeepZoomGenerator"]

_BOUNDS = ("openslide.bounds-x", "openslide.bounds-y")
_BOUNDS_SIZE = ("openslide.bounds-width", "openslide.bounds-height")


class DeepZoomGenerator:
    """Deep Zoom levels and tiles over ``slide`` (``limit_bounds``: only the slide's non-empty region)."""

    def __init__(self, osr: AbstractSlide, tile_size: int = 254, overlap: int = 1, limit_bounds: bool = False):
        self._osr = osr
        self._tile = tile_size
        self._overlap = overlap
        self._limit_bounds = limit_bounds
        properties = osr.properties
        if limit_bounds:
            self._offset = tuple(int(properties.get(key, 0)) for key in _BOUNDS)
            scale = [
                int(properties.get(key, full)) / full for key, full in zip(_BOUNDS_SIZE, osr.dimensions, strict=True)
            ]
            self._level_sizes = tuple(
                (math.ceil(w * scale[0]), math.ceil(h * scale[1])) for w, h in osr.level_dimensions
            )
        else:
            self._offset = (0, 0)
            self._level_sizes = tuple(osr.level_dimensions)
        size = self._level_sizes[0]
        sizes = [size]
        while size[0] > 1 or size[1] > 1:
            size = (max(1, math.ceil(size[0] / 2)), max(1, math.ceil(size[1] / 2)))
            sizes.append(size)
        self._z_sizes = tuple(reversed(sizes))
        self._tiles = tuple((math.ceil(w / tile_size), math.ceil(h / tile_size)) for w, h in self._z_sizes)
        count = len(self._z_sizes)
        z_downsamples = [2 ** (count - 1 - k) for k in range(count)]
        self._slide_level = tuple(osr.get_best_level_for_downsample(d) for d in z_downsamples)
        self._l0_downsamples = osr.level_downsamples
        self._l_downsamples = tuple(z_downsamples[k] / self._l0_downsamples[self._slide_level[k]] for k in range(count))
        self._background = "#" + properties.get(PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")

    def __repr__(self) -> str:
        return (
            f"DeepZoomGenerator({self._osr!r}, tile_size={self._tile!r}, overlap={self._overlap!r}, "
            f"limit_bounds={self._limit_bounds!r})"
        )

    @property
    def level_count(self) -> int:
        """The number of Deep Zoom levels."""
        return len(self._z_sizes)

    @property
    def level_tiles(self) -> tuple[tuple[int, int], ...]:
        """(columns, rows) of tiles of every Deep Zoom level."""
        return self._tiles

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        """(width, height) of every Deep Zoom level."""
        return self._z_sizes

    @property
    def tile_count(self) -> int:
        """Tiles in all Deep Zoom levels."""
        return sum(columns * rows for columns, rows in self._tiles)

    def _tile_info(
        self, level: int, address: tuple[int, int]
    ) -> tuple[tuple[tuple[int, int], int, tuple[int, int]], tuple[int, int]]:
        if not 0 <= level < len(self._z_sizes):
            raise ValueError("Invalid level")
        if any(not 0 <= t < limit for t, limit in zip(address, self._tiles[level], strict=True)):
            raise ValueError("Invalid address")
        slide_level = self._slide_level[level]
        before = [self._overlap * int(t != 0) for t in address]
        after = [self._overlap * int(t != limit - 1) for t, limit in zip(address, self._tiles[level], strict=True)]
        z_size = tuple(
            min(self._tile, z_limit - self._tile * t) + b + a
            for t, z_limit, b, a in zip(address, self._z_sizes[level], before, after, strict=True)
        )
        scale = self._l_downsamples[level]
        l_location = [scale * (self._tile * t - b) for t, b in zip(address, before, strict=True)]
        l0_location = tuple(
            int(self._l0_downsamples[slide_level] * loc + offset)
            for loc, offset in zip(l_location, self._offset, strict=True)
        )
        l_size = tuple(
            int(min(math.ceil(scale * z), limit - math.ceil(loc)))
            for loc, z, limit in zip(l_location, z_size, self._level_sizes[slide_level], strict=True)
        )
        return ((l0_location[0], l0_location[1]), slide_level, (l_size[0], l_size[1])), (z_size[0], z_size[1])

    def get_tile(self, level: int, address: tuple[int, int]) -> Image.Image:
        """An RGB PIL image of the tile at ``address`` (column, row) of Deep Zoom ``level``."""
        from PIL import Image

        args, z_size = self._tile_info(level, address)
        tile = self._osr.read_region(*args)
        profile = tile.info.get("icc_profile")
        tile = Image.composite(tile, Image.new("RGB", tile.size, self._background), tile)
        if tile.size != z_size:
            tile.thumbnail(z_size, Image.Resampling.LANCZOS)
        if profile is not None:
            tile.info["icc_profile"] = profile
        return tile

    def get_tile_coordinates(
        self, level: int, address: tuple[int, int]
    ) -> tuple[tuple[int, int], int, tuple[int, int]]:
        """The ``read_region`` arguments of a tile."""
        return self._tile_info(level, address)[0]

    def get_tile_dimensions(self, level: int, address: tuple[int, int]) -> tuple[int, int]:
        """(width, height) of a tile."""
        return self._tile_info(level, address)[1]

    def get_dzi(self, format: str) -> str:  # openslide-python's argument name
        """The ``.dzi`` XML document for tiles of ``format`` ("jpeg" or "png")."""
        image = Element(
            "Image",
            TileSize=str(self._tile),
            Overlap=str(self._overlap),
            Format=format,
            xmlns="http://schemas.microsoft.com/deepzoom/2008",
        )
        width, height = self._level_sizes[0]
        SubElement(image, "Size", Width=str(width), Height=str(height))
        buffer = BytesIO()
        ElementTree(image).write(buffer, encoding="UTF-8")
        return buffer.getvalue().decode("UTF-8")

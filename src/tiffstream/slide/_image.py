"""ImageSlide: a plain picture (PNG, JPEG, ...) opened with Pillow as a one-level slide."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._abstract import AbstractSlide
from ._errors import OpenSlideError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PIL import Image

__all__ = ["ImageSlide"]


class ImageSlide(AbstractSlide):
    """A PIL image (or a file Pillow opens) with the slide interface: one level, no properties."""

    def __init__(self, file: Any) -> None:
        from PIL import Image

        super().__init__()
        self._filename = file
        self._image: Image.Image | None
        if isinstance(file, Image.Image):
            self._close, self._image = False, file
        else:
            self._close, self._image = True, Image.open(file)
        self._profile = self._image.info.get("icc_profile")

    def __repr__(self) -> str:
        return f"ImageSlide({self._filename!r})"

    @classmethod
    def detect_format(cls, filename: Any) -> str | None:
        """Pillow's format name for ``filename``, or None when Pillow cannot open it."""
        from PIL import Image

        try:
            with Image.open(filename) as image:
                return image.format
        except OSError:
            return None

    def close(self) -> None:
        if self._close and self._image is not None:
            self._image.close()
            self._close = False
        self._image = None

    def _opened(self) -> Image.Image:
        if self._image is None:
            raise ValueError("Cannot read from a closed slide")
        return self._image

    @property
    def level_count(self) -> int:
        return 1

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return (self._opened().size,)

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return (1.0,)

    @property
    def properties(self) -> Mapping[str, str]:
        return {}

    @property
    def associated_images(self) -> Mapping[str, Image.Image]:
        return {}

    def get_best_level_for_downsample(self, downsample: float) -> int:
        return 0

    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        """An RGBA image of ``size`` at ``location``, transparent outside the picture."""
        from PIL import Image

        image = self._opened()
        if level != 0:
            raise OpenSlideError("Invalid level")
        if any(s < 0 for s in size):
            raise OpenSlideError(f"Size {size} must be non-negative")
        tile = Image.new("RGBA", size, (0, 0, 0, 0))
        left, top = max(location[0], 0), max(location[1], 0)
        right = min(location[0] + size[0], image.size[0])
        bottom = min(location[1] + size[1], image.size[1])
        if left < right and top < bottom:
            crop = image.crop((left, top, right, bottom)).convert("RGBA")
            tile.paste(crop, (left - location[0], top - location[1]))
        if self._profile is not None:
            tile.info["icc_profile"] = self._profile
        return tile

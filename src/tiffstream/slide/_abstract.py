"""AbstractSlide: the interface every slide has (openslide-python's), with its shared behaviour."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from io import BytesIO
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PIL import Image, ImageCms

__all__ = ["PROPERTY_NAME_BACKGROUND_COLOR", "AbstractSlide"]

PROPERTY_NAME_BACKGROUND_COLOR = "openslide.background-color"
_Self = TypeVar("_Self", bound="AbstractSlide")


class AbstractSlide(metaclass=ABCMeta):
    """The base class of a slide object."""

    def __init__(self) -> None:
        self._profile: bytes | None = None

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    @abstractmethod
    def detect_format(cls, filename: Any) -> str | None:
        """The format vendor of ``filename``, or None when this class does not open it."""

    @abstractmethod
    def close(self) -> None:
        """Close the slide."""

    @property
    @abstractmethod
    def level_count(self) -> int:
        """The number of levels in the slide, level 0 the largest."""

    @property
    @abstractmethod
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        """(width, height) of every level."""

    @property
    def dimensions(self) -> tuple[int, int]:
        """(width, height) of level 0."""
        return self.level_dimensions[0]

    @property
    @abstractmethod
    def level_downsamples(self) -> tuple[float, ...]:
        """The downsample factor of every level."""

    @property
    @abstractmethod
    def properties(self) -> Mapping[str, str]:
        """Metadata: property name -> value."""

    @property
    @abstractmethod
    def associated_images(self) -> Mapping[str, Image.Image]:
        """Images associated with the slide (label, macro, thumbnail, ...): name -> PIL image."""

    @property
    def color_profile(self) -> ImageCms.ImageCmsProfile | None:
        """The slide's ICC profile, as ``PIL.ImageCms`` wants it, or None."""
        if self._profile is None:
            return None
        from PIL import ImageCms

        return ImageCms.getOpenProfile(BytesIO(self._profile))

    @abstractmethod
    def get_best_level_for_downsample(self, downsample: float) -> int:
        """The level to read to display the slide at ``downsample``."""

    @abstractmethod
    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        """An RGBA image of ``size`` (width, height) at ``level``, its top left at ``location`` in level 0."""

    def set_cache(self, cache: Any) -> None:  # slides without a cache accept and ignore one
        """Use ``cache`` for recently decoded tiles (a no-op for slides without a cache)."""

    def get_thumbnail(self, size: tuple[int, int]) -> Image.Image:
        """An RGB image of the whole slide fitting ``size``, on the slide's background colour."""
        from PIL import Image

        downsample = max(dim / thumb for dim, thumb in zip(self.dimensions, size, strict=True))
        level = self.get_best_level_for_downsample(downsample)
        tile = self.read_region((0, 0), level, self.level_dimensions[level])
        background = "#" + self.properties.get(PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")
        thumb = Image.new("RGB", tile.size, background)
        thumb.paste(tile, None, tile)
        thumb.thumbnail(size, Image.Resampling.LANCZOS)
        if self._profile is not None:
            thumb.info["icc_profile"] = self._profile
        return thumb

"""Series and Level: the image a user means (a stack with axes) and its pyramid levels, over lazy pages.

A level is ``len(level)`` images of one page shape, laid out as ``level.shape`` (tifffile's axis letters;
length-1 axes other than Y and X squeezed away). Its images are resolved lazily: a slot names a page of
some chain and is parsed only when asked for, or is ``None`` (missing: the fill value, zeros). Decoding
goes through the file that made the level (``TiffFile.read_level``; the public reader decodes on the CPU).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ...plan import DecodePlan
    from ...source import ByteSource
    from ..page import TiffPage

__all__ = ["ImageView", "Images", "Level", "Series", "pyramidize", "squeeze_axes", "subresolution", "with_yx"]

Region = tuple[int, int, int, int]


def squeeze_axes(shape: Sequence[int], axes: str, keep: str = "XY") -> tuple[tuple[int, ...], str]:
    """``shape`` and ``axes`` without their length-1 axes, except those in ``keep`` (tifffile's rule)."""
    kept = [(size, axis) for size, axis in zip(shape, axes, strict=True) if size != 1 or axis in keep]
    if not kept and len(shape):
        kept = [(shape[-1], axes[-1])]
    return tuple(size for size, _ in kept), "".join(axis for _, axis in kept)


def with_yx(shape: Sequence[int], axes: str, rows: int, cols: int) -> tuple[int, ...]:
    """``shape`` with its Y axis ``rows`` and its X axis ``cols`` long."""
    return tuple(rows if a == "Y" else cols if a == "X" else int(n) for n, a in zip(shape, axes, strict=True))


class Images:
    """``count`` image slots resolved on first use by ``resolve(i)`` (a page, or None when missing).

    ``contiguous``: slot 0 is a page whose uncompressed data the other images continue, one page size
    after another (ImageJ and tifffile "shaped" files, whose later pages need not be read at all).
    """

    def __init__(self, count: int, resolve: Callable[[int], TiffPage | None], *, contiguous: bool = False) -> None:
        self._count = count
        self._resolve = resolve
        self._pages: dict[int, TiffPage | None] = {}
        self._lock = threading.Lock()
        self.contiguous = contiguous

    @classmethod
    def of(cls, pages: Sequence[TiffPage | None]) -> Images:
        """Slots over pages already at hand."""
        pages = list(pages)
        return cls(len(pages), pages.__getitem__)

    def __len__(self) -> int:
        return self._count

    def page(self, index: int) -> TiffPage | None:
        """The page of slot ``index`` (None: missing, or the continuation of a contiguous page)."""
        if index in self._pages:
            return self._pages[index]
        page = self._resolve(index)
        with self._lock:
            return self._pages.setdefault(index, page)

    def image(self, index: int) -> tuple[DecodePlan, ByteSource] | None:
        """The decode plan of slot ``index`` and the source it reads, or None when the slot is missing."""
        if self.contiguous and index:
            first = self.page(0)
            assert first is not None  # contiguous slots start at a page
            return first.plan.shifted(index * first.nbytes), first.ifd.source
        page = self.page(index)
        return None if page is None else (page.plan, page.ifd.source)


class Level:
    """One resolution of a series: its images, its shape and axes (level 0 is the series itself)."""

    def __init__(
        self,
        owner: Any,
        images: Images,
        shape: Sequence[int],
        axes: str,
        keyframe: TiffPage,
        *,
        page_shape: tuple[int, ...] | None = None,
        name: str = "",
        squeeze: bool = True,
    ) -> None:
        if len(shape) != len(axes):
            raise ValueError(f"shape {tuple(shape)} and axes {axes!r} differ in length")
        self._owner = owner  # the TiffFile that decodes (read_level)
        self.images = images
        self.keyframe = keyframe
        self.dtype: np.dtype = keyframe.dtype
        self.name = name
        self.page_shape: tuple[int, ...] = page_shape or keyframe.shape
        self.full_shape = tuple(int(n) for n in shape)
        self.full_axes = axes
        self.shape, self.axes = squeeze_axes(shape, axes) if squeeze else (self.full_shape, axes)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def pages(self) -> tuple[TiffPage | None, ...]:
        """The page of every image (None where missing; a contiguous level lists its first page only)."""
        count = 1 if self.images.contiguous else len(self.images)
        return tuple(self.images.page(i) for i in range(count))

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of each image."""
        axes = self.keyframe.axes
        return self.page_shape[axes.index("Y")], self.page_shape[axes.index("X")]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def region_shape(self, region: Region | None) -> tuple[int, ...]:
        """``shape`` with Y and X cut to ``region`` (rows y0:y1, columns x0:x1)."""
        if region is None:
            return self.shape
        y0, x0, y1, x1 = region
        return with_yx(self.shape, self.axes, y1 - y0, x1 - x0)

    def asarray(
        self,
        *,
        key: int | slice | Sequence[int] | None = None,
        region: Region | None = None,
        out: np.ndarray | None = None,
        max_workers: int | None = None,
        strict: bool = False,
    ) -> np.ndarray:
        """Decode the level (``key``: only those images, stacked as ``(n, *page_shape)`` as tifffile does;
        ``region``: rows y0:y1, columns x0:x1 of every image)."""
        return self._owner.read_level(self, key=key, region=region, out=out, max_workers=max_workers, strict=strict)

    def image_view(self, index: int) -> ImageView:
        """Image ``index`` as a lazy ``(height, width, samples)`` array-like (see :class:`ImageView`)."""
        return ImageView(self, index)

    def __repr__(self) -> str:
        return f"<Level {self.name!r} {self.shape} {self.axes} {self.dtype}>"


class ImageView:
    """One image of a level as an ``(height, width, samples)`` array-like: slicing rows and columns decodes
    only the chunks they touch (the writer streams a slide through it a band at a time)."""

    def __init__(self, level: Level, index: int) -> None:
        self.level = level
        self.index = index
        self.separate = level.keyframe.axes == "SYX"
        page = level.page_shape
        self.shape = (page[1], page[2], page[0]) if self.separate else (page if len(page) == 3 else (*page, 1))
        self.dtype = level.dtype

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        y0, y1, _ = rows.indices(self.shape[0])
        x0, x1, _ = cols.indices(self.shape[1])
        pixels = self.level.asarray(key=[self.index], region=(y0, x0, y1, x1))[0]
        if self.separate:
            return np.moveaxis(pixels, 0, -1)
        return pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis]


class Series:
    """A multi-dimensional image made of pages (tifffile's ``TiffPageSeries``), with its pyramid levels.

    ``kind`` names the layout it was found from ("ome", "imagej", "shaped", "svs", "ndpi", "scn", "bif",
    "philips", "qpi", "uniform", "generic"); ``levels[0]`` is the full resolution.
    """

    def __init__(
        self,
        level: Level,
        kind: str,
        name: str = "",
        metadata: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        index: int = 0,
    ) -> None:
        self.levels: list[Level] = [level]
        self.kind = kind
        self.name = name or level.name
        self._metadata = metadata  # a dict, or what makes it when first asked for (parsing can be costly)
        self.index = index

    @property
    def metadata(self) -> dict[str, Any]:
        """The layout's metadata (Aperio key=values, NDPI tags, vendor XML fields, OME sizes ...)."""
        if callable(self._metadata):
            self._metadata = self._metadata()
        return self._metadata or {}

    @metadata.setter
    def metadata(self, value: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
        self._metadata = value

    @property
    def base(self) -> Level:
        return self.levels[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.base.shape

    @property
    def axes(self) -> str:
        return self.base.axes

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    @property
    def keyframe(self) -> TiffPage:
        return self.base.keyframe

    @property
    def pages(self) -> tuple[TiffPage | None, ...]:
        return self.base.pages

    @property
    def is_pyramidal(self) -> bool:
        return len(self.levels) > 1

    def level(self, index: int) -> Level:
        """Level ``index``; an ``ImageIndexError`` naming the valid range otherwise."""
        from ...errors import ImageIndexError

        if not isinstance(index, int) or not 0 <= index < len(self.levels):
            raise ImageIndexError(
                f"level {index} is out of range: series {self.index} has levels 0-{len(self.levels) - 1}",
                path=self.keyframe.ifd.source.name,
            )
        return self.levels[index]

    def asarray(self, level: int = 0, key: int | slice | Sequence[int] | None = None, **kwargs: Any) -> np.ndarray:
        """Decode level ``level`` (``key``: only some of its images; see :meth:`Level.asarray`)."""
        return self.level(level).asarray(key=key, **kwargs)

    def __len__(self) -> int:
        return len(self.base)

    def __repr__(self) -> str:
        levels = f", {len(self.levels)} levels" if self.is_pyramidal else ""
        return f"<Series {self.index} {self.kind} {self.name!r} {self.shape} {self.axes} {self.dtype}{levels}>"


def subresolution(a: Level, b: Level, factor: int = 2, depth: int = 16) -> int | None:
    """How many ``factor`` halvings of ``a``'s spatial axes give ``b`` (floor or ceiling); None if none does."""
    if a.axes != b.axes or a.dtype != b.dtype:
        return None
    found: int | None = None
    for axis, i, j in zip(a.axes, a.shape, b.shape, strict=True):
        if axis not in "XYZ":
            if i != j:
                return None
            continue
        steps = range(depth) if found is None else (found,)
        for r in steps:
            d = factor**r
            if d > i:
                return None
            if j in (i // d, -(-i // d)):
                found = r
                break
        else:
            return None
    return found


def pyramidize(series: list[Series], *, reduced: bool = False, factors: Sequence[int] = (2, 3, 4)) -> None:
    """Fold series that are one sampling step below another's last level into its levels (in place).

    ``reduced``: only series whose first page is marked reduced-resolution qualify; series of SubIFDs
    never start a pyramid. Follows tifffile, so the same files give the same levels.
    """
    i = 0
    while i < len(series):
        top = series[i]
        if top.keyframe.is_subifd:
            i += 1
            continue
        factor: int | None = None
        j = i + 1
        while j < len(series):
            candidate = series[j]
            if reduced and not candidate.keyframe.is_reduced:
                j += 1
                continue
            if factor is None:
                factor = next((f for f in factors if subresolution(top.levels[-1], candidate.base, f) == 1), None)
                if factor is None:
                    j += 1
                    continue
            elif subresolution(top.levels[-1], candidate.base, factor) != 1:
                j += 1
                continue
            top.levels.append(candidate.base)
            del series[j]
        i += 1

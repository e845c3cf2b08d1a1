"""OpenSlide: a TIFF slide (Aperio, Hamamatsu, Leica, Ventana, Philips, generic tiled TIFF, and beyond
OpenSlide: OME-TIFF pyramids and QPTIFF) read through the series model, with openslide-python's API."""

from __future__ import annotations

import ctypes
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import TiffError
from ..reader import TiffReader
from ..tiff.series._text import xml_fields
from ._abstract import AbstractSlide
from ._cache import TileCache
from ._device import gpu_decoder, read_on_device
from ._errors import OpenSlideError, OpenSlideUnsupportedFormatError, closed_slide, not_a_path
from ._levels import SlideLevel, downsamples, paste, rgba
from ._properties import hashed_chunks, quickhash, slide_properties

if TYPE_CHECKING:
    from PIL import Image

    from ..decoder import Decoder
    from ..tiff.series import Level, Series

__all__ = ["OpenSlide", "OpenSlideCache"]

_VENDORS = {"svs": "aperio", "ndpi": "hamamatsu", "scn": "leica", "bif": "ventana", "philips": "philips"}
_OURS = {"ome": "ome-tiff", "qpi": "qptiff"}  # layouts OpenSlide does not open
_ASSOCIATED = {  # series names that are associated images, per vendor, as OpenSlide names them
    "aperio": {"Thumbnail": "thumbnail", "Label": "label", "Macro": "macro"},
    "hamamatsu": {"Macro": "macro"},
    "ventana": {"Label": "label", "Thumbnail": "thumbnail"},
    "philips": {"Label": "label", "Macro": "macro"},
    "qptiff": {"Thumbnail": "thumbnail", "Macro": "macro", "Label": "label"},
}
_UNSUPPORTED = "Unsupported or missing image file"
QUICKHASH = "openslide.quickhash-1"


def _path(filename: Any) -> str:
    if isinstance(filename, bytes):
        return os.fsdecode(filename)
    if isinstance(filename, (str, os.PathLike)):
        return os.fspath(filename)
    raise not_a_path(filename)


def _to_device(batch: np.ndarray) -> Any:
    """``batch`` as a CuPy array on the current CUDA device (``RuntimeError`` saying why where there is none)."""
    try:
        import cupy
    except ImportError:
        raise RuntimeError("read_regions(device='cuda') needs CuPy (pip install 'tiffstream[gpu]')") from None
    return cupy.asarray(batch)


def _vendor(series: list[Series]) -> str | None:
    """OpenSlide's format name for a file of these series; None for files it would not open as slides."""
    if not series:
        return None
    first = series[0]
    if first.kind in _VENDORS:
        return _VENDORS[first.kind]
    if first.kind in _OURS:
        return _OURS[first.kind]
    return "generic-tiff" if first.keyframe.is_tiled else None  # OpenSlide: a tiled first image


def _channel_names(series: Series) -> list[str]:
    """Channel names of a series whose images are channels (QPTIFF pages, OME's C axis), else []."""
    base = series.base
    lead = base.axes[: len(base.axes) - len(base.page_shape)]
    if lead != "C":
        return []
    names = series.metadata.get("ChannelNames")
    if isinstance(names, list) and len(names) == len(base):
        return [str(n) for n in names]
    if series.kind == "qpi":
        found = []
        for page in base.pages:
            fields = xml_fields(page.description if page is not None else None)
            found.append(str(fields.get("Name", "")))
        if all(found):
            return found
    return [f"channel {i}" for i in range(len(base))]


class OpenSlideCache:
    """A decoded-tile cache of ``capacity`` bytes that slides share through ``set_cache``."""

    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or capacity < 0:  # openslide-python's ctypes layer refuses these
            raise ctypes.ArgumentError(f"argument 1: capacity must be a non-negative integer, got {capacity!r}")
        self.capacity = capacity
        self._tiles = TileCache(capacity)

    def __repr__(self) -> str:
        return f"OpenSlideCache({self.capacity})"


class OpenSlide(AbstractSlide):
    """An open whole-slide image: ``import tiffstream.slide as openslide`` runs openslide-python code.

    Accepts a path (str, bytes, ``pathlib.Path``) or a URL of any fsspec protocol. A file that is not a
    slide raises ``OpenSlideUnsupportedFormatError``; a closed slide raises ``ctypes.ArgumentError``.
    """

    def __init__(self, filename: Any) -> None:
        super().__init__()
        path = _path(filename)
        self._filename = filename
        self._path = path
        self._error: str | None = None  # OpenSlide's errors latch: after one, every call raises it
        self._tif: TiffReader | None = None
        self._cache = TileCache()
        self._decoder: Decoder | None = None  # read_regions(device="cuda"): made on first use
        try:
            tif = TiffReader(path)
        except (OSError, TiffError):
            raise OpenSlideUnsupportedFormatError(_UNSUPPORTED, path=path) from None
        try:
            vendor = _vendor(tif.series)
            if vendor is None:
                raise OpenSlideUnsupportedFormatError(_UNSUPPORTED, path=path)
            self._setup(tif, vendor)
        except BaseException:
            tif.close()
            raise
        self._tif = tif

    def _setup(self, tif: TiffReader, vendor: str) -> None:
        series = tif.series
        base = series[0]
        levels = [SlideLevel(level) for level in base.levels if min(SlideLevel(level).size) > 0]
        if not levels or levels[0].level is not base.base:
            raise OpenSlideUnsupportedFormatError("the slide's first level holds no pixels", path=tif.name)
        if vendor == "hamamatsu" and base.keyframe.compression in (6, 7):
            smallest = levels[-1].level
            levels += [SlideLevel(smallest, factor) for factor in (2, 4, 8) if min(levels[-1].size) > 1]
        self._levels = levels
        self._downsamples = downsamples(levels)
        names = _ASSOCIATED.get(vendor, {})
        self._associated: dict[str, Level] = {names[s.name]: s.base for s in series[1:] if s.name in names}
        self._vendor = vendor
        self._channels = _channel_names(base)
        self._properties = slide_properties(vendor, levels, self._downsamples, self._associated)
        stored = next(level.level.keyframe for level in reversed(levels) if level.reduce == 1)
        chunks = hashed_chunks(stored)  # the quickhash itself is computed when first asked for
        self._hash_inputs = None if chunks is None else (stored, base.keyframe, chunks)
        icc = base.keyframe.ifd.tags.get(34675)
        self._profile = icc.raw() if icc is not None else None

    def __repr__(self) -> str:
        return f"OpenSlide({self._filename!r})"

    @classmethod
    def detect_format(cls, filename: Any) -> str | None:
        """The slide's format vendor ("aperio", "hamamatsu", "generic-tiff", ...), or None."""
        path = _path(filename)
        try:
            with TiffReader(path) as tif:
                return _vendor(tif.series)
        except (OSError, TiffError):
            return None

    def _open(self) -> TiffReader:
        if self._tif is None:
            raise closed_slide()
        if self._error is not None:
            raise OpenSlideError(self._error, path=self._path)
        return self._tif

    def _compute_quickhash(self) -> None:
        """OpenSlide's ``quickhash-1``, once (it reads the smallest level's stored bytes)."""
        if self._hash_inputs is not None:
            hashed = quickhash(*self._hash_inputs)
            self._hash_inputs = None
            self._properties = dict(sorted({**self._properties, QUICKHASH: hashed}.items()))

    def _failed(self, exc: TiffError) -> OpenSlideError:
        """An error reading the slide, kept: OpenSlide's errors latch, and openslide-python code expects it."""
        self._error = exc.message
        return OpenSlideError(self._error, path=self._path)

    def close(self) -> None:
        """Close the slide; later calls (a second ``close`` too) raise ``ctypes.ArgumentError``, as
        openslide-python's do."""
        if self._tif is None:
            raise closed_slide()
        self._tif.close()
        self._tif = None
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    @property
    def level_count(self) -> int:
        self._open()
        return len(self._levels)

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        self._open()
        return tuple(level.size for level in self._levels)

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        self._open()
        return self._downsamples

    @property
    def properties(self) -> Mapping[str, str]:
        """Metadata by OpenSlide's property names; a live view that raises once the slide is closed."""
        self._open()
        return _PropertyMap(self)

    @property
    def associated_images(self) -> Mapping[str, Image.Image]:
        """Associated images (label, macro, thumbnail, ...) as RGBA PIL images, decoded when asked for."""
        self._open()
        return _AssociatedImageMap(self)

    def get_best_level_for_downsample(self, downsample: float) -> int:
        """The largest level whose downsample is at most ``downsample`` (level 0 below the first)."""
        downsamples = self.level_downsamples
        for index in range(1, len(downsamples)):
            if downsample < downsamples[index]:
                return index - 1
        return len(downsamples) - 1

    @property
    def channel_names(self) -> list[str]:
        """Names of the channels of a multi-channel slide (QPTIFF, OME), one per image of a level; [] else."""
        self._open()
        return list(self._channels)

    def read_region(
        self, location: tuple[int, int], level: int, size: tuple[int, int], *, as_array: bool = False
    ) -> Any:
        """An RGBA PIL image (not premultiplied) of ``size`` at ``level``, its top left at ``location`` in
        level-0 pixels; transparent outside the slide (and for a level that does not exist).

        ``as_array=True`` (ours): a numpy array instead: ``(height, width, 4)`` uint8 RGBA, or for a
        multi-channel slide the stored samples ``(height, width, channels)`` (zeros outside).
        """
        from PIL import Image

        if as_array:
            if self._channels:
                return self._channel_region(location, level, size)
            return self.read_region_array(location, level, size)
        pixels, found = self._pixels(location, level, size)
        if pixels is not None and pixels.shape == (size[1], size[0], 4):
            image = Image.fromarray(pixels, "RGBA")  # inside the slide, from RGBA tiles: no more copies
        else:
            image = Image.fromarray(self._rgba(pixels, found, size), "RGBA")
        if self._profile is not None:
            image.info["icc_profile"] = self._profile
        return image

    def _window(
        self, location: tuple[int, int], level: int, size: tuple[int, int]
    ) -> tuple[int, int, int, int, int, int] | None:
        """(lx, ly, x0, y0, x1, y1): the level pixel nearest ``location`` (OpenSlide resamples there; exact at
        whole coordinates) and the part of the request inside the level; None when nothing is."""
        self._open()
        width, height = (int(v) for v in size)
        if width < 0 or height < 0:
            raise OpenSlideError(f"negative width ({width}) or negative height ({height}) not allowed", path=self._path)
        if not 0 <= level < len(self._levels) or not width or not height:
            return None
        downsample = self.level_downsamples[level]
        lx, ly = (math.floor(int(v) / downsample + 0.5) for v in location)
        level_width, level_height = self._levels[level].size
        x0, y0, x1, y1 = max(lx, 0), max(ly, 0), min(lx + width, level_width), min(ly + height, level_height)
        return (lx, ly, x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None

    def _channel_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        found = self._window(location, level, size)
        source = self._levels[level].level
        out = np.zeros((int(size[1]), int(size[0]), len(self._channels)), source.dtype)
        if found is None:
            return out
        lx, ly, x0, y0, x1, y1 = found
        try:
            planes = source.asarray(key=list(range(len(self._channels))), region=(y0, x0, y1, x1))
        except TiffError as exc:
            raise self._failed(exc) from exc
        out[y0 - ly : y1 - ly, x0 - lx : x1 - lx] = np.moveaxis(
            planes.reshape(len(self._channels), y1 - y0, x1 - x0), 0, -1
        )
        return out

    def read_region_array(
        self, location: tuple[int, int], level: int, size: tuple[int, int], out: np.ndarray | None = None
    ) -> np.ndarray:
        """``read_region`` as a numpy ``(height, width, 4)`` uint8 RGBA array (written into ``out`` if given)."""
        pixels, found = self._pixels(location, level, size, out)
        if out is not None and pixels is out:  # inside the level: cut from its RGBA tiles straight into ``out``
            return out
        if pixels is not None and pixels.shape == (int(size[1]), int(size[0]), 4):
            rgba = pixels  # inside the level, cut from RGBA tiles into an array of its own: as _rgba would make it
        else:
            rgba = self._rgba(pixels, found, size)
        if out is None:
            return rgba
        out[...] = rgba
        return out

    def _pixels(
        self, location: tuple[int, int], level: int, size: tuple[int, int], into: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, tuple[int, int, int, int, int, int] | None]:
        """The part of a request inside the level (RGB, or RGBA with the image's alpha) and where it lies;
        cut straight into ``into`` (the whole request) where all of it lies inside the level and can be."""
        found = self._window(location, level, size)  # raises for a negative size
        if found is None:
            return None, None
        _, _, x0, y0, x1, y1 = found
        try:  # the level reads exactly the rectangle asked for, into ``into`` only where it is that size
            return self._levels[level].read(x0, y0, x1 - x0, y1 - y0, self._cache, into), found
        except TiffError as exc:
            raise self._failed(exc) from exc

    @staticmethod
    def _rgba(
        pixels: np.ndarray | None, found: tuple[int, int, int, int, int, int] | None, size: tuple[int, int]
    ) -> np.ndarray:
        """``(height, width, 4)`` RGBA: ``pixels`` placed where they lie, opaque, transparent elsewhere."""
        out = np.zeros((int(size[1]), int(size[0]), 4), np.uint8)
        if pixels is not None and found is not None:
            lx, ly, x0, y0, x1, y1 = found
            paste(out[y0 - ly : y1 - ly, x0 - lx : x1 - lx], pixels)
        return out

    def read_regions(
        self,
        locations: Sequence[tuple[int, int]],
        level: int,
        size: tuple[int, int],
        *,
        device: str = "cpu",
        max_workers: int | None = None,
    ) -> Any:
        """Many patches at once (ours, beyond openslide-python): ``(len(locations), height, width, 4)`` uint8,
        each as ``read_region`` gives it; patches are read on a thread pool sharing the slide's tile cache,
        so tiles shared between patches are decoded once. ``device="cuda"``: one CuPy array on the current
        device, every patch's region decoded in one GPU batch (JPEG within 1 level of the host's pixels;
        JPEG 2000, compressions the GPU cannot take, and Hamamatsu's reduced levels decode on the host and are
        uploaded)."""
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
        self._open()
        width, height = (int(v) for v in size)
        if device == "cuda" and 0 <= level < len(self._levels):
            windows = [self._window(location, level, size) for location in locations]
            if self._decoder is None:
                self._decoder = gpu_decoder()
            try:
                batch = read_on_device(self._decoder, self._levels[level], windows, (width, height))
            except TiffError as exc:
                raise self._failed(exc) from exc
            if batch is not None:
                return batch
        out = np.empty((len(locations), height, width, 4), np.uint8)
        workers = max_workers or os.cpu_count() or 1

        def some(indices: range) -> None:
            for index in indices:
                self.read_region_array(locations[index], level, size, out[index])

        if workers == 1 or len(locations) <= 1:
            some(range(len(locations)))
        else:  # a few runs of patches per thread, not a task per patch: a cached patch costs less than a task
            step = max(1, -(-len(locations) // (4 * workers)))
            with ThreadPoolExecutor(workers, thread_name_prefix="tiffstream-slide") as pool:
                list(pool.map(some, [range(k, min(k + step, len(locations))) for k in range(0, len(locations), step)]))
        return out if device == "cpu" else _to_device(out)

    def set_cache(self, cache: OpenSlideCache) -> None:
        """Use ``cache`` for decoded tiles (``TypeError`` for anything else, as openslide-python)."""
        if not isinstance(cache, OpenSlideCache):
            raise TypeError("Not a cache object")
        self._open()
        self._cache = cache._tiles  # slides given one cache share it


class _PropertyMap(Mapping[str, str]):
    """name -> value, checked against the slide on every access (as openslide-python's map is).
    ``openslide.quickhash-1`` is computed when first asked for: it reads the whole smallest level."""

    def __init__(self, slide: OpenSlide) -> None:
        self._slide = slide

    def _all(self) -> dict[str, str]:
        self._slide._open()
        return self._slide._properties

    def __getitem__(self, key: str) -> str:
        if key == QUICKHASH:
            self._slide._compute_quickhash()
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        properties = self._all()
        if self._slide._hash_inputs is not None:  # listed before it is computed, in its sorted place
            return iter(sorted([*properties, QUICKHASH]))
        return iter(properties)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"<_PropertyMap {dict(self)!r}>"


class _AssociatedImageMap(Mapping[str, "Image.Image"]):
    """name -> RGBA PIL image, decoding an image each time it is asked for (as openslide-python does)."""

    def __init__(self, slide: OpenSlide) -> None:
        self._slide = slide

    def __iter__(self) -> Iterator[str]:
        self._slide._open()
        return iter(self._slide._associated)

    def __len__(self) -> int:
        return len(self._slide._associated)

    def __getitem__(self, key: str) -> Image.Image:
        from PIL import Image

        slide = self._slide
        slide._open()
        level = slide._associated[key]  # KeyError for a name it lacks
        try:
            pixels = level.asarray(key=0)  # the first image, in its page shape
        except TiffError as exc:
            raise slide._failed(exc) from exc
        image = Image.fromarray(rgba(pixels, level), "RGBA")
        if slide._profile is not None:
            image.info["icc_profile"] = slide._profile
        return image

    def __repr__(self) -> str:
        return f"<_AssociatedImageMap {dict(self)!r}>"

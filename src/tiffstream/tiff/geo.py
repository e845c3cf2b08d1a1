"""GeoTIFF: GeoKeys, the raster-to-model transform, GDAL's nodata and metadata tags, as ``page.geo``.

The transform follows GDAL (and so rasterio): an affine ``(a, b, c, d, e, f)`` with ``x = a*col + b*row + c``
and ``y = d*col + e*row + f`` at pixel corners; from ModelTransformation, or from one tiepoint and
ModelPixelScale; PixelIsPoint rasters are shifted by half a pixel, as GDAL does by default. Several tiepoints
(ground control points) give no transform. ``crs`` needs pyproj (``pip install 'tiffstream[geo]'``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

if TYPE_CHECKING:
    from .ifd import Ifd

__all__ = ["GEO_TAGS", "GeoInfo", "geo_info"]

GEO_TAGS = (33550, 33922, 34264, 34735, 34736, 34737, 42112, 42113)
_USER_DEFINED = 32767
_RASTER_TYPE, _MODEL_TYPE, _GEOGRAPHIC, _PROJECTED, _VERTICAL = 1025, 1024, 2048, 3072, 4096


@dataclass(frozen=True)
class GeoInfo:
    """A page's georeferencing.

    ``keys``: GeoKey id -> value (ints, floats, or text); ``transform``: the affine of the module docstring,
    or None; ``epsg``: the CRS's EPSG code where the keys name one; ``nodata``: GDAL_NODATA; ``metadata``:
    GDAL_METADATA's dataset items (name -> text); ``band_metadata``: its per-band items (band -> name -> text).
    """

    keys: dict[int, Any] = field(default_factory=dict)
    transform: tuple[float, float, float, float, float, float] | None = None
    epsg: int | None = None
    nodata: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    band_metadata: dict[int, dict[str, str]] = field(default_factory=dict)
    gcps: tuple[tuple[float, ...], ...] = ()

    @property
    def is_point(self) -> bool:
        """Whether the raster's values are at pixel centres (GTRasterTypeGeoKey PixelIsPoint)."""
        return self.keys.get(_RASTER_TYPE) == 2

    @property
    def crs(self) -> Any:
        """The coordinate reference system as a ``pyproj.CRS`` (needs pyproj), or None without an EPSG code."""
        if self.epsg is None:
            return None
        try:
            from pyproj import CRS
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("GeoInfo.crs needs pyproj: pip install 'tiffstream[geo]'") from exc
        return CRS.from_epsg(self.epsg)

    @property
    def wkt(self) -> str | None:
        """The CRS as WKT (needs pyproj), or None."""
        crs = self.crs
        return None if crs is None else crs.to_wkt()


def geo_info(ifd: Ifd) -> GeoInfo | None:
    """The georeferencing of ``ifd``, or None when it has none of the GeoTIFF or GDAL tags."""
    tags = ifd.tags
    if not any(code in tags for code in GEO_TAGS):
        return None
    keys = _geokeys(ifd)
    point = keys.get(_RASTER_TYPE) == 2
    transform, gcps = _transform(ifd, point)
    metadata, bands = _gdal_metadata(ifd.tags[42112].value) if 42112 in tags else ({}, {})
    return GeoInfo(
        keys=keys,
        transform=transform,
        epsg=_epsg(keys),
        nodata=_nodata(ifd.tags[42113].value) if 42113 in tags else None,
        metadata=metadata,
        band_metadata=bands,
        gcps=gcps,
    )


def _values(ifd: Ifd, code: int) -> tuple[Any, ...]:
    tag = ifd.tags.get(code)
    if tag is None:
        return ()
    value = tag.value
    return value if isinstance(value, tuple) else (value,)


def _geokeys(ifd: Ifd) -> dict[int, Any]:
    """GeoKeyDirectory entries with their values from the short, double and ASCII parameter tags."""
    directory = _values(ifd, 34735)
    if len(directory) < 4:
        return {}
    doubles = _values(ifd, 34736)
    ascii_tag = ifd.tags.get(34737)
    text = ascii_tag.raw().decode("latin-1") if ascii_tag is not None else ""
    keys: dict[int, Any] = {}
    count = min(int(directory[3]), (len(directory) - 4) // 4)
    for k in range(count):
        key, location, number, offset = (int(v) for v in directory[4 + 4 * k : 8 + 4 * k])
        if location == 0:
            keys[key] = offset
        elif location == 34736:
            found = doubles[offset : offset + number]
            keys[key] = found[0] if number == 1 and found else tuple(found)
        elif location == 34737:
            keys[key] = text[offset : offset + number].rstrip("|\0")
        elif location == 34735:
            found = directory[offset : offset + number]
            keys[key] = found[0] if number == 1 and found else tuple(found)
    return keys


def _epsg(keys: dict[int, Any]) -> int | None:
    model = keys.get(_MODEL_TYPE)
    order = (_PROJECTED, _GEOGRAPHIC) if model != 2 else (_GEOGRAPHIC, _PROJECTED)
    for key in order:
        code = keys.get(key)
        if isinstance(code, int) and 0 < code < _USER_DEFINED:
            return code
    return None


def _transform(ifd: Ifd, point: bool) -> tuple[tuple[float, float, float, float, float, float] | None, tuple[Any, ...]]:
    """The affine (GDAL's convention) and the ground control points when there are several tiepoints."""
    matrix = _values(ifd, 34264)
    tiepoints = _values(ifd, 33922)
    scale = _values(ifd, 33550)
    if len(matrix) >= 16:
        a, b, c, d, e, f = (float(matrix[i]) for i in (0, 1, 3, 4, 5, 7))
    elif len(tiepoints) >= 6 and len(scale) >= 2 and len(tiepoints) < 12:
        i, j, _, x, y, _ = (float(v) for v in tiepoints[:6])
        sx, sy = float(scale[0]), float(scale[1])
        a, b, d, e = sx, 0.0, 0.0, -sy
        c, f = x - i * sx, y + j * sy
    else:
        gcps = tuple(tuple(float(v) for v in tiepoints[k : k + 6]) for k in range(0, len(tiepoints) - 5, 6))
        return None, gcps if len(gcps) > 1 else ()
    if point:  # values at pixel centres: the corner is half a pixel up and left
        c, f = c - 0.5 * (a + b), f - 0.5 * (d + e)
    return (a, b, c, d, e, f), ()


def _nodata(text: Any) -> float | None:
    value = str(text).strip().strip("\0")
    try:
        return float(value)
    except ValueError:
        return math.nan if value.lower() == "nan" else None


def _gdal_metadata(text: Any) -> tuple[dict[str, str], dict[int, dict[str, str]]]:
    """GDAL_METADATA's items: dataset ones by name, band ones by band then name (roles left out)."""
    try:
        root = ElementTree.fromstring(str(text).strip("\0"))
    except ElementTree.ParseError:
        return {}, {}
    dataset: dict[str, str] = {}
    bands: dict[int, dict[str, str]] = {}
    for item in root.iter("Item"):
        name = item.get("name")
        if name is None or item.get("role"):
            continue
        sample = item.get("sample")
        if sample is None:
            dataset[name] = item.text or ""
        elif sample.isdigit():
            bands.setdefault(int(sample), {})[name] = item.text or ""
    return dataset, bands

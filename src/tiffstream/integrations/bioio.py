"""bioio reader plugin (entry point ``bioio.readers``): ``BioImage(path, reader=tiffstream.integrations.bioio.Reader)``
or found by extension. Scenes are the file's series, resolution levels their pyramid levels; dims, channel
names and physical pixel sizes come from the series model (OME where the file has it); data are dask arrays
over ``to_dask`` (one chunk per image, decoded on demand)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from bioio_base import constants, dimensions, exceptions, io, reader_metadata
from bioio_base import reader as base
from bioio_base.types import PhysicalPixelSizes

from ..errors import TiffError
from ..reader import TiffReader
from ..tiff.series import ome_channel_names, ome_pixel_sizes
from .dask import to_dask

__all__ = ["Reader", "ReaderMetadata"]

_DIMS = "TCZYXS"


class ReaderMetadata(reader_metadata.ReaderMetadata):
    """What bioio's plugin registry needs: the extensions and the reader."""

    @staticmethod
    def get_supported_extensions() -> list[str]:
        return ["tif", "tiff", "ome.tif", "ome.tiff", "btf", "tf8", "svs", "ndpi", "scn", "bif", "qptiff"]

    @staticmethod
    def get_reader() -> type[base.Reader]:  # type: ignore[override]  # bioio-base annotates an instance, means the class
        return Reader


class Reader(base.Reader):
    """A TIFF's series as bioio scenes, read through tiffstream."""

    def __init__(self, image: Any, fs_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._fs, self._path = io.pathlike_to_fs(image, enforce_exists=True, fs_kwargs=fs_kwargs or {})
        self._is_supported_image(self._fs, self._path)
        with TiffReader(self._path) as tif:  # read what bioio asks for now; no file stays open
            self._series = [
                (series.name or f"Image:{number}", series.base.axes, _pixel_sizes(series), _channels(series))
                for number, series in enumerate(tif.series)
            ]
            self._levels = [sum(len(level) == len(series.base) for level in series.levels) for series in tif.series]

    @staticmethod
    def _is_supported_image(fs: Any, path: str, **kwargs: Any) -> bool:
        try:
            with TiffReader(path) as tif:
                return bool(tif.series)
        except (OSError, TiffError) as exc:
            raise exceptions.UnsupportedFileFormatError("tiffstream", path, str(exc)) from exc

    @property
    def scenes(self) -> tuple[str, ...]:
        return tuple(name for name, _, _, _ in self._series)

    @property
    def resolution_levels(self) -> tuple[int, ...]:
        return tuple(range(self._levels[self.current_scene_index]))

    @property
    def physical_pixel_sizes(self) -> PhysicalPixelSizes:
        return self._series[self.current_scene_index][2]

    def _read_delayed(self) -> xr.DataArray:
        _, axes, _, channels = self._series[self.current_scene_index]
        data = to_dask(
            self._path, self.current_scene_index, self.current_resolution_level, backend="auto", keep_open=False
        )
        dims = [_dimension(axis, axes) for axis in axes]
        coords: dict[str, Any] = {}
        if channels and dimensions.DimensionNames.Channel in dims:
            coords[dimensions.DimensionNames.Channel] = channels
        attrs = {constants.METADATA_UNPROCESSED: {"axes": axes}}
        return xr.DataArray(data, dims=dims, coords=coords, attrs=attrs)

    def _read_immediate(self) -> xr.DataArray:
        delayed = self._read_delayed()
        return delayed.copy(data=np.asarray(delayed.data))


def _dimension(axis: str, axes: str) -> str:
    """tifffile's axis letter as a bioio dimension: T C Z Y X S as they are; another stack axis (I, Q, ...)
    becomes Z where the series has none."""
    if axis in _DIMS:
        return axis
    return "Z" if "Z" not in axes else axis


def _pixel_sizes(series: Any) -> PhysicalPixelSizes:
    """OME's physical sizes, else Aperio's microns per pixel."""
    sizes = ome_pixel_sizes(series)
    if sizes:
        return PhysicalPixelSizes(sizes.get("Z"), sizes.get("Y"), sizes.get("X"))
    mpp = series.metadata.get("MPP")
    if isinstance(mpp, (int, float)) and mpp > 0:
        return PhysicalPixelSizes(None, float(mpp), float(mpp))
    return PhysicalPixelSizes(None, None, None)


def _channels(series: Any) -> list[str] | None:
    """OME's channel names, else ``Channel:<series>:<k>`` (bioio's convention); None without a C axis."""
    axes = series.base.axes
    if "C" not in axes:
        return None
    names = ome_channel_names(series)
    return names or [f"Channel:{series.index}:{k}" for k in range(series.base.shape[axes.index("C")])]

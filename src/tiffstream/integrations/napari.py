"""napari reader plugin (npe2; manifest ``napari.yaml``): every series of a TIFF as a lazy multiscale image
layer (the first shown, the others, such as a slide's label and macro, hidden), its levels dask arrays decoded
on demand (on the GPU when one is usable), channels split with their OME names, RGB(A) slides shown as
colour, OME physical sizes as the layer's scale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..reader import TiffReader
from ..tiff.series import ome_channel_names, ome_pixel_sizes
from .dask import to_dask

__all__ = ["get_reader", "read"]

_VIEW_CHUNK = 2048  # napari draws a screen from a few blocks of this size, not from whole levels
_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8", ".svs", ".ndpi", ".scn", ".bif", ".qptiff", ".gtiff")


def get_reader(path: str | list[str]) -> Callable[[Any], list[tuple[Any, dict[str, Any], str]]] | None:
    """napari's reader hook: ``read`` for one TIFF path, None for anything else (another plugin may take it)."""
    if isinstance(path, list) or not str(path).lower().endswith(_SUFFIXES):
        return None
    return read


def read(path: Any) -> list[tuple[Any, dict[str, Any], str]]:
    """One image layer per series: ``(levels, layer options, "image")``."""
    layers = []
    with TiffReader(str(path)) as tif:
        for number, series in enumerate(tif.series):
            levels = [
                to_dask(str(path), number, k, backend="auto", yx_chunks=_VIEW_CHUNK)
                for k, level in enumerate(series.levels)
                if len(level) == len(series.base)
            ]
            options = _options(series, str(path))
            options["visible"] = number == 0  # a slide's label, macro and thumbnail are there, hidden
            layers.append((levels if len(levels) > 1 else levels[0], options, "image"))
    return layers


def _options(series: Any, path: str) -> dict[str, Any]:
    axes = series.base.axes
    options: dict[str, Any] = {
        "name": series.name or f"{path} series {series.index}",
        "multiscale": len(series.levels) > 1,
    }
    options["rgb"] = axes.endswith("S") and series.base.shape[-1] in (3, 4) and series.base.dtype.kind == "u"
    spatial = [axis for axis in axes if axis not in "CS" or (axis == "S" and not options["rgb"])]
    scale = dict.fromkeys(spatial, 1.0)
    for axis, size in ome_pixel_sizes(series).items():
        if axis in scale:
            scale[axis] = size
    names = ome_channel_names(series)
    if names is not None:
        options["name"] = names
    if "C" in axes and not options["rgb"]:
        options["channel_axis"] = axes.index("C")
    options["scale"] = [scale[axis] for axis in spatial if not (options["rgb"] and axis == "S")]
    options["metadata"] = {"axes": axes, "series_kind": series.kind}
    return options

"""The series of an OME-TIFF: one per OME Image, planes mapped to IFDs by TiffData, levels from SubIFDs.

Planes may live in other files of the same folder (TiffData's UUID FileName); those files are opened
when their planes are decoded, and a missing file gives zeros, as in tifffile. Pages are named by chain
index and parsed only when decoded; modulo annotations split an axis (e.g. C into C and lifetime H).
"""

from __future__ import annotations

import functools
import math
import os
import warnings
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ...errors import OmeXmlWarning, TiffError
from ...source import PathSource
from ..ifd import parse_ifd
from ._text import local_name, text_value
from .model import Images, Level, Series, squeeze_axes

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["ome_channel_names", "ome_pixel_sizes", "ome_series"]

_AXIS_CODES = {
    "angle": "A", "phase": "P", "tile": "R", "lifetime": "H", "lambda": "E", "exposure": "L", "event": "V",
    "mosaic": "M", "other": "Q", "column": "J", "row": "K", "z": "Z", "position": "R", "time": "T",
    "channel": "C", "depth": "Z", "sample": "S", "sequence": "I", "width": "X", "height": "Y",
}  # fmt: skip

Slot = tuple["TiffFile", int] | None  # (file, index in its main chain)


def _modulo(root: ET.Element) -> dict[str, dict[str, tuple[str, int]]]:
    """Modulo annotations by ID: axis -> (new axis letter, its size)."""
    found: dict[str, dict[str, tuple[str, int]]] = {}
    for element in root:
        if local_name(element.tag) != "StructuredAnnotations":
            continue
        for annotation in element:
            if not annotation.get("Namespace", "").endswith("modulo"):
                continue
            found[annotation.get("ID", "")] = axes = {}
            for along in annotation.iter():
                name = local_name(along.tag)
                if not (name[:-1].endswith("Along") and name[-1] in "ZCT"):
                    continue
                letter = _AXIS_CODES.get(along.get("Type", "other"), "Q")
                if "Start" in along.attrib:
                    step = float(along.get("Step", 1))
                    start, end = float(along.get("Start", 0)), float(along.get("End", 0))
                    size = max(0, math.ceil((end + step - start) / step)) if step else 0
                else:
                    size = sum(1 for label in along if local_name(label.tag) == "Label")
                axes[name[-1]] = (letter, size)
    return found


class _Files:
    """The root file and the files its TiffData name, by UUID, opened on first use."""

    def __init__(self, tiff: TiffFile, root_uuid: str | None) -> None:
        self.tiff = tiff
        self.by_uuid: dict[str | None, TiffFile | None] = {root_uuid: tiff}
        self.folder = os.path.dirname(tiff.source.path) if isinstance(tiff.source, PathSource) else None

    def get(self, uuid: str | None, filename: str | None) -> TiffFile | None:
        if uuid in self.by_uuid:
            return self.by_uuid[uuid]
        other = None
        if self.folder is not None and filename:
            path = os.path.join(self.folder, filename)
            try:
                other = self.tiff.open_linked(path)
            except (OSError, TiffError) as exc:
                warnings.warn(
                    f"{self.tiff.name}: OME planes in {filename!r} are zeros: {exc}", OmeXmlWarning, stacklevel=4
                )
        self.by_uuid[uuid] = other
        return other


def ome_series(tiff: TiffFile) -> list[Series] | None:
    """One series per OME Image with planes in these files; None when the OME-XML cannot be parsed."""
    text = tiff.pages[0].description or ""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    root_uuid = root.get("UUID")
    files = _Files(tiff, root_uuid)
    own_name = os.path.basename(tiff.name).lower()
    modulo = _modulo(root)
    series: list[Series] = []
    for image in root:
        name = local_name(image.tag)
        if name == "BinaryOnly":
            break
        if name != "Image":
            continue
        reference = next((a.get("ID") for a in image if local_name(a.tag) == "AnnotationRef"), None)
        for pixels in image:
            if local_name(pixels.tag) != "Pixels":
                continue
            found = _pixels_series(tiff, files, pixels, image.get("Name") or "", own_name)
            if found is None:
                continue
            if reference in modulo:
                found = _apply_modulo(tiff, found, modulo[reference])
            series.append(found)
    for found in series:
        _add_levels(tiff, found)
    return series


def _pixels_series(tiff: TiffFile, files: _Files, pixels: ET.Element, name: str, own_name: str) -> Series | None:
    order = pixels.get("DimensionOrder", "XYZCT")
    axes = order[::-1]
    try:
        shape = [int(pixels.get("Size" + axis, "1")) for axis in axes]
    except ValueError:
        return None
    spp = 1
    channels = [c for c in pixels if local_name(c.tag) == "Channel"]
    if channels:
        spp = int(channels[0].get("SamplesPerPixel", "1") or 1)
        if spp > 1:
            shape = [n // spp if axis == "C" else n for n, axis in zip(shape, axes, strict=True)]
        if any(int(c.get("SamplesPerPixel", "1") or 1) != spp for c in channels[1:]):
            return None
    slots: list[Slot] = []
    planes = shape[:-2]
    for data in pixels:
        if local_name(data.tag) != "TiffData":
            continue
        ifd = int(data.get("IFD", "0"))
        num = int(data.get("PlaneCount", data.get("NumPlanes", "1" if "IFD" in data.attrib else "0")))
        first = [int(data.get("First" + axis, "0")) for axis in axes[:-2]]
        if any(not 0 <= i < n for i, n in zip(first, planes, strict=True)):
            continue  # ImageJ writes invalid TiffData when cropping; tifffile skips it
        start = _ravel(first, planes)
        uuid = next((u for u in data if local_name(u.tag) == "UUID"), None)
        target: TiffFile | None = tiff
        if uuid is not None:
            key = (uuid.text or "").strip() or None
            filename = uuid.get("FileName")
            if files.by_uuid.get(None) is tiff and key and (filename or "").lower() == own_name:
                files.by_uuid[key] = files.by_uuid.pop(None)  # no root UUID: this file's UUID names it
            target = files.get(key, filename)
        if target is None:
            count = num
            if not count:
                return None
            slots.extend([None] * (count + start - len(slots)))
            continue
        total = len(target.pages)
        count = num or total
        slots.extend([None] * (count + start - len(slots)))
        for i in range(count):
            if ifd + i >= total:
                break
            slots[start + i] = (target, ifd + i)
    if not any(slot is not None for slot in slots):
        return None
    owner, first_index = next(slot for slot in slots if slot is not None)
    keyframe = owner.pages[first_index]
    if spp > 1:
        if keyframe.axes == "SYX":
            shape, axes = [*shape[:-2], spp, *shape[-2:]], axes[:-2] + "S" + axes[-2:]
        else:
            shape, axes = [*shape, spp], axes + "S"
    if "S" not in axes:
        shape, axes = [*shape, 1], axes + "S"
    count = max(math.prod(shape) // max(math.prod(keyframe.shape), 1), 1)
    slots = slots[:count] + [None] * (count - len(slots))
    squeezed = squeeze_axes(shape, axes)[0]
    if keyframe.shape != tuple(squeezed[-len(keyframe.shape) :]):
        return None  # planes not stored as whole pages: not describable as a stack of pages

    def resolve(index: int) -> TiffPage | None:
        slot = slots[index]
        return None if slot is None else slot[0].pages[slot[1]]

    images = Images(len(slots), resolve)
    return Series(Level(tiff, images, shape, axes, keyframe, name=name), "ome", name, _pixels_metadata(pixels))


def _pixels_metadata(pixels: ET.Element) -> dict[str, object]:
    """Physical sizes (with units), time increment and channel names of an OME Pixels element."""
    found: dict[str, object] = {}
    for key in ("PhysicalSizeX", "PhysicalSizeY", "PhysicalSizeZ", "TimeIncrement"):
        value = pixels.get(key)
        if value is not None:
            found[key] = text_value(value)
            found[key + "Unit"] = pixels.get(key + "Unit", "s" if key == "TimeIncrement" else "µm")
    names = [c.get("Name", "") for c in pixels if local_name(c.tag) == "Channel"]
    if any(names):
        found["ChannelNames"] = names
    return found


def ome_pixel_sizes(series: Series) -> dict[str, float]:
    """An OME series' physical pixel sizes by axis ("Z", "Y", "X"; those its Pixels element gives), as
    stored (micrometres unless the file says otherwise); {} for any other series."""
    if series.kind != "ome":
        return {}
    found = {axis: series.metadata.get(f"PhysicalSize{axis}") for axis in "ZYX"}
    return {axis: float(value) for axis, value in found.items() if isinstance(value, (int, float)) and value}


def ome_channel_names(series: Series) -> list[str] | None:
    """An OME series' channel names when every channel of its C axis has one, else None."""
    names = series.metadata.get("ChannelNames") if series.kind == "ome" else None
    axes = series.base.axes
    if not isinstance(names, list) or "C" not in axes or not all(names):
        return None
    return [str(name) for name in names] if len(names) == series.base.shape[axes.index("C")] else None


def _ravel(index: list[int], shape: list[int]) -> int:
    flat = 0
    for i, n in zip(index, shape, strict=True):
        flat = flat * n + i
    return flat


def _apply_modulo(tiff: TiffFile, series: Series, axes_modulo: dict[str, tuple[str, int]]) -> Series:
    level = series.base
    shape, axes = list(level.full_shape), level.full_axes
    for axis, (letter, size) in axes_modulo.items():
        if axis not in axes:
            continue
        i = axes.index(axis)
        if shape[i] == size:
            axes = axes.replace(axis, letter, 1)
        elif size and shape[i] % size == 0:
            shape[i] //= size
            shape.insert(i + 1, size)
            axes = axes.replace(axis, axis + letter, 1)
    base = Level(tiff, level.images, shape, axes, level.keyframe, name=level.name)
    return Series(base, series.kind, series.name, series.metadata)


def _add_levels(tiff: TiffFile, series: Series) -> None:
    """SubIFD pyramid levels: level k of every plane is the k-th SubIFD of that plane's page."""
    keyframe = series.keyframe
    offsets = keyframe.subifd_offsets
    if not offsets:
        return
    base = series.base
    for level in range(len(offsets)):
        if offsets[level] < 8:
            break
        top = tiff.page_type(parse_ifd(keyframe.ifd.source, keyframe.ifd.header, offsets[level]), level, is_subifd=True)
        shape = [
            top.width if a == "X" else top.height if a == "Y" else n
            for n, a in zip(base.full_shape, base.full_axes, strict=True)
        ]
        images = Images(len(base), functools.partial(_level_page, tiff, base.images, level))
        series.levels.append(Level(tiff, images, shape, base.full_axes, top, name=f"Level {level + 1}"))
    if not series.name:
        series.name = "Baseline"


def _level_page(tiff: TiffFile, planes: Images, level: int, index: int) -> TiffPage | None:
    """The ``level``-th SubIFD of plane ``index``'s page (None where the plane or its SubIFD is missing)."""
    page = planes.page(index)
    if page is None:
        return None
    offsets = page.subifd_offsets
    if level >= len(offsets) or offsets[level] < 8:
        return None
    return tiff.page_type(parse_ifd(page.ifd.source, page.ifd.header, offsets[level]), level, is_subifd=True)

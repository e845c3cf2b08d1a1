"""OME-XML (OME 2016-06) for the first page of an OME-TIFF: Image, Pixels, Channels, TiffData per plane."""

from __future__ import annotations

import uuid
from xml.sax.saxutils import quoteattr

import numpy as np

__all__ = ["dimension_order", "ome_xml"]

_PIXEL_TYPES = {
    "u1": "uint8",
    "u2": "uint16",
    "u4": "uint32",
    "i1": "int8",
    "i2": "int16",
    "i4": "int32",
    "f4": "float",
    "f8": "double",
    "b1": "bit",
}


def dimension_order(page_axes: str) -> str:
    """OME DimensionOrder for pages stacked along ``page_axes`` (slowest first), e.g. "TCZ" -> "XYZCT"."""
    fastest_first = page_axes[::-1]
    return "XY" + fastest_first + "".join(axis for axis in "ZCT" if axis not in fastest_first)


def ome_xml(
    *,
    page_axes: str,
    page_shape: tuple[int, ...],
    height: int,
    width: int,
    samples: int,
    dtype: np.dtype,
    physical_size: tuple[float | None, float | None, float | None] = (None, None, None),
    channel_names: tuple[str, ...] = (),
    name: str = "Image0",
) -> str:
    """The OME-XML document describing ``prod(page_shape)`` pages stacked along ``page_axes``."""
    if len(page_axes) != len(page_shape) or any(axis not in "ZCT" for axis in page_axes):
        raise ValueError(f"page axes {page_axes!r} must be letters of Z, C, T matching the shape {page_shape}")
    sizes = dict(zip(page_axes, page_shape))
    size_z, size_c, size_t = sizes.get("Z", 1), sizes.get("C", 1), sizes.get("T", 1)
    pixel_type = _PIXEL_TYPES.get(np.dtype(dtype).str[1:], "uint8")
    order = dimension_order(page_axes)
    physical = ""
    for axis, value in zip("ZYX", physical_size):
        if value is not None:
            physical += f' PhysicalSize{axis}="{float(value)}" PhysicalSize{axis}Unit="µm"'
    channels = []
    for c in range(size_c):
        label = f" Name={quoteattr(channel_names[c])}" if c < len(channel_names) else ""
        channels.append(f'<Channel ID="Channel:0:{c}" SamplesPerPixel="{samples}"{label}><LightPath/></Channel>')
    planes = []
    for ifd, index in enumerate(np.ndindex(*page_shape) if page_shape else [()]):
        coords = dict(zip(page_axes, index))
        planes.append(
            f'<TiffData IFD="{ifd}" FirstZ="{coords.get("Z", 0)}" FirstC="{coords.get("C", 0)}" '
            f'FirstT="{coords.get("T", 0)}" PlaneCount="1"/>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 '
        'http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" '
        f'UUID="urn:uuid:{uuid.uuid4()}" Creator="tiffstream">'
        f'<Image ID="Image:0" Name={quoteattr(name)}>'
        f'<Pixels ID="Pixels:0" DimensionOrder="{order}" Type="{pixel_type}" SizeX="{width}" SizeY="{height}" '
        f'SizeZ="{size_z}" SizeC="{size_c * samples}" SizeT="{size_t}" Interleaved="{"true" if samples > 1 else "false"}"'
        f' BigEndian="false"{physical}>' + "".join(channels) + "".join(planes) + "</Pixels></Image></OME>"
    )

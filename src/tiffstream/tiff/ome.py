"""OME-XML (the ImageDescription of an OME-TIFF's first IFD) parsed into a small typed model.

Covers what readers need to map pixels: images, pixel type, sizes, dimension order, physical
sizes, channels and the TiffData blocks that say which IFD holds which (Z, C, T) plane.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..errors import OmeXmlError

__all__ = ["OmeChannel", "OmeImage", "OmeMetadata", "OmePixels", "OmeTiffData", "is_ome_xml", "parse_ome_xml"]

_DIMENSION_ORDERS = ("XYZCT", "XYZTC", "XYCTZ", "XYCZT", "XYTCZ", "XYTZC")


@dataclass(frozen=True, slots=True)
class OmeChannel:
    """One OME Channel element."""

    id: str
    name: str | None = None
    samples_per_pixel: int = 1


@dataclass(frozen=True, slots=True)
class OmeTiffData:
    """One TiffData block: ``plane_count`` planes from ``(first_z, first_c, first_t)`` start at IFD ``ifd``."""

    ifd: int = 0
    first_z: int = 0
    first_c: int = 0
    first_t: int = 0
    plane_count: int | None = None
    file_name: str | None = None
    uuid: str | None = None


@dataclass(frozen=True, slots=True)
class OmePixels:
    """The Pixels element of an image: sizes, type, order, physical sizes, channels and IFD mapping."""

    dimension_order: str
    type: str
    size_x: int
    size_y: int
    size_z: int = 1
    size_c: int = 1
    size_t: int = 1
    physical_size_x: float | None = None
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    physical_size_x_unit: str = "µm"
    physical_size_y_unit: str = "µm"
    physical_size_z_unit: str = "µm"
    channels: tuple[OmeChannel, ...] = ()
    tiff_data: tuple[OmeTiffData, ...] = ()

    @property
    def effective_size_c(self) -> int:
        """Number of C planes stored (SizeC divided by the samples each plane interleaves)."""
        spp = self.channels[0].samples_per_pixel if self.channels else 1
        return self.size_c // spp if spp > 0 and self.size_c % spp == 0 else self.size_c

    @property
    def num_planes(self) -> int:
        return self.size_z * self.effective_size_c * self.size_t

    def plane_index(self, z: int = 0, c: int = 0, t: int = 0) -> int:
        """Linear index of plane (z, c, t) in this image's dimension order."""
        sizes = {"Z": self.size_z, "C": self.effective_size_c, "T": self.size_t}
        coords = {"Z": z, "C": c, "T": t}
        for axis, value in coords.items():
            if not 0 <= value < sizes[axis]:
                raise IndexError(f"{axis}={value} is outside 0..{sizes[axis] - 1}")
        index, stride = 0, 1
        for axis in self.dimension_order[2:]:
            index += coords[axis] * stride
            stride *= sizes[axis]
        return index

    def plane_coords(self, index: int) -> tuple[int, int, int]:
        """(z, c, t) of the plane with linear ``index`` in this image's dimension order."""
        sizes = {"Z": self.size_z, "C": self.effective_size_c, "T": self.size_t}
        coords = {}
        for axis in self.dimension_order[2:]:
            index, coords[axis] = divmod(index, sizes[axis])
        return coords["Z"], coords["C"], coords["T"]

    def ifd_for_plane(self, z: int = 0, c: int = 0, t: int = 0) -> int | None:
        """IFD index (in the file's main chain) that holds plane (z, c, t); None if TiffData does not say."""
        wanted = self.plane_index(z, c, t)
        blocks = self.tiff_data or (OmeTiffData(),)
        for block in blocks:
            start = self.plane_index(
                min(block.first_z, self.size_z - 1),
                min(block.first_c, self.effective_size_c - 1),
                min(block.first_t, self.size_t - 1),
            )
            count = block.plane_count
            if count is None:
                count = self.num_planes - start if len(blocks) == 1 else 1
            if start <= wanted < start + count:
                return block.ifd + (wanted - start)
        return None


@dataclass(frozen=True, slots=True)
class OmeImage:
    """One OME Image element."""

    id: str
    name: str | None
    pixels: OmePixels


@dataclass(frozen=True, slots=True)
class OmeMetadata:
    """The parsed OME-XML document."""

    images: tuple[OmeImage, ...]
    uuid: str | None = None
    creator: str | None = None
    xml: str = field(default="", repr=False)


def is_ome_xml(text: str) -> bool:
    """True when an ImageDescription looks like OME-XML."""
    head = text.lstrip()[:4096]
    return head.startswith("<") and "<OME" in head and "openmicroscopy.org" in head


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if _local(child.tag) == name]


def _int(elem: ET.Element, key: str, default: int | None = None) -> int:
    value = elem.get(key)
    if value is None:
        if default is None:
            raise OmeXmlError(f"<{_local(elem.tag)}> lacks the attribute {key}")
        return default
    try:
        return int(value)
    except ValueError:
        raise OmeXmlError(f"<{_local(elem.tag)}> has {key}={value!r}, not an integer") from None


def _float(elem: ET.Element, key: str) -> float | None:
    value = elem.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise OmeXmlError(f"<{_local(elem.tag)}> has {key}={value!r}, not a number") from None


def _tiff_data(elem: ET.Element) -> OmeTiffData:
    uuid = next(iter(_children(elem, "UUID")), None)
    has_ifd = elem.get("IFD") is not None
    count = elem.get("PlaneCount")
    return OmeTiffData(
        ifd=_int(elem, "IFD", 0),
        first_z=_int(elem, "FirstZ", 0),
        first_c=_int(elem, "FirstC", 0),
        first_t=_int(elem, "FirstT", 0),
        plane_count=_int(elem, "PlaneCount") if count is not None else (1 if has_ifd else None),
        file_name=uuid.get("FileName") if uuid is not None else None,
        uuid=(uuid.text or "").strip() or None if uuid is not None else None,
    )


def _pixels(elem: ET.Element) -> OmePixels:
    order = elem.get("DimensionOrder", "XYZCT")
    if order not in _DIMENSION_ORDERS:
        raise OmeXmlError(f"DimensionOrder {order!r} is not one of {', '.join(_DIMENSION_ORDERS)}")
    channels = tuple(
        OmeChannel(id=ch.get("ID", ""), name=ch.get("Name"), samples_per_pixel=_int(ch, "SamplesPerPixel", 1))
        for ch in _children(elem, "Channel")
    )
    sizes = {key: _int(elem, key) for key in ("SizeX", "SizeY")}
    sizes.update({key: _int(elem, key, 1) for key in ("SizeZ", "SizeC", "SizeT")})
    if any(v <= 0 for v in sizes.values()):
        raise OmeXmlError(f"Pixels sizes must be positive, got {sizes}")
    return OmePixels(
        dimension_order=order,
        type=elem.get("Type", elem.get("PixelType", "")),
        size_x=sizes["SizeX"],
        size_y=sizes["SizeY"],
        size_z=sizes["SizeZ"],
        size_c=sizes["SizeC"],
        size_t=sizes["SizeT"],
        physical_size_x=_float(elem, "PhysicalSizeX"),
        physical_size_y=_float(elem, "PhysicalSizeY"),
        physical_size_z=_float(elem, "PhysicalSizeZ"),
        physical_size_x_unit=elem.get("PhysicalSizeXUnit", "µm"),
        physical_size_y_unit=elem.get("PhysicalSizeYUnit", "µm"),
        physical_size_z_unit=elem.get("PhysicalSizeZUnit", "µm"),
        channels=channels,
        tiff_data=tuple(_tiff_data(td) for td in _children(elem, "TiffData")),
    )


def parse_ome_xml(text: str) -> OmeMetadata:
    """Parse an OME-XML document; raises ``OmeXmlError`` when it is not well-formed OME."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise OmeXmlError(f"OME-XML is not well-formed: {exc}") from exc
    if _local(root.tag) != "OME":
        raise OmeXmlError(f"OME-XML root element is <{_local(root.tag)}>, not <OME>")
    images = []
    for index, image in enumerate(_children(root, "Image")):
        pixels = _children(image, "Pixels")
        if not pixels:
            raise OmeXmlError(f"<Image> {index} has no <Pixels>")
        images.append(OmeImage(id=image.get("ID", f"Image:{index}"), name=image.get("Name"), pixels=_pixels(pixels[0])))
    return OmeMetadata(images=tuple(images), uuid=root.get("UUID"), creator=root.get("Creator"), xml=text)

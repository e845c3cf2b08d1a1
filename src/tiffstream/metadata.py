"""Metadata: nvImageCodec 0.9's ``Decoder.get_metadata`` entries for a code stream's current image: its TIFF
tags, its ICC profile, its GeoTIFF tags, and the scanner metadata of whole-slide files (Aperio's
description, Philips' and Leica's XML, Ventana's XMP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import MetadataFormat, MetadataKind, MetadataType

if TYPE_CHECKING:
    from .codestream import CodeStream
    from .tiff.ifd import Tag

__all__ = ["Metadata", "stream_metadata"]

_GEO_TAGS = (33550, 33922, 34264, 34735, 34736, 34737, 42112, 42113)  # ModelPixelScale ... GDAL_NODATA
# series kind -> (metadata kind, tag holding it, format)
_VENDORS = {
    "svs": (MetadataKind.MED_APERIO, 270, MetadataFormat.RAW),
    "philips": (MetadataKind.MED_PHILIPS, 270, MetadataFormat.XML),
    "scn": (MetadataKind.MED_LEICA, 270, MetadataFormat.XML),
    "bif": (MetadataKind.MED_VENTANA, 700, MetadataFormat.XMP),
}


class Metadata:
    """One metadata entry: what it is (``kind``, ``format``, ``id``: the tag for TIFF tags), its bytes
    (``buffer``) and, for TIFF tags, its field type, count and ``value`` as a Python value."""

    __slots__ = ("buffer", "format", "id", "kind", "value", "value_count", "value_type")

    def __init__(
        self,
        kind: MetadataKind,
        buffer: bytes,
        *,
        id: int = 0,  # nvImageCodec's name
        format: MetadataFormat = MetadataFormat.RAW,
        value_type: MetadataType = MetadataType.UNKNOWN,
        value_count: int = 0,
        value: Any = None,
    ) -> None:
        self.kind = kind
        self.buffer = buffer
        self.id = id
        self.format = format
        self.value_type = value_type
        self.value_count = value_count
        self.value = value

    @property
    def buffer_size(self) -> int:
        return len(self.buffer)

    def __repr__(self) -> str:
        return f"Metadata(kind={self.kind.name}, id={self.id}, format={self.format.name}, {self.buffer_size} bytes)"


def _tag_entry(tag: Tag, kind: MetadataKind = MetadataKind.TIFF_TAG) -> Metadata:
    known = tag.type in MetadataType._value2member_map_
    value = tag.value
    if tag.type in (MetadataType.RATIONAL, MetadataType.SRATIONAL) and isinstance(value, tuple):
        pairs = [(value[k], value[k + 1]) for k in range(0, len(value), 2)]
        value = pairs[0] if len(pairs) == 1 else pairs
    elif isinstance(value, tuple):
        value = list(value)
    return Metadata(
        kind,
        tag.raw(),
        id=tag.code,
        value_type=MetadataType(tag.type) if known else MetadataType.UNKNOWN,
        value_count=tag.count,
        value=value,
    )


def stream_metadata(stream: CodeStream, kind: MetadataKind | None = None, id: int | None = None) -> list[Metadata]:
    """The entries of ``stream``'s current image (of ``kind``, and with tag ``id`` when given)."""
    if stream.plain_image is not None:
        return []
    page = stream.page
    tags = page.ifd.tags
    found: list[Metadata] = []
    if kind in (None, MetadataKind.TIFF_TAG):
        found += [_tag_entry(tag) for tag in tags.values() if id is None or tag.code == id]
    if kind in (None, MetadataKind.ICC_PROFILE) and 34675 in tags and id in (None, 34675):
        found.append(Metadata(MetadataKind.ICC_PROFILE, tags[34675].raw(), id=34675))
    if kind in (None, MetadataKind.GEO):
        found += [_tag_entry(tags[code], MetadataKind.GEO) for code in _GEO_TAGS if code in tags and id in (None, code)]
    if kind is None or kind in {entry[0] for entry in _VENDORS.values()}:
        found += _vendor_entries(stream, kind)
    return found


def _vendor_entries(stream: CodeStream, kind: MetadataKind | None) -> list[Metadata]:
    """The scanner's own metadata, for the images of a whole-slide file (its first series' layout)."""
    series = stream.tiff.series
    vendor = _VENDORS.get(series[0].kind) if series else None
    if vendor is None or kind not in (None, vendor[0]):
        return []
    tag = stream.page.ifd.tags.get(vendor[1])
    if tag is None:
        return []
    return [Metadata(vendor[0], tag.raw().rstrip(b"\0"), id=vendor[1], format=vendor[2])]

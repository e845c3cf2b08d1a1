"""nvImageCodec 0.9's Decoder.get_metadata: TIFF tags, ICC profile, GeoTIFF tags and scanner metadata."""

from __future__ import annotations

import pathlib

import numpy as np
import tifffile

import tiffstream as nvimgcodec


def test_tiff_tags_icc_and_geo(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "tagged.tif"
    icc = b"\0\0\0\x10fake-icc-profile"
    geo = [(33550, 12, 3, (0.5, 0.5, 0.0), True), (34264, 12, 16, tuple(range(16)), True)]
    tifffile.imwrite(
        path,
        np.zeros((16, 24), np.uint16),
        description="hello",
        resolution=(72, 36),
        extratags=[(34675, 7, len(icc), icc, True), *geo],
        metadata=None,
    )
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    stream = nvimgcodec.CodeStream(str(path))
    tags = decoder.get_metadata(stream, kind=nvimgcodec.MetadataKind.TIFF_TAG)
    with tifffile.TiffFile(path) as tif:
        assert sorted(entry.id for entry in tags) == sorted(tag.code for tag in tif.pages[0].tags)
    width = decoder.get_metadata(stream, id=256)
    with tifffile.TiffFile(path) as tif:
        stored_type = int(tif.pages[0].tags[256].dtype)
    assert (width.value, int(width.value_type), width.value_count) == (24, stored_type, 1)
    description = decoder.get_metadata(stream, id=270)
    assert description.value == "hello" and description.buffer.startswith(b"hello")
    assert decoder.get_metadata(stream, id=283).value == (36, 1)  # a RATIONAL: (numerator, denominator)
    assert decoder.get_metadata(stream, id=65000) is None
    (profile,) = decoder.get_metadata(stream, kind=nvimgcodec.MetadataKind.ICC_PROFILE)
    assert profile.buffer == icc and profile.buffer_size == len(icc)
    geo_entries = decoder.get_metadata(stream, kind=nvimgcodec.MetadataKind.GEO)
    assert [entry.id for entry in geo_entries] == [33550, 34264] and geo_entries[0].value == [0.5, 0.5, 0.0]
    assert decoder.get_metadata(stream, kind=nvimgcodec.MetadataKind.MED_APERIO) == []


def test_aperio_description(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "slide.svs"
    description = "Aperio Image Library v12.0.15\n64x48 [0,0 64x48] (16x16) JPEG/RGB Q=70|AppMag = 20|MPP = 0.499"
    data = np.zeros((64, 48, 3), np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(16, 16), photometric="rgb", description=description, metadata=None)
        writer.write(
            data[:16, :12], photometric="rgb", description="Aperio Image Library v12.0.15\nthumbnail", metadata=None
        )
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    (entry,) = decoder.get_metadata(nvimgcodec.CodeStream(str(path)), kind=nvimgcodec.MetadataKind.MED_APERIO)
    assert entry.buffer.decode() == description and entry.format == nvimgcodec.MetadataFormat.RAW

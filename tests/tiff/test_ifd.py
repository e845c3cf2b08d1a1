"""IFD parsing: every field type, inline and at offsets, both byte orders, classic and BigTIFF; malformed IFDs."""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np
import pytest
import tifffile
from _tiffbuild import Entry, IfdSpec, build_tiff, image_entries

import tiffstream
from tiffstream.source import BufferSource
from tiffstream.tiff.header import parse_header
from tiffstream.tiff.ifd import walk_ifd_chain

# (field type, values): one short value (inline) and a long one (at an offset) for every type tifffile writes
FIELD_VALUES = [
    (1, (7,)),
    (1, tuple(range(40))),
    (3, (65535,)),
    (3, tuple(range(0, 6000, 300))),
    (4, (4_000_000_000,)),
    (4, tuple(range(0, 10**9, 10**8))),
    (5, (3, 4)),
    (5, (1, 2, 3, 4, 5, 6)),
    (6, (-5,)),
    (6, tuple(range(-20, 20))),
    (7, b"\x01\x02"),
    (7, bytes(range(50))),
    (8, (-32768,)),
    (8, tuple(range(-600, 600, 100))),
    (9, (-(2**31),)),
    (9, tuple(range(-(10**9), 10**9, 3 * 10**8))),
    (10, (-3, 4)),
    (10, (-1, 2, 3, -4)),
    (11, (1.5,)),
    (11, (1.5, -2.25, 3.0e10)),
    (12, (2.5e-300,)),
    (12, (1.0, -2.0, 3.5)),
    (16, (2**63 + 5,)),
    (16, (1, 2**40, 2**60)),
    (17, (-(2**62),)),
    (17, (-1, 2**40, -(2**60))),
]


def _write(path: pathlib.Path, extratags, *, bigtiff: bool, byteorder: str) -> None:
    tifffile.imwrite(path, np.zeros((4, 5), np.uint8), bigtiff=bigtiff, byteorder=byteorder, extratags=extratags)


@pytest.mark.parametrize("bigtiff", [False, True], ids=["classic", "bigtiff"])
@pytest.mark.parametrize("byteorder", ["<", ">"], ids=["le", "be"])
def test_field_types_match_tifffile(tmp_path: pathlib.Path, bigtiff: bool, byteorder: str) -> None:
    extratags = []
    for number, (dtype, values) in enumerate(FIELD_VALUES):
        count = len(values) // 2 if dtype in (5, 10) else len(values)
        extratags.append((60000 + number, dtype, count, values, True))
    extratags.append((60100, 2, 0, b"hello OME \xc2\xb5", True))
    extratags.append((60101, 2, 0, "hi", True))
    path = tmp_path / "types.tif"
    _write(path, extratags, bigtiff=bigtiff, byteorder=byteorder)
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        ref_tags = reference.pages[0].tags
        ours = tif.pages[0].tags
        for number, (dtype, _values) in enumerate(FIELD_VALUES):
            code = 60000 + number
            tag = ours[code]
            assert tag.type == dtype and tag.count == ref_tags[code].count
            expected = ref_tags[code].value
            if isinstance(expected, bytes):
                assert tag.value == expected
            else:
                np.testing.assert_array_equal(tag.array().ravel(), np.ravel(np.asarray(expected)))
                if not isinstance(expected, tuple):
                    assert tag.value == expected
        assert ours[60100].value == "hello OME µ"
        assert ours[60101].value == "hi"
        assert ours["ImageWidth"].value == 5 and ours.get("ImageLength") == 4 and 256 in ours


@pytest.mark.parametrize("bigtiff", [False, True])
def test_unknown_tags_are_kept(bigtiff: bool) -> None:
    data, offsets = build_tiff(
        [IfdSpec(image_entries() + [Entry(65001, 3, (1, 2, 3)), Entry(40000, 4, (9,))], data=bytes(12))],
        bigtiff=bigtiff,
    )
    with tiffstream.open(data) as tif:
        tags = tif.pages[0].tags
        assert tags[65001].value == (1, 2, 3) and tags[40000].value == 9
        assert tags[40000].name == "40000"


def test_unknown_field_type_entries_are_set_aside() -> None:
    data, _ = build_tiff([IfdSpec(image_entries() + [Entry(40000, 99, b"\0\0\0\0", count=1)], data=bytes(12))])
    with tiffstream.open(data) as tif:
        page = tif.pages[0]
        assert 40000 not in page.tags and page.ifd.invalid_entries == [(40000, 99, 1)]
        assert page.shape == (3, 4)


def _chain(data: bytes):
    source = BufferSource(data, name="built.tif")
    header = parse_header(source)
    return source, header


def test_loop_ends_chain_with_warning() -> None:
    specs = [IfdSpec(image_entries(), data=bytes(12)) for _ in range(3)]
    specs[2].next = "ifd:1"
    data, offsets = build_tiff(specs)
    with pytest.warns(tiffstream.IfdChainWarning, match="loops back"):
        assert tiffstream.CodeStream(data).num_images == 3
    source, header = _chain(data)
    with pytest.raises(tiffstream.TiffFormatError, match="loops back"):
        from tiffstream.tiff.ifd import IfdChain

        IfdChain(source, header, offsets[0], strict=True).advance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.IfdChainWarning)
        assert walk_ifd_chain(source, header, offsets[0]) == (offsets, None)


def test_self_loop() -> None:
    data, offsets = build_tiff([IfdSpec(image_entries(), next="ifd:0", data=bytes(12))])
    with pytest.warns(tiffstream.IfdChainWarning):
        assert len(tiffstream.open(data).pages) == 1


@pytest.mark.parametrize("link", [10**6, 3, 2**32 - 1])
def test_link_outside_file_ends_chain(link: int) -> None:
    data, offsets = build_tiff(
        [IfdSpec(image_entries(), data=bytes(12)), IfdSpec(image_entries(), next=link, data=bytes(12))]
    )
    with pytest.warns(tiffstream.IfdChainWarning, match="outside the file"):
        assert tiffstream.open(data).pages.offsets == offsets


def test_first_ifd_outside_file_raises() -> None:
    data = b"II*\x00" + (10**6).to_bytes(4, "little") + bytes(20)
    with pytest.raises(tiffstream.TiffFormatError, match="outside the file"):
        len(tiffstream.open(data).pages)
    with pytest.raises(tiffstream.TiffError):
        tiffstream.CodeStream(data)


def test_absurd_entry_count_is_checked_before_reading() -> None:
    data = bytearray(build_tiff([IfdSpec(image_entries(), data=bytes(12))])[0])
    data[8:10] = (60000).to_bytes(2, "little")
    with pytest.raises(tiffstream.TiffTruncatedError, match="60000 entries"):
        tiffstream.CodeStream(bytes(data))


def test_absurd_value_count_is_checked_before_reading() -> None:
    data, _ = build_tiff([IfdSpec(image_entries() + [Entry(40000, 4, b"\0\0\0\0", count=2**30)], data=bytes(12))])
    with tiffstream.open(data) as tif:
        tag = tif.pages[0].tags[40000]
        with pytest.raises(tiffstream.TiffTruncatedError, match="past the end"):
            tag.value  # noqa: B018


def test_bigtiff_absurd_count() -> None:
    data = bytearray(build_tiff([IfdSpec(image_entries(), data=bytes(12))], bigtiff=True)[0])
    data[16:24] = (2**62).to_bytes(8, "little")
    with pytest.raises(tiffstream.TiffTruncatedError):
        tiffstream.CodeStream(bytes(data))


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"II",
        b"II*\x00\x00\x00",
        b"MM\x00*",
        b"XX*\x00\x08\x00\x00\x00",
        b"II+\x00\x04\x00\x00\x00" + bytes(8),
        b"II*\x00\x00\x00\x00\x00",
    ],
)
def test_bad_headers(head: bytes) -> None:
    with pytest.raises(tiffstream.TiffFormatError):
        tiffstream.CodeStream(head)


def test_file_object_source(tmp_path: pathlib.Path) -> None:
    data, _ = build_tiff([IfdSpec(image_entries(), data=bytes(12))], byteorder=">")
    with tiffstream.open(io.BytesIO(data)) as tif:
        assert tif.byteorder == ">" and tif.pages[0].shape == (3, 4)

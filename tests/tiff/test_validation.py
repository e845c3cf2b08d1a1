"""Tag values are checked before use: the cases the fuzzing of issue 16 found as other exceptions are TiffErrors
naming the file and the IFD, or decode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _tiffbuild import Entry, IfdSpec, build_tiff, image_entries

import tiffstream


def _with(entries: list[Entry], replaced: dict[int, Entry], *, bigtiff: bool = False, data: bytes = bytes(12)) -> bytes:
    chosen = [replaced.get(e.code, e) for e in entries] + [
        e for c, e in replaced.items() if c not in {x.code for x in entries}
    ]
    return build_tiff([IfdSpec(chosen, data=data)], bigtiff=bigtiff)[0]


def _decode_everything(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
        with tiffstream.open(data) as tif:
            tif.pages[0].asarray()
        with tiffstream.Decoder(max_num_cpu_threads=1) as decoder:
            for spec in (tiffstream.ColorSpec.SRGB, tiffstream.ColorSpec.GRAY):
                decoder.decode(tiffstream.CodeStream(data), tiffstream.DecodeParams(color_spec=spec))


@pytest.mark.parametrize(("photometric", "extra"), [(0, []), (3, [Entry(320, 3, tuple(range(3 * 2**8)))]), (5, [])])
def test_64_bit_samples_convert_without_overflow(photometric: int, extra: list[Entry]) -> None:
    """BitsPerSample 64 on bilevel, palette and CMYK images: an OverflowError in colour conversion before."""
    spp = 4 if photometric == 5 else 1
    entries = image_entries(2, 1, bits=64)
    replaced = {262: Entry(262, 3, (photometric,)), 277: Entry(277, 3, (spp,)), 258: Entry(258, 3, (64,) * spp)}
    replaced[279] = Entry(279, 4, (2 * 8 * spp,))
    for entry in extra:
        replaced[entry.code] = entry
    data = _with(entries, replaced, data=bytes(range(1, 2 * 8 * spp + 1)))
    try:
        _decode_everything(data)
    except tiffstream.TiffError as exc:  # a palette of 64-bit indices has no RGB rule: a clear error is fine
        assert exc.path == "<bytes>" and exc.offset is not None


def test_huge_long8_width_is_a_format_error() -> None:
    """ImageWidth as LONG8 with a huge value: an OverflowError while gridding chunks before."""
    entries = image_entries(4, 3)
    data = _with(entries, {256: Entry(256, 16, (2**62,))}, bigtiff=True)
    with tiffstream.open(data) as tif, pytest.raises(tiffstream.TiffFormatError, match="impossible") as caught:
        tif.pages[0].asarray()
    assert caught.value.path == "<bytes>" and caught.value.offset is not None


def test_subifds_of_rational_type_are_a_format_error() -> None:
    """A SubIFDs tag typed RATIONAL: a TypeError before."""
    data = _with(image_entries(4, 3), {330: Entry(330, 5, (16, 1))})
    with tiffstream.open(data) as tif:
        with pytest.raises(tiffstream.TiffFormatError, match="SubIFDs tag has field type 5"):
            _ = tif.pages[0].subifds
        assert tif.pages[0].asarray().shape == (3, 4)  # the page itself still decodes


@pytest.mark.parametrize(
    ("code", "entry", "message"),
    [
        (258, Entry(258, 3, (65,)), "no data type for sample format 1 with 65 bits"),
        (339, Entry(339, 3, (7,)), "no data type for sample format 7"),
        (259, Entry(259, 3, (0,)), r"compression 0 is not supported"),
        (259, Entry(259, 17, (-(2**60),)), r"Compression \(-1152921504606846976,\) is out of range"),
        (277, Entry(277, 4, (70000,)), r"SamplesPerPixel \(70000,\) is out of range"),
    ],
)
def test_errors_name_the_file_and_the_ifd(code: int, entry: Entry, message: str) -> None:
    data = _with(image_entries(4, 3), {code: entry})
    with tiffstream.open(data) as tif, pytest.raises(tiffstream.TiffError, match=message) as caught:
        tif.pages[0].asarray()
    assert caught.value.path == "<bytes>" and caught.value.offset == 8
    assert str(caught.value).startswith("<bytes>: offset 8: ")
    assert "compression compression" not in str(caught.value)


def test_bits_that_fit_their_format_still_decode() -> None:
    data = _with(image_entries(4, 3, bits=16), {279: Entry(279, 4, (24,))}, data=np.arange(12, dtype="<u2").tobytes())
    with tiffstream.open(data) as tif:
        np.testing.assert_array_equal(tif.pages[0].asarray(), np.arange(12, dtype=np.uint16).reshape(3, 4))

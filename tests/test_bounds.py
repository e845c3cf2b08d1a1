"""Hand-made decompression bombs and memory bounds: every allocation is justified by the file, refused early
otherwise, and colour conversion never grows temporaries with the image (peaks by tracemalloc, which sees
numpy's allocations)."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc

import numpy as np
import pytest
import tifffile
from _tiffbuild import Entry, IfdSpec, build_tiff

import tiffstream

MiB = 1 << 20


def _shared_strip_pages(count: int) -> bytes:
    """``count`` pages of 32768 x 32768 uint8 (1 GiB each, the most any one image may claim) whose 64 strips
    of 512 rows all point at the same 64 bytes, after the IFDs."""
    strips = 64
    entries = [
        Entry(256, 4, (32768,)),
        Entry(257, 4, (32768,)),
        Entry(258, 3, (8,)),
        Entry(259, 3, (8,)),
        Entry(262, 3, (1,)),
        Entry(273, 4, (0,) * strips),
        Entry(277, 3, (1,)),
        Entry(278, 4, (512,)),
        Entry(279, 4, (64,) * strips),
    ]
    size = len(build_tiff([IfdSpec(entries)] * count)[0])
    entries[5] = Entry(273, 4, (size,) * strips)
    return build_tiff([IfdSpec(entries)] * count)[0] + bytes(64)


def test_a_batch_of_pages_sharing_one_strip_is_refused_as_a_whole() -> None:
    data = _shared_strip_pages(64)
    stream = tiffstream.CodeStream(data)
    assert stream.num_images == 64 and len(data) < 100_000
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    tracemalloc.start()
    try:
        with (
            tiffstream.Decoder(max_num_cpu_threads=1) as decoder,
            pytest.raises(tiffstream.TiffFormatError, match="earlier images of the same"),
        ):
            decoder.decode([stream.get_sub_code_stream(image_idx=i) for i in range(64)], params=params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.1 * 1024 * MiB  # at most the one image the budget allows, never 64 of them


def test_huge_tiles_of_a_tiny_image_are_refused_before_any_scratch() -> None:
    entries = [
        Entry(256, 3, (16,)),
        Entry(257, 3, (16,)),
        Entry(258, 3, (8,)),
        Entry(259, 3, (8,)),
        Entry(262, 3, (1,)),
        Entry(277, 3, (1,)),
        Entry(322, 4, (65536,)),
        Entry(323, 4, (65536,)),
        Entry(324, 4, (0xFFFFFFFF,)),
        Entry(325, 4, (64,)),
    ]
    data = build_tiff([IfdSpec([*entries[:8], Entry(273, 4, (0xFFFFFFFF,)), entries[9]], data=bytes(64))])[0]
    data = data.replace(struct.pack("<HHI", 273, 4, 1), struct.pack("<HHI", 324, 4, 1))  # the marker as TileOffsets
    with tiffstream.open(data) as tif:
        page = tif.pages[0]
        assert page.chunk_shape == (65536, 65536)
        started = time.perf_counter()
        with pytest.raises(tiffstream.TiffFormatError, match="refusing to decode"):
            page.asarray()
    assert time.perf_counter() - started < 5  # generous: the refusal reads and allocates nothing


def _jpeg_tiled(height: int = 256, width: int = 256) -> bytes:
    buffer = io.BytesIO()
    rgb = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    tifffile.imwrite(buffer, rgb, photometric="rgb", compression="jpeg", tile=(256, 256))
    return buffer.getvalue()


def _patch_jpeg_frame(data: bytes, rows: int, cols: int) -> bytes:
    """Rewrite the frame header (SOF0) of every JPEG stream in ``data`` to claim ``rows`` x ``cols``."""
    out = bytearray(data)
    at = out.find(b"\xff\xc0")
    assert at > 0
    while at > 0:
        struct.pack_into(">HH", out, at + 5, rows, cols)
        at = out.find(b"\xff\xc0", at + 2)
    return bytes(out)


def _webp_tiled() -> bytes:
    buffer = io.BytesIO()
    rgb = np.random.default_rng(1).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    tifffile.imwrite(buffer, rgb, photometric="rgb", compression="webp", tile=(256, 256))
    return buffer.getvalue()


def _patch_webp_canvas(data: bytes, size: int) -> bytes:
    out = bytearray(data)
    at = out.find(b"WEBPVP8")
    assert at > 0
    kind = bytes(out[at + 4 : at + 8])
    payload = at + 12
    if kind == b"VP8L":
        bits = (size - 1) | (size - 1) << 14
        struct.pack_into("<I", out, payload + 1, bits | (struct.unpack_from("<I", out, payload + 1)[0] & ~0x0FFFFFFF))
    else:
        assert kind == b"VP8 "
        struct.pack_into("<HH", out, payload + 6, size, size)
    return bytes(out)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(lambda: _patch_jpeg_frame(_jpeg_tiled(), 65500, 65500), "JPEG", id="jpeg-65500"),
        pytest.param(lambda: _patch_webp_canvas(_webp_tiled(), 16383), "WebP", id="webp-16383"),
    ],
)
def test_streams_claiming_far_more_than_their_tile_are_refused_unread(data, kind) -> None:
    tracemalloc.start()
    try:
        with tiffstream.open(data()) as tif, pytest.raises(tiffstream.DecodeError, match=f"the {kind} stream claims"):
            tif.pages[0].asarray()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB


def test_a_stream_a_little_larger_than_its_chunk_is_cropped_as_libtiff_does() -> None:
    data = _patch_jpeg_frame(_jpeg_tiled(), 256, 264)  # 8 more columns than the tile: decoded and cropped
    with tiffstream.open(data) as tif:
        assert tif.pages[0].asarray().shape == (256, 256, 3)


@pytest.mark.parametrize(
    ("photometric", "dtype", "color"),
    [
        ("palette", "uint8", tiffstream.ColorSpec.SRGB),
        ("minisblack", "uint16", tiffstream.ColorSpec.SRGB),
        ("miniswhite", "uint16", tiffstream.ColorSpec.GRAY),
        ("rgb", "uint16", tiffstream.ColorSpec.SRGB),
    ],
)
def test_colour_conversion_peak_is_the_output_plus_a_strip(photometric, dtype, color) -> None:
    rng = np.random.default_rng(2)
    shape = (1500, 2000, 3) if photometric == "rgb" else (1500, 2000)
    samples = rng.integers(0, 255 if dtype == "uint8" else 65535, shape, dtype=dtype)
    buffer = io.BytesIO()
    colormap = rng.integers(0, 65535, (3, 256), dtype=np.uint16) if photometric == "palette" else None
    tifffile.imwrite(buffer, samples, photometric=photometric, colormap=colormap, compression="zlib", tile=(256, 256))
    stream = tiffstream.CodeStream(buffer.getvalue())
    with tiffstream.Decoder(max_num_cpu_threads=1) as decoder:
        tracemalloc.start()
        try:
            image = np.asarray(decoder.decode(stream, params=tiffstream.DecodeParams(color_spec=color)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    decoded, compressed = samples.nbytes, len(buffer.getvalue())  # random samples barely compress
    assert peak < image.nbytes + decoded + compressed + 4 * MiB, (peak / MiB, image.nbytes / MiB, decoded / MiB)
    if photometric == "palette":  # and the pixels are the colour map's, scaled to 8 bits
        expected = np.rint(colormap[:, samples].transpose(1, 2, 0) * (255 / 65535)).astype(np.uint8)
        np.testing.assert_array_equal(image, expected)

"""A tile whose stream decodes to fewer rows than the tile holds (not cut by the end of the file: a short stream
in its own right) keeps its decoded rows, un-predicted, and the rest is fill, whether the region starts at the
tile's origin (decoded straight into place) or inside it (the general path); a stream shorter than one row is a
DecodeError naming the chunk."""

from __future__ import annotations

import pathlib
import struct
import zlib

import imagecodecs
import numpy as np
import pytest
import tifffile

import tiffstream
from tiffstream.errors import DecodeError

TILE = 32
SHORT = 4  # the tile that is replaced: row 1, column 1 of 2 x 3 tiles


def _with_replaced_tile(path: pathlib.Path, stream: bytes) -> None:
    """Append ``stream`` to the file and point tile ``SHORT``'s offset and byte count at it."""
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        offsets, counts = tags["TileOffsets"], tags["TileByteCounts"]
        formats = {4: "I", 3: "H", 16: "Q"}
        offset_at = offsets.valueoffset + SHORT * struct.calcsize(formats[offsets.dtype])
        count_at = counts.valueoffset + SHORT * struct.calcsize(formats[counts.dtype])
        offset_format, count_format = "<" + formats[offsets.dtype], "<" + formats[counts.dtype]
    data = bytearray(path.read_bytes())
    at = len(data)
    data += stream
    data[offset_at : offset_at + struct.calcsize(offset_format)] = struct.pack(offset_format, at)
    data[count_at : count_at + struct.calcsize(count_format)] = struct.pack(count_format, len(stream))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("predictor", [False, True])
def test_a_short_tile_keeps_its_rows_and_fills_the_rest(tmp_path: pathlib.Path, predictor: bool) -> None:
    rng = np.random.default_rng(3)
    image = (np.add.outer(np.arange(64), np.arange(96)) + rng.integers(1, 9, (64, 96))).astype(np.uint8) | 1
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, image, tile=(TILE, TILE), compression="zlib", predictor=predictor, photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        with open(path, "rb") as file:
            file.seek(page.dataoffsets[SHORT])
            stored = imagecodecs.zlib_decode(file.read(page.databytecounts[SHORT]))  # as stored: differenced
    rows = 10
    _with_replaced_tile(path, zlib.compress(stored[: rows * TILE]))
    expected = image.copy()
    expected[TILE + rows : 2 * TILE, TILE : 2 * TILE] = 0  # the fill value
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY], max_num_cpu_threads=1)
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    whole = np.asarray(decoder.decode(tiffstream.CodeStream(str(path)), params=params))[:, :, 0]
    assert np.array_equal(whole, expected)
    for y0, x0 in ((TILE, TILE), (TILE + 3, TILE + 5)):  # at the tile's origin, then inside it
        region = tiffstream.Region(y0, x0, 64, 96)
        got = np.asarray(
            decoder.decode(tiffstream.CodeStream(str(path)).get_sub_code_stream(region=region), params=params)
        )
        assert np.array_equal(got[:, :, 0], expected[y0:, x0:]), (y0, x0)


def test_a_tile_shorter_than_a_row_is_an_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, np.ones((64, 96), np.uint8), tile=(TILE, TILE), compression="zlib")
    _with_replaced_tile(path, zlib.compress(bytes(TILE // 2)))
    with pytest.raises(DecodeError, match=f"chunk {SHORT} "):
        tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]).decode(tiffstream.CodeStream(str(path)))

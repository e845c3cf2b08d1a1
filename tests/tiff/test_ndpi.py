"""Hamamatsu NDPI past 4 GiB: 8-byte next links and the high 32 bits of every value field (a sparse file)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import tifffile

import tiffstream

GIB4 = 2**32


def _ifd(width: int, data_offset: int, next_offset: int, magnification: float) -> bytes:
    """An NDPI IFD: 12-byte entries (low value bits), the 8-byte next link, then the high bits."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, width),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (271, 2, 4, int.from_bytes(b"NDP\0", "little")),
        (273, 4, 1, data_offset),
        (278, 4, 1, width),
        (279, 4, 1, width * width),
        (65420, 4, 1, 1),
        (65421, 11, 1, struct.unpack("<I", struct.pack("<f", magnification))[0]),
    ]
    table = struct.pack("<H", len(entries))
    table += b"".join(struct.pack("<HHII", code, dtype, n, value & 0xFFFFFFFF) for code, dtype, n, value in entries)
    table += struct.pack("<Q", next_offset)
    return table + b"".join(struct.pack("<I", value >> 32) for *_, value in entries)


@pytest.fixture(scope="module")
def large_ndpi(tmp_path_factory) -> tuple[str, list[np.ndarray]]:
    path = tmp_path_factory.mktemp("ndpi") / "large.ndpi"
    base = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    level = base[::2, ::2] + 1
    second_ifd, level_data, base_data = GIB4 + 4096, GIB4 + 8192, 1024
    with open(path, "wb") as handle:
        handle.write(b"II*\0" + struct.pack("<Q", 16))  # NDPI's first link is 8 bytes too
        handle.seek(16)
        handle.write(_ifd(32, base_data, second_ifd, 20.0))
        handle.seek(base_data)
        handle.write(base.tobytes())
        handle.seek(second_ifd)
        handle.write(_ifd(16, level_data, 0, 10.0))
        handle.seek(level_data)
        handle.write(level.tobytes())
    return str(path), [base, level]


def test_offsets_past_4_gib(large_ndpi) -> None:
    path, images = large_ndpi
    with tiffstream.open(path) as tif:
        assert tif.header.ndpi and len(tif.pages) == 2
        assert tif.pages[1].offset == GIB4 + 4096 and tif.pages[1].plan.chunks[0].offset == GIB4 + 8192
        series = tif.series[0]
        assert series.kind == "ndpi" and [level.shape for level in series.levels] == [(32, 32), (16, 16)]
        for level, expected in zip(series.levels, images, strict=True):
            np.testing.assert_array_equal(level.asarray(), expected)


def test_small_ndpi_reads_as_classic(tmp_path) -> None:
    """Under 4 GiB no value has high bits: the classic reading is the same, and robust to what follows links."""
    path = tmp_path / "small.ndpi"
    tifffile.imwrite(
        path, np.ones((8, 8), np.uint8), extratags=[(65420, 4, 1, 1, True), (271, 2, None, "x", True)], metadata=None
    )
    with tiffstream.open(path) as tif:
        assert not tif.header.ndpi and tif.series[0].kind == "ndpi"


def test_same_as_tifffile(large_ndpi) -> None:
    path, _ = large_ndpi
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        assert [[lv.shape for lv in s.levels] for s in tif.series] == [
            [lv.shape for lv in s.levels] for s in reference.series
        ]
        np.testing.assert_array_equal(tif.series[0].asarray(level=1), reference.series[0].levels[1].asarray())


def test_mcu_starts_are_tiles() -> None:
    """The corpus NDPI: each restart interval of a level's JPEG strip is a tile, as tifffile reads it."""
    from conftest import CORPUS_WSI, require_corpus

    require_corpus(CORPUS_WSI, "TIFFSTREAM_CORPUS_WSI")
    path = CORPUS_WSI / "files" / "slideio-tutorial" / "test3-DAPI-2-387.ndpi"
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        for page, expected in zip(tif.pages[:4], reference.pages[:4], strict=True):
            plan = page.plan
            assert (plan.chunk_height, plan.chunk_width) == (expected.tilelength, expected.tilewidth)
            assert plan.table[:, 1].tolist() == list(expected.dataoffsets)
            assert plan.table[:, 2].tolist() == list(expected.databytecounts)
        region = (1000, 500, 1040, 900)
        touched = tif.pages[0].plan.table_in(*region)
        assert len(touched) == 5  # 40 rows of 8-row tiles, one tile across
        np.testing.assert_array_equal(
            tif.pages[0].asarray(region=region), reference.pages[0].asarray()[1000:1040, 500:900]
        )

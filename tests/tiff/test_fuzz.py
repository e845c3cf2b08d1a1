"""Damaged files (truncated, bytes flipped) give a TiffError or a valid structure, never another exception."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import CORPUS, Recipe, corpus_rows, require_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiffstream

ROWS = [row for row in corpus_rows() if int(row["size"]) < 2_000_000]
MAX_PAGES = 8


def exercise(data: bytes) -> None:
    """Use everything the container layer offers on ``data``; only TiffError may escape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
        try:
            with tiffstream.open(data) as tif:
                for index, page in enumerate(tif.pages):
                    if index >= MAX_PAGES:
                        break
                    for item in (page, *page.subifds[:4]):
                        _ = item.shape, item.dtype, item.compression, item.plan, repr(item)
                        _ = [tag.value for tag in item.tags]
                _ = tif.ome
            stream = tiffstream.CodeStream(data, limit_images=3)
            _ = stream.num_images, stream.next_bitstream_offset, stream.width, stream.num_channels
            for offset in stream.subifd_offsets[:2]:
                _ = stream.get_sub_code_stream(bitstream_offset=offset).height
        except tiffstream.TiffError:
            pass


@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_truncated_and_flipped_corpus_files(row: dict[str, str]) -> None:
    require_corpus()
    data = (CORPUS / row["path"]).read_bytes()
    rng = np.random.default_rng(len(data))
    cuts = sorted({*rng.integers(0, len(data), 6).tolist(), 0, 7, 15, 100, len(data) - 1})
    for cut in cuts:
        exercise(data[: max(cut, 0)])
    # flip bytes in the first 4 KiB, where headers and IFDs usually live
    for _ in range(8):
        damaged = bytearray(data)
        for position in rng.integers(0, min(len(data), 4096), 4):
            damaged[position] = int(rng.integers(0, 256))
        exercise(bytes(damaged))


@pytest.fixture(scope="module")
def pyramid_bytes(tiff_factory) -> bytes:
    return tiff_factory(Recipe(shape=(4, 20, 24), subifds=2, ome=True, tile=(16, 16), compression="zlib")).read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_pyramid(pyramid_bytes: bytes, data: st.DataObject) -> None:
    damaged = bytearray(pyramid_bytes)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    exercise(bytes(damaged[:cut]))

"""Damaged files decode to an image or raise a TiffError: never another exception, a hang or a crash."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, corpus_rows, require_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiffstream

SMALL = [row for row in corpus_rows() if int(row["size"]) < 300_000 and row["tifffile_ok"] == "1"]


def decode_or_tiff_error(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
        try:
            with tiffstream.open(data) as tif:
                for index, page in enumerate(tif.pages):
                    if index >= 2:
                        break
                    page.asarray()
        except tiffstream.TiffError:
            pass


@pytest.mark.parametrize("row", SMALL[::3], ids=[r["path"] for r in SMALL[::3]])
def test_damaged_corpus_files_decode_or_raise(row: dict[str, str]) -> None:
    require_corpus()
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    data = (CORPUS / row["path"]).read_bytes()
    rng = np.random.default_rng(len(data) + 1)
    for cut in sorted({len(data) // 2, len(data) - 3, int(rng.integers(8, len(data)))}):
        decode_or_tiff_error(data[:cut])
    for _ in range(3):
        damaged = bytearray(data)
        for position in rng.integers(0, len(data), 6):
            damaged[position] = int(rng.integers(0, 256))
        decode_or_tiff_error(bytes(damaged))


@pytest.fixture(scope="module", params=["zlib", "lzw", "packbits", "jpeg", "zstd", "webp"])
def encoded(request, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / f"{request.param}.tif"
    rng = np.random.default_rng(2)
    data = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
    tifffile.imwrite(path, data, tile=(16, 16), compression=request.param, photometric="rgb")
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_chunks(encoded: bytes, data: st.DataObject) -> None:
    damaged = bytearray(encoded)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    decode_or_tiff_error(bytes(damaged))

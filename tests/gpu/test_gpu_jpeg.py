"""JPEG tiles and strips on the GPU (nvJPEG) against libjpeg-turbo through tifffile: within 1 level everywhere.

Marked ``gpu``: skipped without CuPy, nvcomp and a CUDA device (CI has none; run on the device machine).
"""

from __future__ import annotations

import logging
import pathlib

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, corpus_rows
from gpu_images import UNCHANGED, gpu_only, max_diff, picture

import tiffstream

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

CASES = {
    "ycbcr420-tiles": ({"tile": (64, 64)}, False),
    "ycbcr422-tiles": ({"tile": (64, 64), "subsampling": (2, 1)}, False),
    "ycbcr444-tiles": ({"tile": (64, 64), "subsampling": (1, 1)}, False),
    "ycbcr420-strips": ({"rowsperstrip": 32}, False),
    "gray-tiles": ({"tile": (64, 48)}, True),
    "gray-strips": ({"rowsperstrip": 24}, True),
}


@pytest.mark.parametrize("case", CASES)
def test_generated(tmp_path: pathlib.Path, case: str) -> None:
    options, gray = CASES[case]
    data = picture(203, 301)
    if gray:
        data = data[..., 1]
    path = tmp_path / f"{case}.tif"
    tifffile.imwrite(
        path, np.stack([data, data[::-1]]), compression="jpeg", photometric="minisblack" if gray else "ycbcr", **options
    )
    expected = tifffile.imread(path, key=range(2))
    with gpu_only() as decoder:
        stream = tiffstream.CodeStream(str(path))
        images = decoder.decode([stream.get_sub_code_stream(image_idx=i) for i in range(2)], params=UNCHANGED)
        region = stream.get_sub_code_stream(image_idx=1, region=tiffstream.Region(37, 45, 170, 260))
        part = decoder.decode(region, params=UNCHANGED)
    assert all(image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE for image in images)
    for image, want in zip(images, expected):
        assert max_diff(cp.asnumpy(cp.asarray(image)).reshape(want.shape), want) <= 1
    assert (
        max_diff(cp.asnumpy(cp.asarray(part)).reshape(expected[1][37:170, 45:260].shape), expected[1][37:170, 45:260])
        <= 1
    )


def test_bad_tile_names_its_chunk(tmp_path: pathlib.Path) -> None:
    data = picture(128, 128)
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, np.stack([data, data]), compression="jpeg", photometric="ycbcr", tile=(64, 64))
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[1].dataoffsets[2]
    raw = bytearray(path.read_bytes())
    raw[offset + 2 : offset + 200] = b"\xff" * 198  # a tile of the second page that is no JPEG stream
    path.write_bytes(bytes(raw))
    stream = tiffstream.CodeStream(str(path))
    streams = [stream.get_sub_code_stream(image_idx=i) for i in range(2)]
    with gpu_only() as decoder, pytest.raises(tiffstream.DecodeError, match="chunk 2"):
        decoder.decode(streams, params=UNCHANGED)
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], on_error="none") as decoder:
        first, second = decoder.decode(streams, params=UNCHANGED)
    assert second is None and first is not None
    assert max_diff(cp.asnumpy(cp.asarray(first)), tifffile.imread(path, key=0)) <= 1


JPEG_ROWS = [r for r in corpus_rows() if r["compression"] == "JPEG" and r["tifffile_ok"] == "1"]


@pytest.mark.parametrize("row", JPEG_ROWS, ids=[r["path"] for r in JPEG_ROWS])
def test_corpus_jpeg(row) -> None:
    """Every JPEG corpus file the GPU takes is within 1 level of tifffile; the rest name why on GPU_ONLY."""
    path = CORPUS / row["path"]
    if not path.exists():
        pytest.skip("not in this corpus")
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    expected = tifffile.imread(path, key=0)
    with tiffstream.open(path) as tif:
        why = gpu.supports(tif.pages[0].plan)
    with gpu_only() as decoder:
        if why is not None:
            with pytest.raises(tiffstream.UnsupportedTiffError, match="GPU backend cannot decode"):
                decoder.decode(tiffstream.CodeStream(str(path)), params=UNCHANGED)
            return
        image = decoder.decode(tiffstream.CodeStream(str(path)), params=UNCHANGED)
    got = cp.asnumpy(cp.asarray(image))
    assert max_diff(got.reshape(expected.shape), expected) <= 1

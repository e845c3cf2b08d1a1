"""JPEG 2000 tiles on the GPU (nvJPEG2000) against OpenJPEG through tifffile: equal when lossless, within 1
level when lossy, on generated files and on the whole-slide corpus's JPEG 2000 files.

Marked ``gpu``: skipped without CuPy, nvcomp and a CUDA device (CI has none; run on the device machine).
"""

from __future__ import annotations

import logging
import pathlib

import numpy as np
import pytest
import tifffile
from conftest import CORPUS_WSI, wsi_rows
from gpu_images import UNCHANGED, gpu_only, max_diff, picture

import tiffstream

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

# name: (tifffile options, sample kind, largest difference allowed)
CASES = {
    "rgb-lossless": ({"tile": (64, 64), "compressionargs": {"level": 0}}, "rgb", 0),
    "rgb-lossy": ({"tile": (64, 64), "compressionargs": {"level": 60}}, "rgb", 1),
    "gray-lossless": ({"tile": (64, 48), "compressionargs": {"level": 0}}, "gray", 0),
    "gray16-lossless": ({"tile": (64, 64), "compressionargs": {"level": 0}}, "gray16", 0),
    "rgb-strips": ({"rowsperstrip": 32, "compressionargs": {"level": 0}}, "rgb", 0),
}


@pytest.mark.parametrize("case", CASES)
def test_generated(tmp_path: pathlib.Path, case: str) -> None:
    options, kind, allowed = CASES[case]
    data = picture(203, 301)
    if kind != "rgb":
        data = data[..., 1]
    if kind == "gray16":
        data = data.astype(np.uint16) * 251
    path = tmp_path / f"{case}.tif"
    with tifffile.TiffWriter(path) as writer:
        for page in (data, data[..., ::-1, :] if data.ndim == 3 else data[::-1]):
            writer.write(np.ascontiguousarray(page), compression="jpeg2000", **options)
    expected = tifffile.imread(path, key=range(2))
    with gpu_only() as decoder:
        stream = tiffstream.CodeStream(str(path))
        images = decoder.decode([stream.get_sub_code_stream(image_idx=i) for i in range(2)], params=UNCHANGED)
        region = stream.get_sub_code_stream(image_idx=1, region=tiffstream.Region(37, 45, 170, 260))
        part = decoder.decode(region, params=UNCHANGED)
    assert all(image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE for image in images)
    for image, want in zip(images, expected):
        assert max_diff(cp.asnumpy(cp.asarray(image)).reshape(want.shape), want) <= allowed
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]) as cpu:
        want = np.asarray(cpu.decode(region, params=UNCHANGED).cpu())
    assert max_diff(cp.asnumpy(cp.asarray(part)).reshape(want.shape), want) <= allowed


def test_bad_tile_names_its_chunk(tmp_path: pathlib.Path) -> None:
    data = picture(128, 128)
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, np.stack([data, data]), compression="jpeg2000", tile=(64, 64))
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[1].dataoffsets[2]
    raw = bytearray(path.read_bytes())
    raw[offset : offset + 120] = b"\x00" * 120  # a tile of the second page that is no code stream
    path.write_bytes(bytes(raw))
    stream = tiffstream.CodeStream(str(path))
    streams = [stream.get_sub_code_stream(image_idx=i) for i in range(2)]
    with gpu_only() as decoder, pytest.raises(tiffstream.DecodeError, match="chunk 2"):
        decoder.decode(streams, params=UNCHANGED)
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], on_error="none") as decoder:
        first, second = decoder.decode(streams, params=UNCHANGED)
    assert second is None and first is not None
    assert max_diff(cp.asnumpy(cp.asarray(first)), tifffile.imread(path, key=0)) == 0


J2K_ROWS = [r for r in wsi_rows() if r["compression"] in ("JPEG2000", "APERIO_JP2000_RGB", "APERIO_JP2000_YCBC")]


@pytest.mark.parametrize("row", J2K_ROWS, ids=[r["path"] for r in J2K_ROWS])
def test_corpus_jpeg2000(row) -> None:
    """Every JPEG 2000 file of the whole-slide corpus: each page within 1 level of tifffile (OpenJPEG)."""
    path = CORPUS_WSI / row["path"]
    if not path.exists():
        pytest.skip("not in this corpus")
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    with tifffile.TiffFile(path) as tif:
        keys = [k for k, page in enumerate(tif.pages) if page.compression in gpu.GPU_COMPRESSIONS]
        expected = [tif.pages[k].asarray() for k in keys]
    stream = tiffstream.CodeStream(str(path))
    with gpu_only() as decoder:
        images = decoder.decode([stream.get_sub_code_stream(image_idx=k) for k in keys], params=UNCHANGED)
    for image, want in zip(images, expected):
        assert max_diff(cp.asnumpy(cp.asarray(image)).reshape(want.shape), want) <= 1

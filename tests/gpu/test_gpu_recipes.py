"""Recipes on a GPU: an image decoded alone again and again (the second time captured as a CUDA graph, then
replayed) equals tifffile's every time, for uncompressed, LZW (with and without predictors) and PackBits chunks,
strips and tiles, regions, big-endian and float data, planar-separate samples; a replay reads the file anew
(bytes changed in place show), a broken chunk fails every time, threads that share a decoder and a page all get
the right pixels, and a cut file's missing rows are filled on every replay.

Marked ``gpu``: skipped without CuPy and a CUDA device.
"""

from __future__ import annotations

import concurrent.futures
import pathlib
import warnings

import numpy as np
import pytest
import tifffile

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

import tiffstream
from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

from tiffstream.errors import DecodeError

UNCHANGED = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
CALLS = 4  # the first decodes the usual way, the second captures, the rest replay


def _picture(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 1, shape).astype(dtype)
    smooth = np.add.outer(np.arange(shape[0]), np.arange(shape[1])) // 3
    noisy = smooth.reshape(shape[:2] + (1,) * (len(shape) - 2)) + rng.integers(0, 4, shape)
    return (noisy % np.iinfo(dtype).max).astype(dtype)


CASES = {  # name: (shape, dtype, tifffile options)
    "none strips": ((300, 257), "uint8", {"rowsperstrip": 64}),
    "none tiles rgb": ((300, 257, 3), "uint8", {"tile": (64, 64)}),
    "lzw strips": ((300, 257), "uint8", {"compression": "lzw", "rowsperstrip": 32}),
    "lzw tiles predictor": ((300, 257), "uint8", {"compression": "lzw", "predictor": True, "tile": (64, 64)}),
    "lzw uint16 big-endian": ((200, 131), ">u2", {"compression": "lzw", "predictor": True, "tile": (32, 48)}),
    "lzw float predictor": ((120, 96), "float32", {"compression": "lzw", "predictor": 3, "tile": (32, 32)}),
    "packbits strips": ((300, 257), "uint8", {"compression": "packbits", "rowsperstrip": 16}),
    "lzw planar": ((3, 130, 97), "uint16", {"compression": "lzw", "planarconfig": "separate", "tile": (32, 32)}),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    folder = tmp_path_factory.mktemp("recipes")
    written = {}
    for name, (shape, dtype, options) in CASES.items():
        path = folder / f"{name.replace(' ', '_')}.tif"
        photometric = "rgb" if len(shape) == 3 and shape[-1] == 3 else "minisblack"
        with tifffile.TiffWriter(path) as tif:
            for page in range(2):
                tif.write(_picture(shape, dtype, page), photometric=photometric, **options)
        written[name] = path
    return written


def _decode(decoder: tiffstream.Decoder, stream: tiffstream.CodeStream) -> np.ndarray:
    return cp.asarray(decoder.decode(stream, params=UNCHANGED)).get()


@pytest.mark.parametrize("name", list(CASES))
def test_replays_equal_tifffile(files: dict[str, pathlib.Path], name: str) -> None:
    path = files[name]
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    opened = tiffstream.CodeStream(str(path))
    planar = CASES[name][2].get("planarconfig") == "separate"
    for page in (1, 0):
        expected = tifffile.imread(path, key=page)
        expected = np.moveaxis(expected, 0, -1) if planar else expected  # decoded samples come interleaved
        for _ in range(CALLS):
            got = _decode(decoder, opened.get_sub_code_stream(image_idx=page))
            assert np.array_equal(got.reshape(expected.shape), expected)
        region = tiffstream.Region(17, 9, 97, 90)  # inside every image here
        window = expected[17:97, 9:90]
        for _ in range(CALLS):
            got = _decode(decoder, opened.get_sub_code_stream(image_idx=page, region=region))
            assert np.array_equal(got.reshape(window.shape), window)
    assert decoder._gpu_backend.recipes._bytes > 0  # some recipe was made (and replayed above)


def test_replays_read_the_file_again(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "changing.tif"
    data = _picture((256, 256), "uint8")
    tifffile.imwrite(path, data, rowsperstrip=32)
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    for _ in range(CALLS):
        assert np.array_equal(_decode(decoder, tiffstream.CodeStream(str(path))).reshape(data.shape), data)
    changed = 255 - data
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].dataoffsets[0]
    with open(path, "r+b") as file:  # the same layout, other pixels
        file.seek(offset)
        file.write(changed.tobytes())
    got = _decode(decoder, tiffstream.CodeStream(str(path)))
    assert np.array_equal(got.reshape(data.shape), changed)


def test_a_broken_chunk_fails_every_time(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "broken.tif"
    tifffile.imwrite(path, _picture((128, 128), "uint8"), compression="lzw", tile=(64, 64))
    with tifffile.TiffFile(path) as tif:
        offset, nbytes = tif.pages[0].dataoffsets[2], tif.pages[0].databytecounts[2]
    with open(path, "r+b") as file:
        file.seek(offset + nbytes // 2)
        file.write(b"\xff\xff\xff\xff")  # codes past the table
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    for _ in range(CALLS):
        with pytest.raises(DecodeError, match="invalid code"):
            decoder.decode(tiffstream.CodeStream(str(path)), params=UNCHANGED)


def test_threads_sharing_a_page(files: dict[str, pathlib.Path]) -> None:
    path = files["lzw tiles predictor"]
    expected = tifffile.imread(path, key=1)
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    stream = tiffstream.CodeStream(str(path)).get_sub_code_stream(image_idx=1)

    def decode_many(_: int) -> bool:
        with cp.cuda.Stream(non_blocking=True) as own:
            return all(
                np.array_equal(
                    cp.asarray(decoder.decode(stream, params=UNCHANGED, cuda_stream=own)).get().reshape(expected.shape),
                    expected,
                )
                for _ in range(12)
            )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert all(pool.map(decode_many, range(4)))


def test_cut_file_fills_on_every_replay(tmp_path: pathlib.Path) -> None:
    data = _picture((256, 200), "uint8")
    whole = tmp_path / "whole.tif"
    tifffile.imwrite(whole, data, rowsperstrip=64)
    with tifffile.TiffFile(whole) as tif:
        last = tif.pages[0].dataoffsets[-1]
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[: last + 10 * 200 + 50])  # the last strip keeps 10 rows and a bit
    cpu = tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY])
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(cpu.decode(tiffstream.CodeStream(str(cut)), params=UNCHANGED))
        for _ in range(CALLS):
            got = _decode(decoder, tiffstream.CodeStream(str(cut)))
            assert np.array_equal(got.reshape(expected.shape), expected)

"""Byte sources: positioned reads, bounds checks, thread safety, pickling."""

from __future__ import annotations

import io
import pathlib
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tiffstream
from tiffstream.source import BufferSource, FileLikeSource, PathSource, open_source

DATA = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()


@pytest.fixture(params=["path", "bytes", "memoryview", "numpy", "filelike"])
def source(request, tmp_path: pathlib.Path):
    kind = request.param
    if kind == "path":
        path = tmp_path / "data.bin"
        path.write_bytes(DATA)
        src = open_source(path)
        assert isinstance(src, PathSource)
    elif kind == "bytes":
        src = open_source(DATA)
    elif kind == "memoryview":
        src = open_source(memoryview(DATA))
    elif kind == "numpy":
        src = open_source(np.frombuffer(DATA, np.uint8))
    else:
        src = open_source(io.BytesIO(DATA))
        assert isinstance(src, FileLikeSource)
    yield src
    src.close()


def test_reads_and_bounds(source) -> None:
    assert source.size == len(DATA)
    assert source.read(0, 16) == DATA[:16]
    assert source.read(len(DATA) - 5, 5) == DATA[-5:]
    assert source.read_at_most(len(DATA) - 5, 100) == DATA[-5:]
    with pytest.raises(tiffstream.TiffTruncatedError, match="cannot read 10 bytes"):
        source.read(len(DATA) - 5, 10)
    with pytest.raises(tiffstream.TiffTruncatedError):
        source.read(-1, 1)
    with pytest.raises(EOFError):  # truncation is an EOFError too
        source.read(len(DATA) + 1, 1)


def test_concurrent_reads_are_correct(source) -> None:
    rng = np.random.default_rng(2)
    ranges = [(int(o), int(n)) for o, n in zip(rng.integers(0, len(DATA) - 5000, 2000), rng.integers(1, 5000, 2000))]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda r: source.read(*r), ranges))
    assert all(result == DATA[o : o + n] for result, (o, n) in zip(results, ranges))


def test_path_source_pickles_without_descriptor(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    src = PathSource(path)
    state = pickle.dumps(src)
    assert len(state) < 500  # the path, not the bytes
    clone = pickle.loads(state)
    assert clone.read(100, 10) == DATA[100:110]
    src.close()
    assert src.read(0, 4) == DATA[:4]  # reopens after close
    src.close()
    clone.close()


def test_buffer_source_rejects_non_contiguous() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        BufferSource(np.zeros((4, 4), np.uint8)[:, ::2])


def test_unsupported_source_type() -> None:
    with pytest.raises(TypeError, match="cannot read TIFF data"):
        open_source(12345)

"""Remote files through fsspec: a local HTTP server with range requests (127.0.0.1 only), request counts."""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pytest
import tifffile
from range_server import RangeHandler, serving

import tiffstream

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")


@pytest.fixture(scope="module")
def pyramid_1000(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("remote") / "pyramid.ome.tif"
    rng = np.random.default_rng(0)
    data = rng.integers(0, 255, (1000, 64, 64), dtype=np.uint8)
    with tifffile.TiffWriter(path, ome=True) as writer:
        writer.write(data, tile=(32, 32), compression="zlib", subifds=1, metadata={"axes": "ZYX"})
        writer.write(data[:, ::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1)
    return path


@pytest.fixture
def server(pyramid_1000: pathlib.Path):
    with serving(pyramid_1000.read_bytes(), "pyramid.ome.tif") as url:
        yield url


def test_open_count_and_one_tile_take_few_requests(server: str, pyramid_1000: pathlib.Path) -> None:
    stream = tiffstream.CodeStream(server)
    assert stream.num_images == 1000
    last = stream.get_sub_code_stream(image_idx=999, region=tiffstream.Region(0, 0, 32, 32))
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]) as decoder:
        tile = np.asarray(
            decoder.decode(last, params=tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED))
        )
    np.testing.assert_array_equal(tile[:, :, 0], tifffile.imread(pyramid_1000, key=999)[:32, :32])
    gets = [r for r in RangeHandler.requests if r[0] == "GET"]
    assert all(spec is not None for _, spec in gets), "every read must be a range request"
    assert len(RangeHandler.requests) <= 12, RangeHandler.requests


def test_remote_reader_matches_local(server: str, pyramid_1000: pathlib.Path) -> None:
    with tiffstream.open(server) as remote, tifffile.TiffFile(pyramid_1000) as local:
        for index in (0, 500, 999):
            np.testing.assert_array_equal(remote.pages[index].asarray(), local.pages[index].asarray())
            np.testing.assert_array_equal(
                remote.pages[index].subifds[0].asarray(), local.pages[index].pages[0].asarray()
            )


def test_remote_source_pickles_as_url(server: str) -> None:
    source = tiffstream.source.open_source(server)
    clone = pickle.loads(pickle.dumps(source))
    assert clone.url == server and clone.read(0, 4) == source.read(0, 4)
    assert len(pickle.dumps(source)) < 1000


def test_memory_filesystem(pyramid_1000: pathlib.Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/pyramid.ome.tif", pyramid_1000.read_bytes())
    with tiffstream.open("memory://pyramid.ome.tif") as tif:
        assert len(tif.pages) == 1000 and tif.ome is not None
        np.testing.assert_array_equal(tif.pages[3].asarray(), tifffile.imread(pyramid_1000, key=3))
    fs.rm("/pyramid.ome.tif")

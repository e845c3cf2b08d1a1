"""to_dask and dask.distributed: lazy arrays equal to tifffile; a 2-process LocalCluster equals serial decode."""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pytest
import tifffile
from conftest import Recipe

import tiffstream

da = pytest.importorskip("dask.array")


def test_to_dask_matches_tifffile(seed_like_file: pathlib.Path) -> None:
    array = tiffstream.to_dask(str(seed_like_file))
    assert array.shape == (192, 40, 36) and array.chunksize == (1, 40, 36) and array.axes == "ZYX"
    np.testing.assert_array_equal(array.compute(scheduler="threads"), tifffile.imread(seed_like_file, key=range(192)))
    level = tiffstream.to_dask(str(seed_like_file), level=2)
    with tifffile.TiffFile(seed_like_file) as reference:
        np.testing.assert_array_equal(level[31].compute(), reference.pages[31].pages[1].asarray())
        np.testing.assert_array_equal(
            level[10:13, 5:9, 3:].compute(), reference.series[0].levels[2].asarray()[10:13, 5:9, 3:]
        )
    with pytest.raises(tiffstream.ImageIndexError, match="levels 0-2"):
        tiffstream.to_dask(str(seed_like_file), level=3)
    with pytest.raises(tiffstream.ImageIndexError, match="series 0-0"):
        tiffstream.to_dask(str(seed_like_file), series=1)


def test_ome_axes_shape_the_array(tmp_path: pathlib.Path) -> None:
    data = np.arange(2 * 3 * 4 * 8 * 9, dtype=np.uint16).reshape(2, 3, 4, 8, 9)
    path = tmp_path / "tczyx.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TCZYX"})
    array = tiffstream.to_dask(str(path))
    assert array.axes == "TCZYX" and array.shape == data.shape
    np.testing.assert_array_equal(array.compute(), data)
    np.testing.assert_array_equal(array[1, 2, 3].compute(), data[1, 2, 3])


def test_rgb_and_plain_stacks(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(30, 20, 3), photometric="rgb", compression="lzw"))
    array = tiffstream.to_dask(str(path))
    assert array.axes == "YXS" and array.shape == (30, 20, 3)
    np.testing.assert_array_equal(array.compute(), tifffile.imread(path))


def test_graph_pickles_small(seed_like_file: pathlib.Path) -> None:
    array = tiffstream.to_dask(str(seed_like_file))
    payload = pickle.dumps(dict(array.__dask_graph__()))
    assert len(payload) < 20_000  # a path and page offsets, no file bytes


def test_local_cluster_equals_serial(seed_like_file: pathlib.Path, tiff_factory) -> None:
    distributed = pytest.importorskip("distributed")
    other = tiff_factory(Recipe(shape=(5, 33, 19), dtype="uint16", compression="zstd", tile=(16, 16)))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        array = tiffstream.to_dask(str(seed_like_file))
        np.testing.assert_array_equal(array.compute(), tiffstream.imread(seed_like_file, range(192)))
        from tiffstream.integrations.distributed import decode_pages

        items = [(str(seed_like_file), 7), (str(other), 4), (str(seed_like_file), 191)]
        results = decode_pages(client, items)
        for (path, page), result in zip(items, results):
            np.testing.assert_array_equal(result, tifffile.imread(path, key=page))


def test_yx_chunks_decode_only_their_region(tmp_path) -> None:
    data = np.random.default_rng(9).integers(0, 255, (3, 300, 200), dtype=np.uint8)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib", photometric="minisblack")
    lazy = tiffstream.to_dask(str(path), yx_chunks=64)
    assert lazy.chunks == ((1, 1, 1), (64, 64, 64, 64, 44), (64, 64, 64, 8))
    np.testing.assert_array_equal(lazy.compute(), data)
    np.testing.assert_array_equal(lazy[1, 70:150, 10:190].compute(), data[1, 70:150, 10:190])
    np.testing.assert_array_equal(lazy[:, 5, ::3].compute(), data[:, 5, ::3])  # a strided key: whole images

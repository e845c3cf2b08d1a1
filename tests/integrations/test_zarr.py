"""The zarr v3 store: arrays and NGFF multiscales equal tifffile's pixels; one zarr chunk = one TIFF chunk."""

from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest
import tifffile
from conftest import Recipe

import tiffstream

zarr = pytest.importorskip("zarr")


@pytest.mark.parametrize(
    "recipe",
    [
        Recipe(shape=(4, 70, 90), tile=(32, 32), compression="zlib", subifds=2, ome=True),
        Recipe(shape=(3, 70, 90), dtype="uint16", rowsperstrip=9, compression="lzw", predictor=True, subifds=1),
        Recipe(shape=(29, 31, 3), planar="separate", tile=(16, 16), compression="zstd"),
        Recipe(shape=(29, 31, 3), photometric="rgb", rowsperstrip=5),
        Recipe(shape=(2, 37, 45), dtype="float32", tile=(16, 16), compression="zlib", predictor=True, byteorder=">"),
    ],
    ids=lambda r: r.id,
)
def test_levels_match_tifffile(tiff_factory, recipe: Recipe) -> None:
    path = tiff_factory(recipe)
    group = zarr.open_group(tiffstream.open(path).aszarr(), mode="r")
    with tifffile.TiffFile(path) as reference:
        count = len(reference.pages)
        np.testing.assert_array_equal(group["0"][...], np.stack([reference.pages[i].asarray() for i in range(count)]))
        for level in range(1, recipe.subifds + 1):
            expected = np.stack([reference.pages[i].pages[level - 1].asarray() for i in range(count)])
            np.testing.assert_array_equal(group[str(level)][...], expected)
            np.testing.assert_array_equal(group[str(level)][-1, 3:11, 5:17], expected[-1, 3:11, 5:17])
    multiscales = group.attrs["multiscales"][0]
    assert [d["path"] for d in multiscales["datasets"]] == [str(k) for k in range(recipe.subifds + 1)]


def test_zarr_chunks_are_tiff_chunks(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(4, 70, 90), tile=(32, 32), compression="zlib", subifds=2, ome=True))
    group = zarr.open_group(tiffstream.open(path).aszarr(), mode="r")
    array = group["0"]
    assert array.chunks == (1, 32, 32) and array.shape == (4, 70, 90)
    with tiffstream.open(path) as tif:
        reads = []
        store = tif.aszarr()
        original = store._tif.source._read

        def counting(offset: int, nbytes: int) -> bytes:
            reads.append(offset)
            return original(offset, nbytes)

        store._tif.source._read = counting
        zarr.open_group(store, mode="r")["0"][2, 40:50, 40:50]
        touched = [c for c in tif.pages[2].plan.chunks if c.offset in reads]
        assert [(c.y, c.x) for c in touched] == [(32, 32)]


def test_missing_tiles_are_fill(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sparse.tif"
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), tile=(32, 32))
    raw = bytearray(path.read_bytes())
    with tiffstream.open(path) as tif:
        tag = tif.pages[0].tags["TileOffsets"]
        size = {3: 2, 4: 4}[tag.type]
        position = tag.value_offset + size
    raw[position : position + size] = bytes(size)
    group = zarr.open_group(tiffstream.open(bytes(raw)).aszarr(), mode="r")
    np.testing.assert_array_equal(group["0"][0], tifffile.imread(io.BytesIO(bytes(raw))))
    assert (group["0"][0, :32, 32:] == 0).all()


def test_read_only(tiff_factory) -> None:
    store = tiffstream.open(tiff_factory(Recipe(shape=(2, 20, 20)))).aszarr()
    with pytest.raises(Exception):  # noqa: B017, PT011  # zarr wraps the store's PermissionError its own way
        zarr.open_group(store, mode="r")["0"][0, 0, 0] = 1


def test_cog_overviews_are_levels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cog.tif"
    data = np.random.default_rng(2).integers(0, 255, (128, 96), dtype=np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(32, 32), compression="zlib")
        writer.write(data[::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1)
        writer.write(data[::4, ::4], tile=(32, 32), compression="zlib", subfiletype=1)
    group = zarr.open_group(tiffstream.open(path).aszarr(), mode="r")
    assert [group[k].shape for k in ("0", "1", "2")] == [(1, 128, 96), (1, 64, 48), (1, 32, 24)]
    np.testing.assert_array_equal(group["2"][0], data[::4, ::4])
    scales = [d["coordinateTransformations"][0]["scale"] for d in group.attrs["multiscales"][0]["datasets"]]
    assert scales[2] == [1.0, 4.0, 4.0]

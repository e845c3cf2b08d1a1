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
        levels = reference.series[0].levels
        for number, level in enumerate(levels):
            expected = level.asarray()
            assert group[str(number)].shape == expected.shape
            np.testing.assert_array_equal(group[str(number)][...], expected)
            window = (slice(-1, None),) * (expected.ndim - 2) + (slice(3, 11), slice(5, 17))
            if expected.ndim > 2 and level.axes.endswith("S"):
                window = (slice(-1, None),) * (expected.ndim - 3) + (slice(3, 11), slice(5, 17), slice(None))
            np.testing.assert_array_equal(group[str(number)][window], expected[window])
        multiscales = group.attrs["multiscales"][0]
        assert [d["path"] for d in multiscales["datasets"]] == [str(k) for k in range(len(levels))]
        assert [a["name"] for a in multiscales["axes"]] == list(reference.series[0].axes.lower())


def test_every_series_is_a_store(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "two.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(np.zeros((20, 30, 3), np.uint8), tile=(16, 16), photometric="rgb")
        writer.write(np.ones((5, 7), np.uint16))
    with tiffstream.open(path) as tif:
        second = zarr.open_group(tif.aszarr(series=1), mode="r")
        np.testing.assert_array_equal(second["0"][...], tifffile.imread(path, series=1))
        with pytest.raises(tiffstream.ImageIndexError, match="series 0-1"):
            tif.aszarr(series=2)


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
    np.testing.assert_array_equal(group["0"][...], tifffile.imread(io.BytesIO(bytes(raw))))
    assert (group["0"][:32, 32:] == 0).all()


def test_read_only(tiff_factory) -> None:
    store = tiffstream.open(tiff_factory(Recipe(shape=(2, 20, 20)))).aszarr()
    with pytest.raises(Exception):  # noqa: B017, PT011  # zarr wraps the store's PermissionError its own way
        zarr.open_group(store, mode="r")["0"][0, 0, 0] = 1  # the 2 pages are axis I


def test_cog_overviews_are_levels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cog.tif"
    data = np.random.default_rng(2).integers(0, 255, (128, 96), dtype=np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(32, 32), compression="zlib")
        writer.write(data[::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1)
        writer.write(data[::4, ::4], tile=(32, 32), compression="zlib", subfiletype=1)
    group = zarr.open_group(tiffstream.open(path).aszarr(), mode="r")
    assert [group[k].shape for k in ("0", "1", "2")] == [(128, 96), (64, 48), (32, 24)]
    np.testing.assert_array_equal(group["2"][...], data[::4, ::4])
    scales = [d["coordinateTransformations"][0]["scale"] for d in group.attrs["multiscales"][0]["datasets"]]
    assert scales[2] == [4.0, 4.0]

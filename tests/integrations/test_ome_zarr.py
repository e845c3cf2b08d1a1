"""OME-Zarr (NGFF 0.5, zarr v3) written by ``to_ome_zarr`` / ``tiffstream convert OUT.ome.zarr``, read back with
the ome-zarr package's reader: levels, axes, scales, pixels equal to tifffile's."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tifffile

import tiffstream

pytest.importorskip("zarr")
ome_zarr_io = pytest.importorskip("ome_zarr.io")
ome_zarr_reader = pytest.importorskip("ome_zarr.reader")


def _read_back(store: pathlib.Path) -> tuple[dict, list[np.ndarray]]:
    node = next(iter(ome_zarr_reader.Reader(ome_zarr_io.parse_url(str(store)))()))
    return node.metadata, [np.asarray(level) for level in node.data]


def test_ome_stack_with_levels(tmp_path: pathlib.Path) -> None:
    data = np.random.default_rng(1).integers(0, 4000, (2, 3, 300, 400), dtype=np.uint16)
    source = tmp_path / "stack.ome.tif"
    with tifffile.TiffWriter(source) as writer:
        metadata = {"axes": "CZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.25}
        writer.write(data, subifds=1, tile=(128, 128), metadata=metadata)
        writer.write(data[:, :, ::2, ::2], subfiletype=1, tile=(128, 128))
    store = tmp_path / "stack.ome.zarr"
    assert tiffstream.to_ome_zarr(source, store, chunk=128) == [(2, 3, 300, 400), (2, 3, 150, 200)]
    metadata, levels = _read_back(store)
    assert [axis["name"] for axis in metadata["axes"]] == ["c", "z", "y", "x"]
    assert metadata["coordinateTransformations"][0][0]["scale"] == [1.0, 1.0, 0.25, 0.5]
    assert metadata["coordinateTransformations"][1][0]["scale"] == [1.0, 1.0, 0.5, 1.0]
    np.testing.assert_array_equal(levels[0], data)
    np.testing.assert_array_equal(levels[1], data[:, :, ::2, ::2])


def test_rgb_pyramid_through_the_cli(tmp_path: pathlib.Path) -> None:
    rgb = np.random.default_rng(2).integers(0, 255, (256, 320, 3), dtype=np.uint8)
    source = tmp_path / "rgb.tif"
    with tifffile.TiffWriter(source) as writer:
        writer.write(rgb, tile=(64, 64), photometric="rgb", compression="zlib", metadata=None)
        writer.write(rgb[::2, ::2], tile=(64, 64), photometric="rgb", subfiletype=1, metadata=None)
    store = tmp_path / "rgb.ome.zarr"
    done = subprocess.run(
        [sys.executable, "-m", "tiffstream.cli", "convert", str(source), str(store), "--tile", "64"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    metadata, levels = _read_back(store)
    assert [axis["name"] for axis in metadata["axes"]] == ["c", "y", "x"]
    np.testing.assert_array_equal(levels[0], np.moveaxis(rgb, -1, 0))
    np.testing.assert_array_equal(levels[1], np.moveaxis(rgb[::2, ::2], -1, 0))


def test_zstd_tiles_are_copied_not_recompressed(tmp_path: pathlib.Path) -> None:
    data = np.random.default_rng(3).integers(0, 4000, (3, 200, 260), dtype=np.uint16)
    data[1, :64, :64] = 0
    source = tmp_path / "zstd.ome.tif"
    tifffile.imwrite(source, data, tile=(64, 64), compression="zstd", metadata={"axes": "ZYX"})
    store = tmp_path / "zstd.ome.zarr"
    tiffstream.to_ome_zarr(source, store)
    with tifffile.TiffFile(source) as tif:
        page = tif.pages[1]
        first = page.dataoffsets[1], page.databytecounts[1]  # tile (0, 1) of image 1
    raw = source.read_bytes()[first[0] : first[0] + first[1]]
    assert (store / "0" / "c" / "1" / "0" / "1").read_bytes() == raw  # the stored frame, byte for byte
    _, levels = _read_back(store)
    np.testing.assert_array_equal(levels[0], data)


def test_large_levels_are_sharded(tmp_path: pathlib.Path) -> None:
    data = np.random.default_rng(4).integers(0, 255, (600, 700), dtype=np.uint8)
    source = tmp_path / "big.tif"
    tifffile.imwrite(source, data, tile=(64, 64), compression="zlib", photometric="minisblack")
    store = tmp_path / "big.ome.zarr"
    tiffstream.to_ome_zarr(source, store, chunk=64)
    metadata = json.loads((store / "0" / "zarr.json").read_text())
    assert metadata["codecs"][0]["name"] == "sharding_indexed"
    assert metadata["chunk_grid"]["configuration"]["chunk_shape"] == [512, 512]
    _, levels = _read_back(store)
    np.testing.assert_array_equal(levels[0], data)

"""The napari reader plugin: its npe2 manifest validated by npe2 (napari's plugin engine) and found through
the package's entry point; the layers it returns lazy, multiscale, channel-split and equal to tifffile."""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pytest
import tifffile

with warnings.catch_warnings():  # npe2 uses pydantic v1 idioms pydantic 2 deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    npe2 = pytest.importorskip("npe2")
pytest.importorskip("dask")

from tiffstream.integrations import napari as reader


def test_manifest_is_valid_and_installed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        manifest = npe2.PluginManifest.from_distribution("tiffstream")
    assert manifest.name == "tiffstream"
    (contribution,) = manifest.contributions.readers
    assert "*.svs" in contribution.filename_patterns
    (command,) = manifest.contributions.commands
    assert command.python_name == "tiffstream.integrations.napari:get_reader"


def test_ome_stack_layers(tmp_path: pathlib.Path) -> None:
    data = np.random.default_rng(3).integers(0, 4000, (2, 5, 64, 96), dtype=np.uint16)
    path = tmp_path / "stack.ome.tif"
    metadata = {
        "axes": "CZYX",
        "PhysicalSizeX": 0.4,
        "PhysicalSizeY": 0.4,
        "PhysicalSizeZ": 2.0,
        "Channel": {"Name": ["DAPI", "GFP"]},
    }
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, subifds=1, tile=(32, 32), metadata=metadata)
        writer.write(data[:, :, ::2, ::2], subfiletype=1, tile=(32, 32))
    assert reader.get_reader(str(path)) is reader.read and reader.get_reader(str(tmp_path / "a.png")) is None
    ((levels, options, kind),) = reader.read(str(path))
    assert kind == "image" and options["multiscale"] and options["channel_axis"] == 0
    assert options["name"] == ["DAPI", "GFP"] and options["scale"] == [2.0, 0.4, 0.4]
    assert [level.shape for level in levels] == [(2, 5, 64, 96), (2, 5, 32, 48)]
    np.testing.assert_array_equal(levels[0][1, 3].compute(), data[1, 3])  # lazy: one image decoded
    np.testing.assert_array_equal(levels[1].compute(), data[:, :, ::2, ::2])


def test_rgb_slide_layer(tmp_path: pathlib.Path) -> None:
    rgb = np.random.default_rng(4).integers(0, 255, (128, 160, 3), dtype=np.uint8)
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(rgb, tile=(32, 32), photometric="rgb", metadata=None)
        writer.write(rgb[::2, ::2], tile=(32, 32), photometric="rgb", subfiletype=1, metadata=None)
    ((levels, options, _),) = reader.read(str(path))
    assert options["rgb"] and "channel_axis" not in options and options["scale"] == [1.0, 1.0] and options["visible"]
    np.testing.assert_array_equal(levels[0].compute(), rgb)

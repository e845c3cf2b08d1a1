"""The writer's OME-XML is valid against the OME schema (ome-types with xmlschema), and the reader gives it as
an ``ome_types`` model agreeing with our own OME parse."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import tiffstream

pytest.importorskip("ome_types")
pytest.importorskip("xmlschema")


@pytest.mark.parametrize(
    ("shape", "axes", "options"),
    [
        ((3, 32, 48), "ZYX", {}),
        ((2, 3, 32, 48), "CZYX", {"channel_names": ["DAPI", "GFP"], "physical_size": (2.0, 0.25, 0.25)}),
        ((2, 2, 3, 32, 48), "TCZYX", {}),
        ((64, 80, 3), "YXS", {"tile": (32, 32), "subifds": 1}),
    ],
)
def test_written_ome_xml_is_schema_valid(tmp_path: pathlib.Path, shape: tuple, axes: str, options: dict) -> None:
    path = tmp_path / "out.ome.tif"
    data = np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8)
    tiffstream.imwrite(path, data, ome=True, axes=axes, **options)
    with tiffstream.open(str(path)) as tif:
        model = tif.ome_model(validate=True)  # raises on a schema violation
        ours = tif.ome.images[0].pixels
    pixels = model.images[0].pixels
    assert (pixels.size_x, pixels.size_y, pixels.size_z, pixels.size_c, pixels.size_t) == (
        ours.size_x,
        ours.size_y,
        ours.size_z,
        ours.size_c,
        ours.size_t,
    )
    if "channel_names" in options:
        assert [channel.name for channel in pixels.channels] == options["channel_names"]
        assert pixels.physical_size_z == 2.0 and pixels.physical_size_x == 0.25


def test_no_ome_model_without_ome_xml(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "plain.tif"
    tiffstream.imwrite(path, np.zeros((8, 8), np.uint8))
    assert tiffstream.open(str(path)).ome_model() is None

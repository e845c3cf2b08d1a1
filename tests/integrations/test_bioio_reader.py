"""The bioio reader plugin, checked with bioio-base's own image-file checks and beside bioio-tifffile on the
same files: scenes (series), resolution levels, dims, channel names, physical pixel sizes, pixels."""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pytest
import tifffile

pytest.importorskip("bioio_base")
pytest.importorskip("xarray")
from bioio_base.test_utilities import run_image_file_checks

from tiffstream.integrations.bioio import Reader


@pytest.fixture
def ome_stack(tmp_path: pathlib.Path) -> tuple[pathlib.Path, np.ndarray]:
    data = np.random.default_rng(5).integers(0, 4000, (2, 3, 64, 80), dtype=np.uint16)
    path = tmp_path / "stack.ome.tif"
    metadata = {
        "axes": "CZYX",
        "PhysicalSizeX": 0.5,
        "PhysicalSizeY": 0.5,
        "PhysicalSizeZ": 2.0,
        "Channel": {"Name": ["DAPI", "GFP"]},
    }
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, subifds=1, tile=(32, 32), metadata=metadata)
        writer.write(data[:, :, ::2, ::2], subfiletype=1, tile=(32, 32))
    return path, data


def test_bioio_image_file_checks(ome_stack: tuple[pathlib.Path, np.ndarray]) -> None:
    path, data = ome_stack
    for level, shape in ((0, (2, 3, 64, 80)), (1, (2, 3, 32, 40))):
        reader = run_image_file_checks(
            ImageContainer=Reader,
            image=path,
            set_scene=Reader(path).scenes[0],
            expected_scenes=Reader(path).scenes,
            expected_current_scene=Reader(path).scenes[0],
            expected_shape=shape,
            expected_dtype=np.dtype(np.uint16),
            expected_dims_order="CZYX",
            expected_channel_names=["DAPI", "GFP"],
            expected_physical_pixel_sizes=(2.0, 0.5, 0.5),
            expected_metadata_type=dict,
            set_resolution_level=level,
            expected_current_resolution_level=level,
            expected_resolution_levels=(0, 1),
            reader_kwargs={},
        )
        expected = data if level == 0 else data[:, :, ::2, ::2]
        np.testing.assert_array_equal(reader.data, expected)


def test_same_as_bioio_tifffile(tmp_path: pathlib.Path) -> None:
    bioio = pytest.importorskip("bioio")
    other = pytest.importorskip("bioio_tifffile")
    data = np.random.default_rng(6).integers(0, 255, (4, 48, 64), dtype=np.uint8)
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, data, photometric="minisblack")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = bioio.BioImage(path, reader=Reader)
        theirs = bioio.BioImage(path, reader=other.Reader)
        assert ours.dims.shape == theirs.dims.shape and ours.dims.order == theirs.dims.order
        np.testing.assert_array_equal(ours.data, theirs.data)

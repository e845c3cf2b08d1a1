"""The writer: round trips through our reader and tifffile, structure, OME, libtiff's tiffinfo, properties."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiffstream
from tiffstream.write import TiffWriter, imwrite

TIFFINFO = shutil.which("tiffinfo")


def _libtiff_reads(path: pathlib.Path, *, pixels: bool = True) -> None:
    """libtiff's tiffinfo and tiffdump read the file without error (and its pixels, with ``pixels``)."""
    if TIFFINFO is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("tiffinfo (libtiff-tools) is missing on CI")
        return
    for command in ([TIFFINFO, "-D", str(path)] if pixels else [TIFFINFO, str(path)], ["tiffdump", str(path)]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "Error" not in result.stderr and "error" not in result.stderr, result.stderr


CASES = [
    {"compression": None},
    {"compression": "deflate", "predictor": True},
    {"compression": "zstd"},
    {"compression": "lzw", "predictor": True},
    {"compression": "packbits"},
    {"compression": "deflate", "tile": (32, 48)},
    {"compression": "zstd", "tile": (16, 16), "predictor": True},
    {"compression": "lzw", "rowsperstrip": 7},
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "float32", "float64", "int32"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_round_trip(tmp_path: pathlib.Path, options, dtype: str, byteorder: str) -> None:
    rng = np.random.default_rng(4)
    data = (rng.random((3, 45, 61)) * 1000).astype(dtype)
    path = tmp_path / "out.tif"
    imwrite(path, data, byteorder=byteorder, **options)
    np.testing.assert_array_equal(tifffile.imread(path, key=range(3)), data)
    np.testing.assert_array_equal(tiffstream.imread(path, range(3)), data)
    _libtiff_reads(path)


RGB_CASES = [
    ("jpeg", "contig"),
    ("webp", "contig"),
    ("jpeg2000", "contig"),
    ("jpeg2000", "separate"),
    ("deflate", "contig"),
    ("deflate", "separate"),
]  # JPEG/WebP hold no single-sample planes here


@pytest.mark.parametrize(("compression", "planar"), RGB_CASES)
def test_rgb(tmp_path: pathlib.Path, compression: str, planar: str) -> None:
    y, x = np.mgrid[0:64, 0:80]
    rgb = np.stack([x * 3, y * 4, (x + y) * 2], -1).astype(np.uint8)
    path = tmp_path / "rgb.tif"
    imwrite(path, rgb, compression=compression, tile=(32, 32), planarconfig=planar)
    ours, theirs = tiffstream.imread(path), tifffile.imread(path)
    np.testing.assert_array_equal(ours, theirs)
    if compression in ("deflate", "jpeg2000"):
        expected = np.moveaxis(rgb, -1, 0) if planar == "separate" else rgb
        np.testing.assert_array_equal(ours, expected)
    else:
        assert np.abs(ours.astype(int) - (rgb if planar == "contig" else np.moveaxis(rgb, -1, 0))).mean() < 3
    _libtiff_reads(path, pixels=compression != "jpeg2000")  # libtiff has no JPEG 2000 codec


def test_pyramid_and_thumbnail_structure(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 255, (4, 100, 81), dtype=np.uint8)
    path = tmp_path / "pyramid.ome.tif"
    imwrite(path, data, ome=True, compression="deflate", subifds=2, thumbnail=16, physical_size=(1.0, 0.25, 0.25))
    np.testing.assert_array_equal(tiffstream.imread(path, range(4)), data)
    np.testing.assert_array_equal(tifffile.imread(path, key=range(4)), data)
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        assert reference.is_ome and len(reference.pages) == 4
        for index in range(4):
            page = tif.pages[index]
            assert page.subifd_offsets == list(reference.pages[index].subifds)
            shapes = [sub.shape for sub in page.subifds]
            assert shapes == [(50, 40), (25, 20), (14, 11)]  # thumbnail: 100x81 reduced 7 times
            assert all(sub.is_reduced for sub in page.subifds)
            level1 = page.subifds[0].asarray()
            expected = np.rint(data[index, :100, :80].reshape(50, 2, 40, 2).mean(axis=(1, 3))).astype(np.uint8)
            np.testing.assert_array_equal(level1, expected)
            np.testing.assert_array_equal(reference.pages[index].pages[0].asarray(), expected)
        pixels = tif.ome.images[0].pixels
        assert (pixels.size_z, pixels.size_y, pixels.size_x, pixels.physical_size_x) == (4, 100, 81, 0.25)
        assert [pixels.ifd_for_plane(z=z) for z in range(4)] == [0, 1, 2, 3]
        assert reference.series[0].shape == (4, 100, 81)
    _libtiff_reads(path)


def test_ome_axes(tmp_path: pathlib.Path) -> None:
    data = np.arange(2 * 3 * 4 * 8 * 9, dtype=np.uint16).reshape(2, 3, 4, 8, 9)
    path = tmp_path / "tczyx.ome.tif"
    imwrite(path, data, ome=True, axes="TCZYX", channel_names=["a", "b", "c"])
    with tifffile.TiffFile(path) as reference:
        assert reference.series[0].axes == "TCZYX" and reference.series[0].shape == data.shape
        np.testing.assert_array_equal(reference.series[0].asarray(), data)
    with tiffstream.open(path) as tif:
        pixels = tif.ome.images[0].pixels
        assert pixels.dimension_order == "XYZCT" and [c.name for c in pixels.channels] == ["a", "b", "c"]
        assert pixels.ifd_for_plane(z=3, c=2, t=1) == (1 * 3 + 2) * 4 + 3


def test_bigtiff_and_resolution(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.tif"
    data = np.arange(600, dtype=np.uint16).reshape(20, 30)
    imwrite(path, data, bigtiff=True, resolution=(300.0, 300.0, "inch"), extratags=[(65000, 2, "hello")])
    with tifffile.TiffFile(path) as reference:
        assert reference.is_bigtiff
        assert reference.pages[0].tags["XResolution"].value == (300, 1)
        assert reference.pages[0].tags[65000].value == "hello"
    np.testing.assert_array_equal(tiffstream.imread(path), data)
    _libtiff_reads(path)


def test_interrupted_write_leaves_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "never.tif"
    with pytest.raises(RuntimeError, match="boom"), TiffWriter(path) as writer:
        writer.write(np.zeros((8, 8), np.uint8))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_partial_file_does_not_parse_as_complete(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "streaming.tif"
    writer = TiffWriter(path)
    writer.write(np.zeros((8, 8), np.uint8))
    partial = next(tmp_path.glob("*.partial"))
    with pytest.raises(tiffstream.TiffFormatError):
        tiffstream.CodeStream(partial.read_bytes())  # the header points at no IFD yet
    writer.close()
    assert not list(tmp_path.glob("*.partial")) and tiffstream.CodeStream(str(path)).num_images == 1


@pytest.mark.parametrize(
    ("data", "options", "error"),
    [
        (np.zeros((4, 4), np.complex64), {}, "cannot write"),
        (np.zeros((4, 4), np.uint16), {"compression": "jpeg"}, "cannot store"),
        (np.zeros((4, 4), np.uint8), {"compression": "bogus"}, "unknown compression"),
        (np.zeros((4, 4), np.uint8), {"compression": "jpeg", "predictor": True}, "predictor"),
        (np.zeros((40, 40), np.uint8), {"tile": (10, 10)}, "multiples of 16"),
    ],
)
def test_bad_arguments(tmp_path: pathlib.Path, data, options, error: str) -> None:
    with pytest.raises(tiffstream.TiffWriteError, match=error):
        imwrite(tmp_path / "bad.tif", data, **options)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    samples=st.sampled_from([1, 2, 3, 4]),
    dtype=st.sampled_from(["uint8", "uint16", "int8", "int32", "float32", "float64", "uint64"]),
    compression=st.sampled_from([None, "deflate", "zstd", "lzw", "packbits"]),
    predictor=st.booleans(),
    tiled=st.booleans(),
    planar=st.sampled_from(["contig", "separate"]),
    byteorder=st.sampled_from(["<", ">"]),
    bigtiff=st.booleans(),
)
def test_property_round_trip(
    tmp_path_factory, height, width, samples, dtype, compression, predictor, tiled, planar, byteorder, bigtiff
) -> None:
    rng = np.random.default_rng(height * 1000 + width)
    data = (rng.random((height, width, samples)) * 100).astype(dtype)
    path = tmp_path_factory.mktemp("prop") / "p.tif"
    options = {"tile": (16, 16)} if tiled else {}
    imwrite(
        path,
        data,
        compression=compression,
        predictor=predictor and compression is not None,
        planarconfig=planar,
        byteorder=byteorder,
        bigtiff=bigtiff,
        photometric="minisblack" if samples != 3 else None,
        axes="YXS",
        **options,
    )
    expected = tifffile.imread(path)
    ours = tiffstream.imread(path)
    np.testing.assert_array_equal(ours, expected)
    stored = np.moveaxis(data, -1, 0) if planar == "separate" and samples > 1 else data
    np.testing.assert_array_equal(ours, stored.squeeze(-1) if samples == 1 else stored)

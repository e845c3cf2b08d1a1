"""Cloud Optimized GeoTIFFs (``CogWriter``, ``tiffstream convert --cog``) checked by rio-cogeo's validator and
read back by GDAL (rasterio): pixels, overviews, transform, CRS and nodata."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, require_corpus

import tiffstream
from tiffstream.write.cog import CogWriter

rasterio = pytest.importorskip("rasterio")
cogeo = pytest.importorskip("rio_cogeo.cogeo")

KEYS = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633)  # projected, PixelIsArea, UTM 33N
GEO = [(33550, 12, (10.0, 10.0, 0.0)), (33922, 12, (0.0, 0.0, 0.0, 500000.0, 4000000.0, 0.0)), (34735, 3, KEYS)]


def _valid(path: pathlib.Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        valid, errors, warnings_found = cogeo.cog_validate(str(path), quiet=True)
    assert valid and not errors and not warnings_found, (errors, warnings_found)


@pytest.mark.parametrize(
    ("dtype", "samples", "compression"), [("uint8", 1, "deflate"), ("uint16", 3, "zstd"), ("float32", 1, None)]
)
def test_cog_is_valid_and_reads_back(tmp_path: pathlib.Path, dtype: str, samples: int, compression: str | None) -> None:
    y, x = np.mgrid[0:1300, 0:1700]
    image = np.stack([(x * (s + 1) + y) % 251 for s in range(samples)], axis=-1).astype(dtype)
    path = tmp_path / "out.tif"
    with CogWriter(path) as writer:
        writer.write_cog(
            image[:, :, 0] if samples == 1 else image, tile=(256, 256), compression=compression, extratags=GEO
        )
    _valid(path)
    with rasterio.open(path) as dataset:
        assert dataset.crs.to_epsg() == 32633 and tuple(dataset.transform)[:6] == (
            10.0,
            0.0,
            500000.0,
            0.0,
            -10.0,
            4000000.0,
        )
        assert dataset.overviews(1) == [2, 4, 8]
        np.testing.assert_array_equal(np.moveaxis(dataset.read(), 0, -1), image)
    with tifffile.TiffFile(path) as tif:
        offsets = [page.offset for page in tif.pages]
        assert offsets == sorted(offsets) and max(offsets) < min(
            page.dataoffsets[0] for page in tif.pages
        )  # IFDs first


def test_convert_cog_keeps_georeferencing(tmp_path: pathlib.Path) -> None:
    require_corpus()
    sources = sorted((CORPUS / "files" / "rio-cogeo").glob("*.tif"))
    converted = 0
    for source in sources:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with rasterio.open(source) as dataset:
                    transform, crs, count, dtype = dataset.transform, dataset.crs, dataset.count, dataset.dtypes[0]
            except rasterio.errors.RasterioIOError:
                continue
        if count not in (1, 3, 4) or np.dtype(dtype).kind not in "uif":
            continue
        out = tmp_path / f"{source.stem}.cog.tif"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tiffstream.cli",
                "convert",
                str(source),
                str(out),
                "--cog",
                "--compression",
                "deflate",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:  # a series that is not one image: refused with a clear message
            assert "COG holds one image" in done.stderr, done.stderr
            continue
        _valid(out)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(out) as dataset:
                assert dataset.transform == transform and dataset.crs == crs, source.name
                written = np.moveaxis(dataset.read(), 0, -1)
        with tiffstream.open(str(source)) as tif:  # the pixels we meant (a JPEG source: as libjpeg-turbo gives them)
            meant = tif.series[0].base.asarray(key=0)
        meant = np.moveaxis(meant, 0, -1) if meant.ndim == 3 and meant.shape[0] == count < meant.shape[2] else meant
        np.testing.assert_array_equal(written.reshape(meant.shape), meant, err_msg=source.name)
        converted += 1
    assert converted >= 3, converted


def test_cog_with_a_transparency_mask(tmp_path: pathlib.Path) -> None:
    y, x = np.mgrid[0:1300, 0:1700]
    image = ((x + y) % 251).astype(np.uint8)
    mask = (x - 850) ** 2 + (y - 650) ** 2 < 600**2
    path = tmp_path / "masked.tif"
    with CogWriter(path) as writer:
        writer.write_cog(image, tile=(256, 256), mask=mask, extratags=GEO)
    _valid(path)
    with rasterio.open(path) as dataset:
        assert dataset.mask_flag_enums == ([rasterio.enums.MaskFlags.per_dataset],)
        np.testing.assert_array_equal(dataset.read_masks(1) > 0, mask)
        np.testing.assert_array_equal(dataset.read(1), image)
        halved = mask[:1300, :1700].reshape(650, 2, 850, 2).any(axis=(1, 3))  # valid where any of four is
        np.testing.assert_array_equal(dataset.read_masks(1, out_shape=(650, 850)) > 0, halved)
    with tifffile.TiffFile(path) as tif:
        assert [page.tags[254].value for page in tif.pages][:4] == [0, 4, 1, 5]  # level, its mask, overview, its mask


def test_convert_cog_keeps_the_mask(tmp_path: pathlib.Path) -> None:
    y, x = np.mgrid[0:600, 0:700]
    image = ((x * 2 + y) % 251).astype(np.uint8)
    mask = x > y
    source, out = tmp_path / "masked.tif", tmp_path / "again.tif"
    with CogWriter(source) as writer:
        writer.write_cog(image, tile=(256, 256), mask=mask, extratags=GEO)
    done = subprocess.run(
        [sys.executable, "-m", "tiffstream.cli", "convert", str(source), str(out), "--cog"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "with its mask" in done.stdout, done.stderr
    _valid(out)
    with rasterio.open(out) as dataset:
        np.testing.assert_array_equal(dataset.read_masks(1) > 0, mask)
        np.testing.assert_array_equal(dataset.read(1), image)

"""GeoTIFF georeferencing (``page.geo``) against rasterio (GDAL) on every georeferenced corpus file it opens,
and on generated files: PixelIsPoint, ModelTransformation, GDAL metadata and nodata."""

from __future__ import annotations

import logging
import math
import pathlib
import warnings

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, CORPUS_WSI, require_corpus

import tiffstream

rasterio = pytest.importorskip("rasterio")
GEO_SOURCES = ("rasterio", "rio-cogeo", "rio-tiler", "cogeotiff")


def _geo_files() -> list[pathlib.Path]:
    return sorted(p for root in (CORPUS, CORPUS_WSI) for name in GEO_SOURCES for p in (root / "files" / name).glob("*"))


def test_georeferencing_matches_rasterio() -> None:
    require_corpus()
    logging.getLogger("rasterio").setLevel(logging.ERROR)
    compared = 0
    for path in _geo_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                dataset = rasterio.open(path)
            with dataset:
                transform, nodata, crs, gcps, dtype = (
                    dataset.transform,
                    dataset.nodata,
                    dataset.crs,
                    dataset.gcps,
                    dataset.dtypes[0],
                )
        except rasterio.errors.RasterioIOError:
            continue  # GDAL cannot open it either
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
            with tiffstream.open(str(path)) as tif:
                geo = tif.pages[0].geo
        if geo is None:
            assert transform.is_identity and crs is None and nodata is None, path.name
            continue
        compared += 1
        if gcps[0]:
            assert geo.transform is None and len(geo.gcps) == len(gcps[0]), path.name
        else:
            assert geo.transform is not None and np.allclose(geo.transform, tuple(transform)[:6]), path.name
            assert geo.epsg == (crs.to_epsg() if crs else None), path.name
        if nodata is None:
            assert geo.nodata is None, path.name
        elif math.isnan(nodata):
            assert geo.nodata is not None and math.isnan(geo.nodata), path.name
        else:  # rasterio gives it in the band's type
            assert geo.nodata is not None and np.array(geo.nodata).astype(dtype) == np.array(nodata).astype(dtype), (
                path.name
            )
    assert compared >= 40, compared


def test_point_rasters_transforms_and_gdal_tags(tmp_path: pathlib.Path) -> None:
    keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2, 3072, 0, 1, 32633)  # projected, PixelIsPoint, UTM 33N
    metadata = '<GDALMetadata><Item name="AREA">forest</Item><Item name="STAT" sample="0">4</Item></GDALMetadata>'
    path = tmp_path / "point.tif"
    tifffile.imwrite(
        path,
        np.zeros((10, 20), np.float32),
        extratags=[
            (33550, 12, 3, (2.0, 3.0, 0.0), True),
            (33922, 12, 6, (0.0, 0.0, 0.0, 500000.0, 4000000.0, 0.0), True),
            (34735, 3, len(keys), keys, True),
            (42112, 2, 0, metadata, True),
            (42113, 2, 0, "-9999", True),
        ],
        metadata=None,
    )
    geo = tiffstream.open(str(path)).pages[0].geo
    assert geo.is_point and geo.epsg == 32633 and geo.nodata == -9999.0
    assert geo.transform == (2.0, 0.0, 499999.0, 0.0, -3.0, 4000001.5)  # half a pixel up and left
    assert geo.metadata == {"AREA": "forest"} and geo.band_metadata == {0: {"STAT": "4"}}
    with rasterio.open(path) as dataset:
        assert np.allclose(tuple(dataset.transform)[:6], geo.transform) and dataset.crs.to_epsg() == 32633
    pytest.importorskip("pyproj")
    assert geo.crs.to_epsg() == 32633 and "UTM zone 33N" in geo.wkt


def test_model_transformation_and_no_geo(tmp_path: pathlib.Path) -> None:
    matrix = (0.5, 0.1, 0.0, 100.0, 0.2, -0.5, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    path = tmp_path / "matrix.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), extratags=[(34264, 12, 16, matrix, True)], metadata=None)
    assert tiffstream.open(str(path)).pages[0].geo.transform == (0.5, 0.1, 100.0, 0.2, -0.5, 50.0)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((4, 4), np.uint8))
    assert tiffstream.open(str(plain)).pages[0].geo is None

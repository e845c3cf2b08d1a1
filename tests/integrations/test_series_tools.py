"""to_dask and aszarr on every series and level of the real pyramids and slides (SVS, NDPI, COG, generic
pyramids) and of the main corpus' multi-series files: the same pixels as tifffile's level arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, CORPUS_WSI, SERIES_DIFFERENCES, corpus_rows, require_corpus, wsi_rows

import tiffstream

pytestmark = pytest.mark.usefixtures("quiet")

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

MAX_SAMPLES = 30_000_000


def _params() -> list:
    params = [pytest.param(CORPUS_WSI, row["path"], id=row["path"]) for row in wsi_rows()]
    for row in corpus_rows():  # the main corpus' pyramids and multi-series files
        if row["path"] in SERIES_DIFFERENCES:
            continue
        if row["tifffile_ok"] == "1" and (int(row["n_subifds_page0"] or 0) or row["path"].endswith("ome.tif")):
            params.append(pytest.param(CORPUS, row["path"], id=row["path"]))
    return params


@pytest.mark.parametrize(("root", "relpath"), _params())
def test_dask_and_zarr_equal_tifffile_levels(root, relpath):
    require_corpus(root)
    path = root / relpath
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        for si, series in enumerate(reference.series):
            store = zarr.open_group(tif.aszarr(series=si), mode="r")
            for li, level in enumerate(series.levels):
                if math.prod(level.shape) > MAX_SAMPLES:
                    continue
                expected = level.asarray()
                lazy = tiffstream.to_dask(str(path), series=si, level=li)
                assert lazy.axes == level.axes
                np.testing.assert_array_equal(lazy.compute(scheduler="threads"), expected)
                np.testing.assert_array_equal(store[str(li)][...], expected)

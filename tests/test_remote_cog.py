"""A Cloud Optimized GeoTIFF window over HTTP: the pixels, and requests and bytes against GDAL's /vsicurl/
(rasterio) reading the same window from the same local server."""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pytest
from range_server import RangeHandler, serving

import tiffstream
from tiffstream.write.cog import CogWriter

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")
rasterio = pytest.importorskip("rasterio")


def _bytes(requests: list[tuple[str, str | None]]) -> int:
    return sum(int(s[6:].partition("-")[2]) - int(s[6:].partition("-")[0]) + 1 for m, s in requests if m == "GET" and s)


def test_window_costs_about_what_gdal_pays(tmp_path: pathlib.Path) -> None:
    from rasterio.windows import Window

    image = np.random.default_rng(0).integers(0, 64, (4096, 4096), dtype=np.uint8)
    path = tmp_path / "cog.tif"
    with CogWriter(path) as writer:
        writer.write_cog(image, tile=(512, 512))
    y = x = 1792  # a window across four tiles
    with serving(path.read_bytes(), "cog.tif") as url:
        stream = tiffstream.CodeStream(url).get_sub_code_stream(region=tiffstream.Region(y, x, y + 512, x + 512))
        params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED)
        ours = np.asarray(tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]).decode(stream, params))
        our_requests, RangeHandler.requests = list(RangeHandler.requests), []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), rasterio.open("/vsicurl/" + url) as dataset:
                theirs = dataset.read(1, window=Window(x, y, 512, 512))
        gdal_requests = list(RangeHandler.requests)
    np.testing.assert_array_equal(ours[:, :, 0], image[y : y + 512, x : x + 512])
    np.testing.assert_array_equal(theirs, ours[:, :, 0])
    # the header block, then the four tiles in as few requests as GDAL (neighbouring tiles merged)
    assert len(our_requests) <= len(gdal_requests), (our_requests, gdal_requests)
    assert _bytes(our_requests) <= 1.2 * _bytes(gdal_requests), (our_requests, gdal_requests)

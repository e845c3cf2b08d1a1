"""Series and levels of every real file tifffile opens (both corpora): the same series, kinds, shapes, axes,
dtypes and level shapes as ``tifffile.TiffFile.series``, and the same pixels level by level."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, CORPUS_WSI, SERIES_DIFFERENCES, corpus_rows, require_corpus, wsi_rows

import tiffstream

pytestmark = pytest.mark.usefixtures("quiet")

MAX_SAMPLES = 30_000_000  # levels past this are compared by structure only (the 20480^2 sparse COG)

# tifffile decodes every page of a series with the first page's decoder: CCITT pages whose T4Options differ
# from the first page's come out wrong there (each page decoded alone matches us)
TIFFFILE_WRONG_PIXELS = {
    "files/twelvemonkeys/contrib__src__test__resources__contrib__tiff__multipage.tif",
    "files/twelvemonkeys/imageio__imageio-metadata__src__test__resources__exif__emptyexiftag.tif",
}


def _params() -> list:
    params = []
    for root, rows in ((CORPUS, corpus_rows()), (CORPUS_WSI, wsi_rows())):
        for row in rows:
            marks = (
                [pytest.mark.xfail(strict=True, reason=SERIES_DIFFERENCES[row["path"]])]
                if row["path"] in SERIES_DIFFERENCES
                else []
            )
            params.append(pytest.param(root, row["path"], id=f"{root.name}/{row['path']}", marks=marks))
    return params


def _reference(path):
    try:
        with tifffile.TiffFile(path) as tif:
            return [
                (s.kind, s.shape, s.axes, str(s.dtype), [(level.shape, str(level.dtype)) for level in s.levels])
                for s in tif.series
            ]
    except Exception as exc:  # noqa: BLE001  # files tifffile cannot open have no reference
        pytest.skip(f"tifffile cannot open it: {exc!r:.80}")


def _structure(tif):
    return [
        (s.kind, s.shape, s.axes, str(s.dtype), [(level.shape, str(level.dtype)) for level in s.levels])
        for s in tif.series
    ]


@pytest.mark.parametrize(("root", "relpath"), _params())
def test_series_match_tifffile(root, relpath):
    require_corpus(root)
    path = root / relpath
    expected = _reference(path)
    with tiffstream.open(path) as tif:
        assert _structure(tif) == expected
        if relpath in TIFFFILE_WRONG_PIXELS:
            return
        with tifffile.TiffFile(path) as reference:
            for si, series in enumerate(reference.series):
                for li, level in enumerate(series.levels):
                    if math.prod(level.shape) > MAX_SAMPLES:
                        continue
                    try:
                        want = level.asarray()
                    except Exception:  # noqa: BLE001,S112  # pixels tifffile cannot decode have no reference
                        continue
                    got = tif.series[si].levels[li].asarray()
                    assert got.shape == want.shape
                    np.testing.assert_array_equal(got, want, err_msg=f"series {si} level {li}")

"""Series and levels of every real file tifffile opens (both corpora): the same series, kinds, shapes, axes,
dtypes and level shapes as ``tifffile.TiffFile.series``, and the same pixels level by level."""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, CORPUS_WSI, corpus_rows, require_corpus, wsi_rows

import tiffstream

MAX_SAMPLES = 30_000_000  # levels past this are compared by structure only (the 20480^2 sparse COG)

# Files where we differ from tifffile on purpose, with the reason (docs/compatibility.md). Each is an
# expected failure (strict): the day one matches, the test says so.
DIFFERENT = {
    # corrupt files from fuzzers: tifffile reads a chain that loops (or pages without ImageWidth) differently
    "files/libtiff/test__images__test_ifd_loop_subifd.tif": "IFD loop: libtiff's chain policy keeps 5 pages",
    "files/libtiff/test__images__test_ifd_loop_to_first.tif": "IFD loop: 2 pages, too few for a uniform stack",
    "files/pillow/Tests__images__multipage_multiple_frame_loop.tiff": "IFD loop: 2 pages, not uniform",
    "files/pillow/Tests__images__child_ifd_jpeg.tiff": "SubIFD is an embedded JPEG thumbnail without ImageWidth",
    "files/pillow/Tests__images__crash-2020-10-test.tif": "a page without ImageWidth is no image",
    "files/pillow/Tests__images__crash-63b1dffefc8c075ddc606c0a2f5fdc15ece78863.tif": "TileWidth without TileLength",
    "files/oiio/testsuite__tiff-misc__src__corrupt1.tif": "BitsPerSample (5, 1, 33024) for one sample",
    "files/pillow/Tests__images__seek_too_large.tif": "first IFD outside the file: not a TIFF",
    "files/image-tiff/tests__fuzz_images__oor_panic__colormap-shl-overflow.tiff": "ColorMap past the end of file",
}
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
            marks = [pytest.mark.xfail(strict=True, reason=DIFFERENT[row["path"]])] if row["path"] in DIFFERENT else []
            params.append(pytest.param(root, row["path"], id=f"{root.name}/{row['path']}", marks=marks))
    return params


@pytest.fixture(autouse=True)
def _quiet():
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


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

"""Every tifffile-readable corpus file decodes to tifffile's pixels: page 0 by reference hash, further pages
and SubIFDs against tifffile.asarray, all through tiffstream.open(...).pages[i].asarray()."""

from __future__ import annotations

import hashlib
import logging
import warnings

import numpy as np
import pytest
import tifffile
from conftest import CORPUS, corpus_rows, require_corpus

import tiffstream

ROWS = [row for row in corpus_rows() if row["tifffile_ok"] == "1"]
BROKEN = [row for row in corpus_rows() if row["tifffile_ok"] != "1"]
MAX_PAGES = 6
# SubIFDs we do not decode yet, with the reason (docs/compatibility.md); each must raise a TiffError here
KNOWN_GAPS = {
    # a SubIFD holding only JPEGInterchangeFormat/Length (an embedded JPEG thumbnail, no ImageWidth)
    ("files/pillow/Tests__images__child_ifd_jpeg.tiff", 155): "embedded JPEG thumbnail IFD",
}
MAX_PIXELS = 40_000_000  # pages past this many samples are compared by hash only (page 0)


@pytest.fixture(autouse=True)
def _quiet():
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.IfdChainWarning)
        warnings.simplefilter("ignore", tiffstream.TruncatedDataWarning)  # cut files: tests/cpu/test_truncation.py
        yield


@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_page0_hash_matches_reference(row: dict[str, str]) -> None:
    require_corpus()
    array = tiffstream.imread(CORPUS / row["path"], 0)
    digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
    if digest != row["ref_sha256"]:
        expected = tifffile.imread(CORPUS / row["path"], key=0)
        np.testing.assert_array_equal(array, expected)
    assert "x".join(map(str, array.shape)) == row["page0_shape"]
    assert str(array.dtype) == row["dtype"]


def _tifffile_page(reference: tifffile.TiffFile, index: int):
    page = reference.pages[index]
    return page if isinstance(page, tifffile.TiffPage) else page.aspage()


@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_other_pages_and_subifds_match_tifffile(row: dict[str, str]) -> None:
    require_corpus()
    path = CORPUS / row["path"]
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        count = min(len(tif.pages), len(reference.pages), MAX_PAGES)
        for index in range(count):
            ref_page = _tifffile_page(reference, index)
            page = tif.pages[index]
            pairs = [(page, ref_page)] if index else []
            sub_refs = {p.offset: p for p in (ref_page.pages or [])} if ref_page.subifds else {}
            pairs += [(sub, sub_refs[sub.offset]) for sub in page.subifds if sub.offset in sub_refs]
            for ours, theirs in pairs:
                if (row["path"], ours.offset) in KNOWN_GAPS:
                    with pytest.raises(tiffstream.TiffError):
                        ours.asarray()
                    continue
                _compare(ours, theirs)


def _compare(page, ref) -> None:
    try:
        expected = ref.asarray()
    except Exception:  # noqa: BLE001  # tifffile cannot decode it: we must fail cleanly
        with pytest.raises(tiffstream.TiffError):
            page.asarray()
        return
    if expected.size > MAX_PIXELS:
        return
    np.testing.assert_array_equal(page.asarray(), expected)


@pytest.mark.parametrize("row", BROKEN, ids=[r["path"] for r in BROKEN])
def test_broken_files_fail_cleanly(row: dict[str, str]) -> None:
    """Files tifffile cannot decode: we decode them or raise a TiffError, nothing else."""
    require_corpus()
    try:
        array = tiffstream.imread(CORPUS / row["path"], 0)
    except tiffstream.TiffError:
        return
    assert array.size > 0

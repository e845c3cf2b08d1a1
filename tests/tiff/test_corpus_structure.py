"""Every corpus file: our container layer agrees with tifffile on pages, SubIFDs, shape, dtype and chunks."""

from __future__ import annotations

import logging
import warnings

import pytest
import tifffile
from conftest import CORPUS, corpus_rows, require_corpus

import tiffstream

MAX_PAGES = 40  # pages compared per file (all files have fewer, except a few long stacks)

# Where tifffile's structure is not the right answer, the reason is recorded here (see docs/compatibility.md).
PAGE_COUNT_DIFFERS = {
    # main chain 12 -> 170 -> 868 -> 1026 -> 1184 -> 868 (loop): five distinct IFDs; tifffile stops after four
    "files/libtiff/test__images__test_ifd_loop_subifd.tif": 5,
    # the second IFD's next-IFD link is cut off by the end of the file; tifffile reads a garbage link as a page
    "files/twelvemonkeys/imageio__imageio-metadata__src__test__resources__exif__noeof.tif": 1,
}

ROWS = corpus_rows()


@pytest.fixture(autouse=True)
def _quiet_tifffile():
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)


def _reference(path: str):
    """tifffile's view of the file, or None when tifffile cannot open it."""
    try:
        return tifffile.TiffFile(path)
    except Exception:  # noqa: BLE001  # any failure of the reference means "tifffile cannot open"
        return None


@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_structure_matches_tifffile(row: dict[str, str]) -> None:
    require_corpus()
    path = str(CORPUS / row["path"])
    reference = _reference(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.IfdChainWarning)
        if reference is None or len(reference.pages) == 0:
            if reference is not None:
                reference.close()
            with pytest.raises(tiffstream.TiffError), tiffstream.open(path) as tif:
                len(tif.pages)
                tif.pages[0].plan  # noqa: B018
            return
        with reference, tiffstream.open(path) as tif:
            count = len(tif.pages)
            assert count == PAGE_COUNT_DIFFERS.get(row["path"], len(reference.pages))
            for index in range(min(count, len(reference.pages), MAX_PAGES)):
                _compare_page(tif.pages[index], reference.pages[index], row)


def _compare_page(page: tiffstream.tiff.page.TiffPage, ref, row: dict[str, str]) -> None:
    if not isinstance(ref, tifffile.TiffPage):
        ref = ref.aspage()
    assert page.offset == ref.offset
    assert page.subifd_offsets == list(ref.subifds or [])
    try:
        ref_shape, ref_dtype = ref.shape, ref.dtype
    except Exception:  # noqa: BLE001
        return
    try:
        plan = page.plan
    except tiffstream.TiffError:
        # only acceptable where tifffile cannot make an image of the page either
        assert _unusable(ref), f"tifffile reads {ref.shape} {ref.dtype} where we raise"
        return
    assert page.shape == ref_shape
    if ref_dtype is not None:
        assert page.dtype == ref_dtype
    assert int(page.compression) == int(ref.compression)
    assert plan.compression == int(ref.compression)
    offsets = [c.offset for c in plan.chunks]
    counts = [c.nbytes for c in plan.chunks]
    if 0 in page.shape:
        assert offsets == []  # an empty image has nothing to decode
        return
    # tifffile keeps surplus entries of a too-long offsets tag; a plan holds the chunks the image needs
    assert offsets == list(ref.dataoffsets)[: len(offsets)]
    assert counts == list(ref.databytecounts)[: len(counts)]
    assert len(offsets) == len(ref.dataoffsets) or len(ref.dataoffsets) > len(offsets)
    # page.subifds also follows each SubIFD's own next-IFD chain; the tag's IFDs come first of each chain
    listed = set(ref.subifds or [])
    assert [sub.offset for sub in page.subifds if sub.offset in listed] == list(ref.subifds or [])


def _unusable(ref) -> bool:
    """True when tifffile cannot decode ``ref`` to a non-empty image."""
    try:
        return ref.asarray().size == 0
    except Exception:  # noqa: BLE001  # any reference failure counts
        return True

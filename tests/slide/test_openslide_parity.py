"""tiffstream.slide against OpenSlide itself on every slide of the whole-slide corpus: format, levels,
downsamples, associated images, properties, read_region pixels (also partly outside) and Deep Zoom."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS_WSI, require_corpus, wsi_rows

import tiffstream.slide as ts
from tiffstream.slide.deepzoom import DeepZoomGenerator

openslide = pytest.importorskip("openslide")
from openslide.deepzoom import DeepZoomGenerator as ReferenceDeepZoom

pytestmark = pytest.mark.usefixtures("quiet")
PATHS = [row["path"] for row in wsi_rows()]
# OpenSlide's pixels differ from libjpeg-turbo's (through tifffile and imagecodecs) on these files; ours equal
# tifffile's there (checked below), docs/compatibility.md says how much
OPENSLIDE_PIXELS_DIFFER = {
    "files/large_image/test_orient6.tif": "8-bit gray JPEG tiles: OpenSlide differs by up to 255 on 27% of samples",
}
COMPARED = (
    "openslide.vendor",
    "openslide.mpp-x",
    "openslide.mpp-y",
    "openslide.objective-power",
    "openslide.comment",
    "openslide.quickhash-1",
)


def _pair(relpath):
    require_corpus(CORPUS_WSI, "TIFFSTREAM_CORPUS_WSI")
    path = CORPUS_WSI / relpath
    assert ts.OpenSlide.detect_format(path) == openslide.OpenSlide.detect_format(path)
    try:
        reference = openslide.OpenSlide(path)
    except openslide.OpenSlideError as exc:
        pytest.skip(f"OpenSlide cannot open it: {exc}")
    return reference, ts.OpenSlide(path)


@pytest.mark.parametrize("relpath", PATHS)
def test_structure_and_properties(relpath):
    reference, slide = _pair(relpath)
    with reference, slide:
        assert slide.level_count == reference.level_count
        assert slide.level_dimensions == reference.level_dimensions
        np.testing.assert_allclose(slide.level_downsamples, reference.level_downsamples, rtol=1e-12)
        assert sorted(slide.associated_images) == sorted(reference.associated_images)
        for name, image in reference.associated_images.items():
            ours = slide.associated_images[name]
            assert ours.size == image.size and ours.mode == image.mode
        ours, theirs = slide.properties, reference.properties
        assert {k: ours.get(k) for k in COMPARED} == {k: theirs.get(k) for k in COMPARED}
        level_keys = [
            k for k in theirs if k.startswith(("openslide.level", "openslide.associated.")) and "icc" not in k
        ]
        assert {k: ours.get(k) for k in level_keys} == {k: theirs[k] for k in level_keys}
        tiff_keys = [k for k in theirs if k.startswith(("tiff.", "aperio.", "hamamatsu."))]
        assert {k: ours.get(k) for k in tiff_keys} == {k: theirs[k] for k in tiff_keys}
        for downsample in (0.5, 1, 1.5, 2, 3, 4.2, 8, 100):
            assert slide.get_best_level_for_downsample(downsample) == reference.get_best_level_for_downsample(
                downsample
            )


@pytest.mark.parametrize("relpath", PATHS)
def test_read_region_pixels(relpath):
    reference, slide = _pair(relpath)
    rng = np.random.default_rng(len(relpath))
    if relpath in OPENSLIDE_PIXELS_DIFFER:
        import tifffile

        reference.close()
        with slide, tifffile.TiffFile(CORPUS_WSI / relpath) as tif:
            for level, expected in enumerate(tif.series[0].levels):
                width, height = slide.level_dimensions[level]
                got = np.asarray(slide.read_region((0, 0), level, (width, height)))
                np.testing.assert_array_equal(got[..., 0], expected.asarray())
        return
    with reference, slide:
        for level in range(reference.level_count):
            downsample = reference.level_downsamples[level]
            width, height = reference.level_dimensions[level]
            derived = reference.properties["openslide.vendor"] == "hamamatsu" and level >= 4
            for _ in range(6):
                size = tuple(int(v) for v in rng.integers(1, 300, 2))
                lx, ly = int(rng.integers(-60, max(width, 2))), int(rng.integers(-60, max(height, 2)))
                location = (round(lx * downsample), round(ly * downsample))
                try:
                    want = np.asarray(reference.read_region(location, level, size)).astype(int)
                except openslide.OpenSlideError:
                    pytest.skip("OpenSlide cannot read its pixels")
                got = np.asarray(slide.read_region(location, level, size)).astype(int)
                assert got.shape == want.shape
                if float(downsample).is_integer() and not derived:
                    np.testing.assert_array_equal(got, want)  # the same codec: the same pixels
                elif derived:  # OpenSlide scales the JPEG's IDCT; we average blocks of the smallest level
                    assert np.abs(got - want).max() <= 16 and np.abs(got - want).mean() < 1
                else:  # OpenSlide resamples at fractional level coordinates; we take the nearest pixel
                    inside = (want[..., 3] == 255) & (got[..., 3] == 255)
                    assert np.abs(got - want)[inside].mean() < 12


@pytest.mark.parametrize("relpath", PATHS)
def test_deep_zoom_numbers(relpath):
    reference, slide = _pair(relpath)
    with reference, slide:
        for kwargs in ({}, {"tile_size": 126, "overlap": 0}, {"tile_size": 510, "overlap": 2, "limit_bounds": True}):
            ours, theirs = DeepZoomGenerator(slide, **kwargs), ReferenceDeepZoom(reference, **kwargs)
            assert (ours.level_count, ours.tile_count, ours.level_tiles, ours.level_dimensions) == (
                theirs.level_count,
                theirs.tile_count,
                theirs.level_tiles,
                theirs.level_dimensions,
            )
            assert ours.get_dzi("jpeg") == theirs.get_dzi("jpeg")
            for level in range(ours.level_count):
                columns, rows = ours.level_tiles[level]
                for address in {(0, 0), (columns - 1, rows - 1), (columns // 2, rows // 2)}:
                    assert ours.get_tile_coordinates(level, address) == theirs.get_tile_coordinates(level, address)
                    assert ours.get_tile_dimensions(level, address) == theirs.get_tile_dimensions(level, address)
            last = ours.level_count - 1
            try:
                expected = theirs.get_tile(last, (0, 0))
            except openslide.OpenSlideError:
                break  # OpenSlide cannot read these samples (32-bit, 12-bit), and its errors latch: done
            assert ours.get_tile(last, (0, 0)).size == expected.size

"""JPEG tiles of a slide decoded straight to RGBA (``codecs.jpeg.decode_rgba``) give tifffile's pixels, opaque:
RGB (Aperio-style, no JFIF) and YCbCr streams, 4:2:0 and 4:4:4, edge tiles cut by the image, patches across tiles
and the batch call; a tile the direct path cannot take (broken, cut by the end of the file) goes the general way,
whose errors and warnings name it."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

import tiffstream.slide as ts
from tiffstream.cpu import rgba
from tiffstream.errors import TruncatedDataWarning

VARIANTS = {  # name: tifffile options
    "ycbcr 4:2:0": {"photometric": "ycbcr", "subsampling": (2, 2)},
    "ycbcr 4:4:4": {"photometric": "ycbcr", "subsampling": (1, 1)},
    "rgb": {"photometric": "rgb"},
}


def _slide(folder: pathlib.Path, name: str) -> tuple[pathlib.Path, np.ndarray]:
    """A 300x420 RGB level in 128x128 JPEG tiles (edge tiles cut on both sides) and tifffile's pixels of it."""
    rng = np.random.default_rng(3)
    y, x = np.ogrid[0:300, 0:420]
    base = np.stack([120 + 70 * np.sin(x / (9.0 + c)) * np.cos(y / 13.0) for c in range(3)], -1)
    data = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    path = folder / f"{name.replace(' ', '_').replace(':', '')}.tif"
    tifffile.imwrite(path, data, tile=(128, 128), compression="jpeg", metadata=None, **VARIANTS[name])
    return path, tifffile.imread(path)


def _general_only(monkeypatch) -> None:
    monkeypatch.setattr(rgba, "rgba_direct", lambda plan: False)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_direct_rgba_tiles_equal_tifffile(tmp_path, monkeypatch, name):
    path, expected = _slide(tmp_path, name)
    calls = []
    direct = rgba.decode_rgba
    monkeypatch.setattr(rgba, "decode_rgba", lambda *args: calls.append(1) or direct(*args))
    places = [(0, 0), (100, 90), (330, 250), (400, 280)]  # inside a tile, across four, at the cut edges
    with ts.OpenSlide(path) as slide:
        for x, y in places:
            got = np.asarray(slide.read_region((x, y), 0, (64, 48)))
            inside = expected[y : y + 48, x : x + 64]
            np.testing.assert_array_equal(got[: inside.shape[0], : inside.shape[1], :3], inside)
            assert (got[: inside.shape[0], : inside.shape[1], 3] == 255).all()
            assert (got[inside.shape[0] :] == 0).all() and (got[:, inside.shape[1] :] == 0).all()
        batch = slide.read_regions(places, 0, (64, 48))
    assert len(calls) == 8  # each tile the patches touch, once, by the direct path (the batch finds them cached)
    with ts.OpenSlide(path) as slide:
        for patch, (x, y) in zip(batch, places):
            np.testing.assert_array_equal(patch, np.asarray(slide.read_region((x, y), 0, (64, 48))))
    _general_only(monkeypatch)
    with ts.OpenSlide(path) as slide:
        for patch, (x, y) in zip(batch, places):
            np.testing.assert_array_equal(patch, np.asarray(slide.read_region((x, y), 0, (64, 48))))


def _tile_bytes(path: pathlib.Path, index: int) -> tuple[int, int]:
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].dataoffsets[index], tif.pages[0].databytecounts[index]


def test_a_broken_tile_fails_as_in_the_general_path(tmp_path):
    path, _ = _slide(tmp_path, "ycbcr 4:2:0")
    offset, _ = _tile_bytes(path, 5)  # row 1, column 1
    with open(path, "r+b") as file:
        file.seek(offset + 2)
        file.write(b"\xff\xd9" * 8)  # an end of image where the frame header was
    with ts.OpenSlide(path) as slide:
        np.asarray(slide.read_region((0, 0), 0, (100, 100)))  # tile 0 is whole
        with pytest.raises(ts.OpenSlideError, match=r"ycbcr_420\.tif: chunk 5 \(JPEG"):
            slide.read_region((130, 130), 0, (10, 10))


def test_a_tile_cut_by_the_end_of_the_file_goes_the_general_way(tmp_path):
    path, _ = _slide(tmp_path, "rgb")
    offset, nbytes = _tile_bytes(path, 11)  # the last tile
    with open(path, "r+b") as file:
        file.truncate(offset + nbytes // 2)
    with ts.OpenSlide(path) as slide, pytest.warns(TruncatedDataWarning):
        got = np.asarray(slide.read_region((384, 256), 0, (36, 44)))
    assert got.shape == (44, 36, 4)

"""openslide-python's API contract: errors where it raises them, ImageSlide, thumbnails, and slides
OpenSlide does not open (OME-TIFF pyramids)."""

from __future__ import annotations

import ctypes
import pathlib

import numpy as np
import pytest
import tifffile

import tiffstream.slide as ts

PIL = pytest.importorskip("PIL")


@pytest.fixture
def pyramid(tmp_path) -> pathlib.Path:
    path = tmp_path / "pyramid.tif"
    data = np.random.default_rng(5).integers(0, 255, (256, 320, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(64, 64), photometric="rgb", metadata=None)
        writer.write(data[::2, ::2], tile=(64, 64), photometric="rgb", subfiletype=1, metadata=None)
    return path


def test_paths_of_every_kind_and_errors(pyramid, tmp_path):
    for argument in (str(pyramid), pyramid, str(pyramid).encode()):
        with ts.OpenSlide(argument) as slide:
            assert slide.level_dimensions == ((320, 256), (160, 128)) and slide.dimensions == (320, 256)
    with pytest.raises(ctypes.ArgumentError):
        ts.OpenSlide(3)
    (tmp_path / "not.tif").write_bytes(b"not a tiff")
    for bad in (tmp_path / "not.tif", tmp_path / "missing.tif"):
        with pytest.raises(ts.OpenSlideUnsupportedFormatError):
            ts.OpenSlide(bad)
        assert ts.OpenSlide.detect_format(bad) is None
    slide = ts.OpenSlide(pyramid)
    with pytest.raises(ts.OpenSlideError):
        slide.read_region((0, 0), 0, (-1, 5))
    assert np.asarray(slide.read_region((0, 0), 7, (4, 4))).max() == 0  # a level that does not exist
    with pytest.raises(TypeError):
        slide.set_cache(object())
    slide.set_cache(ts.OpenSlideCache(1 << 20))
    slide.close()
    with pytest.raises(ctypes.ArgumentError):
        _ = slide.level_count
    with pytest.raises(ctypes.ArgumentError):
        slide.read_region((0, 0), 0, (1, 1))


def test_read_region_is_rgba_and_transparent_outside(pyramid):
    data = tifffile.imread(pyramid)
    with ts.OpenSlide(pyramid) as slide:
        region = slide.read_region((300, -10), 0, (40, 30))
        assert region.mode == "RGBA" and region.size == (40, 30)
        pixels = np.asarray(region)
        np.testing.assert_array_equal(pixels[10:, :20, :3], data[:20, 300:320])
        assert (pixels[10:, :20, 3] == 255).all() and (pixels[:10] == 0).all() and (pixels[:, 20:] == 0).all()
        level1 = np.asarray(slide.read_region((64, 32), 1, (16, 16)))[:, :, :3]
        np.testing.assert_array_equal(level1, data[::2, ::2][16:32, 32:48])
        thumb = slide.get_thumbnail((80, 80))
        assert thumb.mode == "RGB" and max(thumb.size) == 80
        assert slide.properties["openslide.vendor"] == "generic-tiff"


def test_ome_pyramid_opens_beyond_openslide(tmp_path):
    path = tmp_path / "pyramid.ome.tif"
    data = np.random.default_rng(6).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, subifds=1, tile=(32, 32), photometric="rgb", metadata={"axes": "YXS"})
        writer.write(data[::2, ::2], tile=(32, 32), photometric="rgb", subfiletype=1)
    assert ts.OpenSlide.detect_format(path) == "ome-tiff"
    with ts.open_slide(path) as slide:
        assert slide.level_dimensions == ((128, 128), (64, 64))
        np.testing.assert_array_equal(np.asarray(slide.read_region((0, 0), 1, (64, 64)))[:, :, :3], data[::2, ::2])


def test_open_slide_falls_back_to_image_slide(tmp_path):
    from PIL import Image

    path = tmp_path / "picture.png"
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(path)
    with ts.open_slide(path) as slide:
        assert isinstance(slide, ts.ImageSlide) and slide.dimensions == (30, 20)
        region = np.asarray(slide.read_region((25, 15), 0, (10, 10)))
        assert (region[:5, :5] == (200, 200, 200, 255)).all() and (region[5:, :] == 0).all()
        assert ts.ImageSlide.detect_format(path) == "PNG"


def test_read_regions_equals_read_region_one_by_one(pyramid):
    locations = [(0, 0), (250, 200), (-20, 10), (100, 37)]
    with ts.OpenSlide(pyramid) as slide:
        batch = slide.read_regions(locations, 1, (48, 40), max_workers=2)
        assert batch.shape == (4, 40, 48, 4)
        for patch, location in zip(batch, locations, strict=True):
            np.testing.assert_array_equal(patch, np.asarray(slide.read_region(location, 1, (48, 40))))
        with pytest.raises(ValueError, match="device"):
            slide.read_regions(locations, 1, (48, 40), device="gpu")


def test_multichannel_qptiff_channels(tmp_path):
    path = tmp_path / "slide.qptiff"
    xml = "<?xml version='1.0'?><PerkinElmer-QPI-ImageDescription><Name>{}</Name></PerkinElmer-QPI-ImageDescription>"
    planes = np.random.default_rng(8).integers(0, 4000, (3, 96, 80), dtype=np.uint16)
    with tifffile.TiffWriter(path) as writer:
        for plane, name in zip(planes, ("DAPI", "FITC", "Cy5"), strict=True):
            writer.write(plane, tile=(32, 32), software="PerkinElmer-QPI", description=xml.format(name), metadata=None)
        writer.write(np.zeros((16, 16, 3), np.uint8), photometric="rgb", software="PerkinElmer-QPI", metadata=None)
    assert ts.OpenSlide.detect_format(path) == "qptiff"
    with ts.OpenSlide(path) as slide:
        assert slide.channel_names == ["DAPI", "FITC", "Cy5"] and list(slide.associated_images) == ["thumbnail"]
        region = slide.read_region((70, -4), 0, (20, 10), as_array=True)
        assert region.shape == (10, 20, 3) and region.dtype == np.uint16
        np.testing.assert_array_equal(region[4:, :10], np.moveaxis(planes[:, :6, 70:80], 0, -1))
        assert (region[:4] == 0).all() and (region[:, 10:] == 0).all()
        assert slide.read_region((0, 0), 0, (8, 8)).mode == "RGBA"  # the first channel, shown in gray


def test_remote_slide_through_fsspec(pyramid):
    fsspec = pytest.importorskip("fsspec")
    url = "memory://slides/pyramid.tif"
    with fsspec.open(url, "wb") as handle:
        handle.write(pyramid.read_bytes())
    with ts.OpenSlide(url) as remote, ts.OpenSlide(pyramid) as local:
        assert remote.level_dimensions == local.level_dimensions
        np.testing.assert_array_equal(
            np.asarray(remote.read_region((37, 11), 1, (50, 40))), np.asarray(local.read_region((37, 11), 1, (50, 40)))
        )


def test_jpeg2000_levels_leave_the_gpu_batch_to_the_host(tmp_path):
    """read_regions(device="cuda") reads JPEG 2000 levels on host threads (faster than nvJPEG2000, measured):
    the device path declines them before touching the GPU or the decoder; other levels it takes."""
    from tiffstream.slide._device import read_on_device

    class NoDecoder:
        def decode_plans(self, items):
            raise AssertionError("the GPU batch was used")

    data = np.random.default_rng(4).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    for compression, declined in (("jpeg2000", True), ("zlib", False)):
        path = tmp_path / f"{compression}.tif"
        tifffile.imwrite(path, data, tile=(64, 64), photometric="rgb", compression=compression, metadata=None)
        with ts.OpenSlide(path) as slide:
            windows = [slide._window((0, 0), 0, (32, 32))]
            if declined:
                assert read_on_device(NoDecoder(), slide._levels[0], windows, (32, 32)) is None
            else:
                with pytest.raises((AssertionError, ImportError)):  # no CuPy here, or the decoder is asked
                    read_on_device(NoDecoder(), slide._levels[0], windows, (32, 32))


def test_patch_arrays_are_the_callers_own(pyramid):
    """A patch inside the level comes back without a copy of its own: writing to it must not reach the tile
    cache (the next read of the same place is unchanged)."""
    with ts.OpenSlide(pyramid) as slide:
        first = slide.read_region_array((100, 37), 0, (48, 40))
        kept = first.copy()
        first[...] = 7
        np.testing.assert_array_equal(slide.read_region_array((100, 37), 0, (48, 40)), kept)
        assert kept[..., 3].min() == 255  # inside the level: opaque
        outside = slide.read_region_array((-(10**6), -(10**6)), 0, (48, 40))
        assert outside.shape == (40, 48, 4) and not outside.any()  # outside the level: transparent


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (3, 5), (256, 256)])
def test_paste_rgb_into_rgba_equals_the_plain_copy(shape: tuple[int, int]) -> None:
    """The word-at-a-time RGB -> RGBA paste equals two plain copies, for contiguous and strided inputs."""
    from tiffstream.slide._levels import paste

    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    for shown in (rgb, rgb[:, ::-1], rgba):
        expected = np.empty((*shape, 4), np.uint8)
        expected[:, :, :3] = shown[:, :, :3]
        expected[:, :, 3] = shown[:, :, 3] if shown.shape[2] == 4 else 255
        got = np.zeros((*shape, 4), np.uint8)
        paste(got, shown)
        np.testing.assert_array_equal(got, expected)
        wide = np.zeros((shape[0], shape[1] + 2, 4), np.uint8)  # into a strided part of a larger patch
        paste(wide[:, 1:-1], shown)
        np.testing.assert_array_equal(wide[:, 1:-1], expected)
        assert not wide[:, [0, -1]].any()

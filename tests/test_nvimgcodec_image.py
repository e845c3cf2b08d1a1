"""nvImageCodec 0.9's Image attributes and buffer wrapping (as_image, as_images, from_dlpack), on the host."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

import tiffstream as nvimgcodec


def test_decoded_image_attributes(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "gray16.tif"
    data = np.arange(20 * 30, dtype=np.uint16).reshape(20, 30)
    tifffile.imwrite(path, data, photometric="minisblack")
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    stream = nvimgcodec.CodeStream(str(path))
    rgb = decoder.decode(stream)
    assert rgb.color_spec == nvimgcodec.ColorSpec.SRGB and rgb.sample_format == nvimgcodec.SampleFormat.I_RGB
    assert rgb.device_id is None and rgb.cuda_stream is None and rgb.capacity == rgb.size == 20 * 30 * 3
    params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    stored = decoder.decode(stream, params)
    assert stored.color_spec == nvimgcodec.ColorSpec.GRAY and stored.sample_format == nvimgcodec.SampleFormat.I_Y
    assert type(stored.to_dlpack()).__name__ == "PyCapsule"
    np.testing.assert_array_equal(np.from_dlpack(stored)[:, :, 0], data)
    np.testing.assert_array_equal(np.asarray(nvimgcodec.from_dlpack(stored))[:, :, 0], data)


def test_as_image_wraps_without_copying() -> None:
    buffer = np.zeros((8, 9, 3), np.uint8)
    image = nvimgcodec.as_image(buffer)
    buffer[1, 2, 0] = 7
    assert np.asarray(image)[1, 2, 0] == 7 and image.shape == (8, 9, 3)
    assert image.buffer_kind == nvimgcodec.ImageBufferKind.STRIDED_HOST
    assert image.sample_format == nvimgcodec.SampleFormat.I_RGB
    gray = nvimgcodec.as_image(np.zeros((4, 5), np.uint16), sample_format=nvimgcodec.SampleFormat.I_Y, precision=12)
    assert gray.shape == (4, 5, 1) and gray.color_spec == nvimgcodec.ColorSpec.GRAY and gray.precision == 12
    images = nvimgcodec.as_images([buffer, buffer[:, :, :1]])
    assert [im.num_channels for im in images] == [3, 1]
    assert nvimgcodec.from_dlpack(buffer).shape == (8, 9, 3)
    with pytest.raises(TypeError):
        nvimgcodec.as_image("not a buffer")
    with pytest.raises(nvimgcodec.BackendUnavailableError):
        nvimgcodec.as_image(buffer, sample_format=nvimgcodec.SampleFormat.P_RGB)


def test_a_failed_image_of_a_batch_is_none_with_on_error_none(tmp_path: pathlib.Path) -> None:
    good, bad = tmp_path / "good.tif", tmp_path / "bad.tif"
    data = np.random.default_rng(4).integers(0, 255, (64, 64), dtype=np.uint8)
    tifffile.imwrite(good, data, compression="zlib", photometric="minisblack")
    tifffile.imwrite(bad, data, compression="zlib", photometric="minisblack")
    with tifffile.TiffFile(bad) as tif:
        offset, count = tif.pages[0].dataoffsets[0], tif.pages[0].databytecounts[0]
    raw = bytearray(bad.read_bytes())
    raw[offset : offset + count] = b"\xff" * count  # not a zlib stream any more
    bad.write_bytes(bytes(raw))
    streams = [nvimgcodec.CodeStream(str(p)) for p in (good, bad, good)]
    params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED)
    strict = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    with pytest.raises(nvimgcodec.TiffError, match="image 1"):
        strict.decode(streams, params)
    lenient = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY], on_error="none")
    images = lenient.decode(streams, params)
    assert images[1] is None and list(lenient.last_errors) == [1]
    assert "image 1" in str(lenient.last_errors[1])
    for image in (images[0], images[2]):
        np.testing.assert_array_equal(np.asarray(image)[:, :, 0], data)
    with pytest.raises(nvimgcodec.TiffError):
        lenient.decode(streams[1], params)  # a single decode still raises
    with pytest.raises(ValueError, match="on_error"):
        nvimgcodec.Decoder(on_error="ignore")


def test_decode_into_images(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "gray.tif"
    data = np.random.default_rng(5).integers(0, 255, (20, 30), dtype=np.uint8)
    tifffile.imwrite(path, data, photometric="minisblack")
    decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY])
    params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED)
    stream = nvimgcodec.CodeStream(str(path))
    buffer = np.zeros((20, 30, 1), np.uint8)
    target = nvimgcodec.as_image(buffer)
    assert decoder.decode(stream, params, image=target) is target
    np.testing.assert_array_equal(buffer[:, :, 0], data)  # into the caller's buffer
    with pytest.raises(ValueError, match="decode into"):
        decoder.decode(stream, image=target)  # RGB does not fit a one-channel buffer
    made = decoder.decode(stream)  # a decoder-made image is resized
    again = decoder.decode([stream], params, images=[made])
    assert again[0] is made and made.shape == (20, 30, 1)

"""nvImageCodec 0.9's Encoder: TIFF through our writer, JPEG / JPEG 2000 / PNG / WebP / BMP through imagecodecs;
each read back by an independent reader (tifffile, imagecodecs)."""

from __future__ import annotations

import pathlib

import imagecodecs
import numpy as np
import pytest
import tifffile

import tiffstream as nvimgcodec

RGB = np.random.default_rng(6).integers(0, 255, (48, 64, 3), dtype=np.uint8)
_Y, _X = np.mgrid[0:48, 0:64]
SMOOTH = np.stack([_Y * 4, _X * 3, (_X + _Y) * 2], axis=-1).astype(np.uint8)  # what JPEG keeps well


@pytest.mark.parametrize(
    ("codec", "decode"),
    [(".png", imagecodecs.png_decode), ("webp", imagecodecs.webp_decode), ("bmp", imagecodecs.bmp_decode)],
)
def test_lossless_plain_codecs(codec: str, decode) -> None:
    params = nvimgcodec.EncodeParams(quality_type=nvimgcodec.QualityType.LOSSLESS)
    stream = nvimgcodec.Encoder().encode(RGB, codec, params=params)
    np.testing.assert_array_equal(decode(bytes(stream)), RGB)


def test_jpeg_and_jpeg2000() -> None:
    encoder = nvimgcodec.Encoder()
    quality = nvimgcodec.EncodeParams(quality_type=nvimgcodec.QualityType.QUALITY, quality_value=90)
    jpeg = encoder.encode(nvimgcodec.as_image(SMOOTH), "jpeg", params=quality)
    assert jpeg.codec_name == "jpeg" and (jpeg.width, jpeg.height) == (64, 48)
    assert np.abs(imagecodecs.jpeg8_decode(bytes(jpeg)).astype(int) - SMOOTH).mean() < 3
    lossless = nvimgcodec.EncodeParams(
        quality_type=nvimgcodec.QualityType.LOSSLESS,
        jpeg2k_encode_params=nvimgcodec.Jpeg2kEncodeParams(bitstream_type=nvimgcodec.Jpeg2kBitstreamType.J2K),
    )
    j2k = encoder.encode(RGB, "jpeg2k", params=lossless)
    assert bytes(j2k)[:2] == b"\xff\x4f"  # a raw codestream, not JP2
    np.testing.assert_array_equal(imagecodecs.jpeg2k_decode(bytes(j2k)), RGB)


def test_tiff_tiles_compression_and_pyramid(tmp_path: pathlib.Path) -> None:
    gray = np.random.default_rng(7).integers(0, 4000, (96, 80), dtype=np.uint16)
    params = nvimgcodec.EncodeParams(
        tile_width=32, tile_height=32, tiff_compression="zstd", predictor=True, pyramid_levels=2
    )
    path = nvimgcodec.Encoder().write(tmp_path / "out.tif", gray, params=params)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.is_tiled and page.compression == 50000 and page.predictor == 2 and len(page.subifds) == 2
        np.testing.assert_array_equal(page.asarray(), gray)
    stream = nvimgcodec.Encoder().encode(gray, "tiff")
    decoded = nvimgcodec.Decoder().decode(
        stream, nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    )
    np.testing.assert_array_equal(np.asarray(decoded)[:, :, 0], gray)


def test_lists_and_errors(tmp_path: pathlib.Path) -> None:
    names = nvimgcodec.Encoder().write([tmp_path / "a.png", tmp_path / "b.jpg"], [RGB, RGB])
    assert [pathlib.Path(name).name for name in names] == ["a.png", "b.jpg"]
    assert imagecodecs.jpeg8_decode((tmp_path / "b.jpg").read_bytes()).shape == RGB.shape
    with pytest.raises(nvimgcodec.UnsupportedTiffError, match="no encoder"):
        nvimgcodec.Encoder().encode(RGB, "gif")
    lenient = nvimgcodec.Encoder(on_error="none")
    assert lenient.encode([RGB, "not an image"], "png")[1] is None

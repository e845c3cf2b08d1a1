"""nvImageCodec's decoding API on the CPU backend: Decoder, DecodeParams, ColorSpec, Image."""

from __future__ import annotations

import io
import pathlib

import imagecodecs
import numpy as np
import pytest
import tifffile
from conftest import Recipe

import tiffstream as nvimgcodec

UNCHANGED = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)


@pytest.fixture(scope="module")
def decoder():
    with nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.CPU_ONLY]) as dec:
        yield dec


def test_decode_current_image_of_a_stream(decoder, seed_like_file: pathlib.Path) -> None:
    stream = nvimgcodec.CodeStream(str(seed_like_file))
    with tifffile.TiffFile(seed_like_file) as reference:
        for index in (0, 31, 191):
            image = decoder.decode(stream.get_sub_code_stream(image_idx=index), params=UNCHANGED)
            np.testing.assert_array_equal(np.asarray(image)[:, :, 0], reference.pages[index].asarray())
        first = decoder.decode(stream)  # image 0 only, not every image of the file
        assert first.shape == (40, 36, 3)
        level = nvimgcodec.CodeStream(str(seed_like_file), bitstream_offset=reference.pages[31].subifds[1])
        np.testing.assert_array_equal(
            np.asarray(decoder.decode(level, params=UNCHANGED))[:, :, 0], reference.pages[31].pages[1].asarray()
        )


def test_batch_decode(decoder, seed_like_file: pathlib.Path) -> None:
    stream = nvimgcodec.CodeStream(str(seed_like_file), limit_images=10)
    images = decoder.decode([stream.get_sub_code_stream(image_idx=i) for i in range(10)], params=UNCHANGED)
    expected = tifffile.imread(seed_like_file, key=range(10))
    assert len(images) == 10
    for image, page in zip(images, expected):
        np.testing.assert_array_equal(np.asarray(image)[:, :, 0], page)


def test_region_decode(decoder, tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(1, 70, 90), dtype="uint16", tile=(32, 32), compression="zlib"))
    stream = nvimgcodec.CodeStream(str(path)).get_sub_code_stream(region=nvimgcodec.Region(5, 10, 60, 77))
    image = decoder.decode(stream, params=UNCHANGED)
    np.testing.assert_array_equal(np.asarray(image)[:, :, 0], tifffile.imread(path)[5:60, 10:77])


def test_image_is_zero_copy_and_hwc(decoder, tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(30, 20, 3), photometric="rgb", compression="lzw"))
    image = decoder.decode(nvimgcodec.CodeStream(str(path)))
    array = np.asarray(image)
    assert image.shape == array.shape == (30, 20, 3) and image.dtype == np.uint8
    assert np.shares_memory(array, image.numpy())  # zero-copy
    assert image.cpu() is image and image.buffer_kind == nvimgcodec.ImageBufferKind.STRIDED_HOST
    assert image.strides == array.strides
    np.testing.assert_array_equal(np.from_dlpack(image), tifffile.imread(path))
    assert image.__dlpack_device__() == (1, 0)


def test_allow_any_depth_and_scaling(decoder, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "u16.tif"
    data = np.array([[0, 1, 257, 65535], [32768, 100, 200, 40000]], np.uint16)
    tifffile.imwrite(path, data)
    stream = nvimgcodec.CodeStream(str(path))
    kept = decoder.decode(
        stream, params=nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    )
    assert kept.dtype == np.uint16 and kept.precision == 0
    np.testing.assert_array_equal(np.asarray(kept)[:, :, 0], data)
    scaled = decoder.decode(stream, params=nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED))
    assert scaled.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(scaled)[:, :, 0], np.rint(data / 257.0).astype(np.uint8))
    gray = decoder.decode(stream, params=nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.GRAY))
    assert gray.shape == (2, 4, 1)
    rgb = decoder.decode(stream)
    assert rgb.shape == (2, 4, 3) and (np.asarray(rgb)[:, :, 0] == np.asarray(rgb)[:, :, 2]).all()


def test_twelve_bit_precision(decoder, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "u12.tif"
    data = np.array([[0, 4095, 2048]], np.uint16)
    tifffile.imwrite(path, data, bitspersample=12)
    image = decoder.decode(nvimgcodec.CodeStream(str(path)), params=UNCHANGED)
    assert image.precision == 12 and nvimgcodec.CodeStream(str(path)).precision == 12
    scaled = decoder.decode(nvimgcodec.CodeStream(str(path)))
    assert np.asarray(scaled)[0, :, 0].tolist() == [0, 255, 128]


def test_palette_and_miniswhite_to_srgb(decoder, tmp_path: pathlib.Path) -> None:
    palette = tmp_path / "palette.tif"
    colormap = np.zeros((3, 256), np.uint16)
    colormap[0, 1], colormap[1, 2], colormap[2, 3] = 65535, 65535, 257 * 10
    indices = np.array([[0, 1, 2, 3]], np.uint8)
    tifffile.imwrite(palette, indices, photometric="palette", colormap=colormap)
    rgb = np.asarray(decoder.decode(nvimgcodec.CodeStream(str(palette))))
    assert rgb[0].tolist() == [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 10]]
    assert np.asarray(decoder.decode(nvimgcodec.CodeStream(str(palette)), params=UNCHANGED))[0, :, 0].tolist() == [
        0,
        1,
        2,
        3,
    ]
    white = tmp_path / "white.tif"
    tifffile.imwrite(white, np.array([[0, 255, 10]], np.uint8), photometric="miniswhite")
    inverted = np.asarray(decoder.decode(nvimgcodec.CodeStream(str(white))))
    assert inverted[0, :, 0].tolist() == [255, 0, 245]


def test_cmyk_to_srgb(decoder, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cmyk.tif"
    cmyk = np.array([[[0, 0, 0, 0], [255, 0, 0, 0], [0, 0, 0, 255], [100, 50, 0, 55]]], np.uint8)
    tifffile.imwrite(path, cmyk, photometric="separated")
    rgb = np.asarray(decoder.decode(nvimgcodec.CodeStream(str(path))))
    assert rgb[0].tolist() == [[255, 255, 255], [0, 255, 255], [0, 0, 0], [(155 * 200) // 255, (205 * 200) // 255, 200]]


def test_planar_separate_is_interleaved(decoder, tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(29, 31, 3), planar="separate", compression="zlib", rowsperstrip=6))
    image = decoder.decode(nvimgcodec.CodeStream(str(path)), params=UNCHANGED)
    np.testing.assert_array_equal(np.asarray(image), np.moveaxis(tifffile.imread(path), 0, -1))


def test_read(decoder, tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(30, 20, 3), photometric="rgb", compression="lzw"))
    np.testing.assert_array_equal(np.asarray(decoder.read(str(path))), tifffile.imread(path))
    assert len(decoder.read([str(path), str(path)])) == 2


def test_gpu_only_falls_back_with_one_warning(monkeypatch, seed_like_file: pathlib.Path) -> None:
    monkeypatch.delenv("TIFFSTREAM_STRICT_BACKENDS", raising=False)
    with pytest.warns(RuntimeWarning, match="decoding on the CPU"):
        decoder = nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.GPU_ONLY])
    image = decoder.decode(nvimgcodec.CodeStream(str(seed_like_file)), params=UNCHANGED)
    assert image.shape == (40, 36, 1)
    decoder.close()
    monkeypatch.setenv("TIFFSTREAM_STRICT_BACKENDS", "1")
    with pytest.raises(nvimgcodec.BackendUnavailableError):
        nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)])
    assert nvimgcodec.Decoder(backends=[nvimgcodec.BackendKind.HYBRID_CPU_GPU]).backends


def test_failed_decode_names_file_image_and_chunk(decoder, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, np.arange(4096, dtype=np.uint16).reshape(64, 64), tile=(32, 32), compression="zlib")
    raw = bytearray(path.read_bytes())
    with nvimgcodec.open(path) as tif:
        chunk = tif.pages[0].plan.chunks[2]
    raw[chunk.offset : chunk.offset + chunk.nbytes] = b"\x00" * chunk.nbytes
    good = nvimgcodec.CodeStream(path.read_bytes())
    bad = nvimgcodec.CodeStream(bytes(raw))
    with pytest.raises(nvimgcodec.DecodeError) as info:
        decoder.decode([good, bad])
    message = str(info.value)
    assert "image 1" in message and f"chunk {chunk.index}" in message and info.value.offset == chunk.offset
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize(
    ("encode", "codec_name"),
    [
        (lambda a: imagecodecs.jpeg8_encode(a, level=95), "jpeg"),
        (imagecodecs.png_encode, "png"),
        (lambda a: imagecodecs.webp_encode(a, lossless=True), "webp"),
        (lambda a: imagecodecs.jpeg2k_encode(a, level=0), "jpeg2k"),
        (imagecodecs.bmp_encode, "bmp"),
    ],
)
def test_plain_image_files(decoder, encode, codec_name: str) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (24, 40, 3), dtype=np.uint8)
    data = encode(pixels)
    stream = nvimgcodec.CodeStream(data)
    assert stream.codec_name == codec_name and stream.subifd_offsets == [] and stream.num_images == 1
    assert (stream.height, stream.width, stream.num_channels) == (24, 40, 3)
    image = np.asarray(decoder.decode(stream))
    expected = np.asarray(imagecodecs.imread(io.BytesIO(data).getvalue()))
    np.testing.assert_array_equal(image, expected[:, :, :3])
    with pytest.raises(TypeError):
        stream.get_sub_code_stream(bitstream_offset=8)


@pytest.mark.parametrize("enabled", [True, False])
def test_collection_is_paused_while_planning_and_restored(
    decoder, seed_like_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    """A batch's plans are built with the cyclic GC paused; its state afterwards is what it was, after errors too."""
    import gc

    seen: list[bool] = []
    choose = nvimgcodec.Decoder._choose

    def spy(self, *args):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        if len(seen) == 5:  # the second batch fails while planning its second image
            raise RuntimeError("planning failed")
        return choose(self, *args)

    monkeypatch.setattr(nvimgcodec.Decoder, "_choose", spy)
    streams = [nvimgcodec.CodeStream(str(seed_like_file)).get_sub_code_stream(image_idx=i) for i in range(3)]
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        decoder.decode(streams)
        assert seen == [False] * 3 and gc.isenabled() is enabled
        with pytest.raises(RuntimeError, match="planning failed"):
            decoder.decode(streams)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()

"""nvImageCodec 0.9's CodeStream names and its one-image views (``tiffstream.nvimgcodec09``), beside 0.8's
meaning that plain ``tiffstream`` keeps; offsets checked against tifffile's."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

import tiffstream
import tiffstream.nvimgcodec09 as nv09


def _offsets(path: pathlib.Path) -> tuple[list[int], list[list[int]]]:
    with tifffile.TiffFile(path) as tif:
        pages = [tif.pages[i] for i in range(len(tif.pages))]
        return [page.offset for page in pages], [list(page.subifds or []) for page in pages]


def test_ifd_offsets_and_buffer(seed_like_file: pathlib.Path) -> None:
    offsets, subifds = _offsets(seed_like_file)
    stream = tiffstream.CodeStream(str(seed_like_file))
    for index in (0, 1, 31, len(offsets) - 1):
        sub = stream.get_sub_code_stream(index)
        assert sub.ifd_offset == offsets[index]
        assert sub.next_ifd_offset == (offsets[index + 1] if index + 1 < len(offsets) else None)
    level = stream.get_sub_code_stream(bitstream_offset=subifds[3][0])
    assert level.ifd_offset == subifds[3][0] and level.next_ifd_offset == subifds[3][1]  # tifffile chains levels
    data = seed_like_file.read_bytes()
    assert stream.size == stream.capacity == len(data) and stream.pin_memory is False
    assert bytes(stream) == data
    assert stream.tile_offset_x == stream.tile_offset_y == 0


def test_bitstream_offset_zero_means_none(seed_like_file: pathlib.Path) -> None:
    root = tiffstream.CodeStream(str(seed_like_file), bitstream_offset=0)
    assert root.num_images == 192 and root.bitstream_offset == _offsets(seed_like_file)[0][0]
    assert root.get_sub_code_stream(5, None, 0).ifd_offset == _offsets(seed_like_file)[0][5]


def test_argument_order_of_nvimgcodec_0_9(seed_like_file: pathlib.Path) -> None:
    stream = tiffstream.CodeStream(str(seed_like_file))
    region = tiffstream.Region(2, 3, 10, 12)
    sub = stream.get_sub_code_stream(4, region)
    assert (sub.image_idx, sub.region) == (4, region)
    assert sub.view is not None and (sub.view.image_idx, sub.view.region, sub.view.bitstream_offset) == (
        4,
        region,
        None,
    )
    assert stream.view is None
    with pytest.raises(TypeError, match="second argument is the region"):
        stream.get_sub_code_stream(0, 12345)  # 0.8's positional offset
    subifd = _offsets(seed_like_file)[1][0][0]
    view = tiffstream.CodeStreamView(0, None, subifd)
    assert stream.get_sub_code_stream(view).ifd_offset == subifd
    limited = stream.get_sub_code_stream(limit_images=10)  # 0.8 by keyword
    assert limited.num_images == 10 and limited.next_bitstream_offset == _offsets(seed_like_file)[0][10]
    assert tiffstream.CodeStreamView(1, region, subifd, limit_images=3).limit_images == 3


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"photometric": "minisblack"}, ("GRAY", "P_Y", "CSS_GRAY")),
        ({"photometric": "rgb"}, ("SRGB", "I_RGB", "CSS_444")),
        ({"photometric": "rgb", "planarconfig": "separate"}, ("SRGB", "P_RGB", "CSS_444")),
        ({"photometric": "rgb", "compression": "jpeg", "subsampling": (2, 2)}, ("SRGB", "I_RGB", "CSS_420")),
        ({"photometric": "palette", "colormap": np.zeros((3, 256), np.uint16)}, ("PALETTE", "I_UNCHANGED", "CSS_GRAY")),
    ],
)
def test_color_spec_sample_format_chroma(tmp_path: pathlib.Path, options: dict, expected: tuple[str, str, str]) -> None:
    gray = options["photometric"] in ("minisblack", "palette")
    shape = (3, 32, 48) if options.get("planarconfig") else (32, 48) if gray else (32, 48, 3)
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8), **options)
    stream = tiffstream.CodeStream(str(path))
    color, layout, chroma = expected  # by value: I_UNCHANGED is I_AUTO_COMPONENTS, as in nvImageCodec
    assert stream.color_spec == tiffstream.ColorSpec[color]
    assert stream.sample_format == tiffstream.SampleFormat[layout]
    assert stream.chroma_subsampling == tiffstream.ChromaSubsampling[chroma]


def test_ycbcr_subsampling_reported(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ycbcr.tif"
    rgb = np.random.default_rng(1).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    tifffile.imwrite(path, rgb, photometric="ycbcr", subsampling=(2, 1), compression="jpeg")
    stream = tiffstream.CodeStream(str(path))
    assert stream.chroma_subsampling == tiffstream.ChromaSubsampling.CSS_422


def test_one_image_views_of_nvimgcodec_0_9(seed_like_file: pathlib.Path) -> None:
    offsets, subifds = _offsets(seed_like_file)
    root = nv09.CodeStream(str(seed_like_file))
    assert root.num_images == 192 and root.view is None
    sub = root.get_sub_code_stream(31)
    assert sub.num_images == 1 and sub.ifd_offset == offsets[31]
    assert sub.get_sub_code_stream(0).ifd_offset == offsets[31]  # a view of a view: the same image
    with pytest.raises(tiffstream.ImageIndexError):
        sub.get_sub_code_stream(1)
    level = nv09.CodeStream(str(seed_like_file), bitstream_offset=subifds[31][0])
    assert level.num_images == 1 and level.next_ifd_offset == subifds[31][1]
    with pytest.raises(tiffstream.ImageIndexError, match="image_idx must be 0"):
        root.get_sub_code_stream(1, None, subifds[31][0])
    paged = root.get_sub_code_stream(limit_images=10)  # 0.8's pagination keeps its meaning
    assert paged.num_images == 10
    # plain tiffstream keeps 0.8's: streams count the chain from where they start
    assert tiffstream.CodeStream(str(seed_like_file)).get_sub_code_stream(31).num_images == 192
    assert tiffstream.CodeStream(str(seed_like_file), bitstream_offset=subifds[31][0]).num_images == 2
    decoder = nv09.Decoder(backends=[nv09.BackendKind.CPU_ONLY])
    params = nv09.DecodeParams(color_spec=nv09.ColorSpec.UNCHANGED, allow_any_depth=True)
    with tifffile.TiffFile(seed_like_file) as tif:
        expected = tif.pages[31].pages[0].asarray()
    np.testing.assert_array_equal(np.asarray(decoder.decode(level, params))[:, :, 0], expected)


@pytest.mark.parametrize("fill", [0, 7])
def test_regions_outside_the_image_get_the_out_of_bounds_sample(seed_like_file: pathlib.Path, fill: int) -> None:
    with tifffile.TiffFile(seed_like_file) as tif:
        page = tif.pages[3].asarray()  # 40 x 36
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY])
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    stream = tiffstream.CodeStream(str(seed_like_file))
    region = tiffstream.Region(-5, 30, 10, 50, fill)
    assert region.out_of_bounds_samples == [fill] * 5
    got = np.asarray(decoder.decode(stream.get_sub_code_stream(3, region), params))[:, :, 0]
    expected = np.full((15, 20), fill, page.dtype)
    expected[5:, :6] = page[:10, 30:]
    np.testing.assert_array_equal(got, expected)
    whole = np.asarray(decoder.decode(stream.get_sub_code_stream(3, tiffstream.Region()), params))[:, :, 0]
    np.testing.assert_array_equal(whole, page)

"""CodeStream navigation with nvImageCodec's semantics, checked against tifffile's page and SubIFD offsets."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile
from _tiffbuild import many_tiny_pages
from conftest import Recipe

import tiffstream


def _ref_offsets(path: pathlib.Path) -> tuple[list[int], list[list[int]]]:
    with tifffile.TiffFile(path) as tif:
        pages = [tif.pages[i] for i in range(len(tif.pages))]
        return [p.offset for p in pages], [list(p.subifds or []) for p in pages]


def paginate(source, k: int) -> list[int]:
    """Walk the file k images at a time, as the seed does; returns the offsets of every image visited."""
    visited: list[int] = []
    stream = tiffstream.CodeStream(source, limit_images=k)
    while True:
        assert 1 <= stream.num_images <= k
        visited += [stream.get_sub_code_stream(image_idx=i).page.offset for i in range(stream.num_images)]
        nxt = stream.next_bitstream_offset
        if nxt is None:
            return visited
        assert stream.num_images == k
        stream = tiffstream.CodeStream(source, bitstream_offset=nxt, limit_images=k)


# -- the seed's walkthrough, on small look-alikes of its files ------------------------------------------------


def test_seed_part1_thumbnail(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(72, 72, 3), subifds=1, photometric="rgb"))
    stream = tiffstream.CodeStream(str(path))
    assert (stream.width, stream.height, stream.num_channels, stream.num_images) == (72, 72, 3, 1)
    _, ref_subifds = _ref_offsets(path)
    assert stream.subifd_offsets == ref_subifds[0] and len(stream.subifd_offsets) == 1
    thumb = stream.get_sub_code_stream(bitstream_offset=stream.subifd_offsets[0])
    assert (thumb.width, thumb.height, thumb.num_channels, thumb.num_images) == (36, 36, 3, 1)
    assert thumb.codec_name == "tiff" and thumb.dtype == np.uint8


def test_seed_part2_pagination(seed_like_file: pathlib.Path) -> None:
    offsets, _ = _ref_offsets(seed_like_file)
    stream = tiffstream.CodeStream(str(seed_like_file))
    assert stream.num_images == 192 and stream.next_bitstream_offset is None
    assert (stream.width, stream.height) == (36, 40)
    batch = tiffstream.CodeStream(str(seed_like_file), limit_images=10)
    for number in range(5):
        assert batch.num_images == 10
        assert batch.next_bitstream_offset == offsets[10 * (number + 1)]
        batch = tiffstream.CodeStream(
            str(seed_like_file), bitstream_offset=batch.next_bitstream_offset, limit_images=10
        )
    # image_idx counts from the stream's start offset, not from the start of the file
    assert batch.get_sub_code_stream(image_idx=2).page.offset == offsets[52]


def test_seed_part3_pyramid_levels(seed_like_file: pathlib.Path) -> None:
    offsets, subifds = _ref_offsets(seed_like_file)
    stream = tiffstream.CodeStream(str(seed_like_file))
    selected = stream.get_sub_code_stream(image_idx=31)
    assert selected.num_images == 192  # a sub stream keeps its parent's num_images...
    assert selected.page.offset == offsets[31]  # ...but stands for image 31
    assert selected.subifd_offsets == subifds[31] and len(subifds[31]) == 2
    sizes = [
        (
            tiffstream.CodeStream(str(seed_like_file), bitstream_offset=o).width,
            tiffstream.CodeStream(str(seed_like_file), bitstream_offset=o).height,
        )
        for o in selected.subifd_offsets
    ]
    assert sizes == [(18, 20), (9, 10)]
    # a SubIFD's own chain is followed: tifffile links level 1 to level 2
    level1 = stream.get_sub_code_stream(bitstream_offset=subifds[31][0])
    assert level1.num_images == 2 and level1.get_sub_code_stream(image_idx=1).page.offset == subifds[31][1]
    level2 = stream.get_sub_code_stream(bitstream_offset=subifds[31][1])
    assert level2.num_images == 1 and level2.next_bitstream_offset is None


# -- pagination invariants ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 7, 10, 64, 191, 192, 193, 1000])
def test_pagination_visits_every_page_once(seed_like_file: pathlib.Path, k: int) -> None:
    offsets, _ = _ref_offsets(seed_like_file)
    assert paginate(str(seed_like_file), k) == offsets


@pytest.mark.parametrize(
    "recipe",
    [
        Recipe(shape=(23, 16, 12), subifds=2, bigtiff=True, ome=True),
        Recipe(shape=(23, 16, 12), subifds=2, byteorder=">", ome=True),
        Recipe(shape=(23, 16, 12), subifds=1, bigtiff=True, byteorder=">", tile=(16, 16), compression="zlib"),
    ],
    ids=lambda r: r.id,
)
@pytest.mark.parametrize("k", [1, 4, 22, 23, 24])
def test_pagination_bigtiff_and_big_endian(tiff_factory, recipe: Recipe, k: int) -> None:
    path = tiff_factory(recipe)
    offsets, subifds = _ref_offsets(path)
    assert paginate(path.read_bytes(), k) == offsets
    stream = tiffstream.CodeStream(str(path))
    assert [stream.get_sub_code_stream(image_idx=i).subifd_offsets for i in range(len(offsets))] == subifds


def test_get_sub_code_stream_limit_images(seed_like_file: pathlib.Path) -> None:
    offsets, _ = _ref_offsets(seed_like_file)
    stream = tiffstream.CodeStream(str(seed_like_file))
    limited = stream.get_sub_code_stream(limit_images=10)
    assert limited.num_images == 10 and limited.next_bitstream_offset == offsets[10]
    resumed = stream.get_sub_code_stream(bitstream_offset=offsets[190], limit_images=10)
    assert resumed.num_images == 2 and resumed.next_bitstream_offset is None
    assert tiffstream.CodeStream(str(seed_like_file), limit_images=0).num_images == 192  # 0: no limit
    assert tiffstream.CodeStream(str(seed_like_file), limit_images=192).next_bitstream_offset is None


def test_code_stream_view(seed_like_file: pathlib.Path) -> None:
    offsets, _ = _ref_offsets(seed_like_file)
    view = tiffstream.CodeStreamView(image_idx=3, bitstream_offset=offsets[10], limit_images=5)
    assert (view.image_idx, view.bitstream_offset, view.limit_images) == (3, offsets[10], 5)
    sub = tiffstream.CodeStream(str(seed_like_file)).get_sub_code_stream(view)
    assert sub.num_images == 5 and sub.page.offset == offsets[13]


def test_100k_pages(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "many.tif"
    path.write_bytes(many_tiny_pages(100_000))
    with tifffile.TiffFile(path) as reference:
        assert len(reference.pages) == 100_000
        last = reference.pages[99_999].offset
    assert tiffstream.CodeStream(str(path)).num_images == 100_000
    visited = paginate(str(path), 33_333)
    assert len(visited) == 100_000 and len(set(visited)) == 100_000 and visited[-1] == last
    with tiffstream.open(path) as tif:
        assert tif.pages[0].shape == (1, 1) and len(tif.pages) == 100_000


# -- argument errors ------------------------------------------------------------------------------------------


def test_image_index_errors(seed_like_file: pathlib.Path) -> None:
    stream = tiffstream.CodeStream(str(seed_like_file), limit_images=3)
    with pytest.raises(RuntimeError, match=r"Image index #3 out of range \(0, 2\)"):
        stream.get_sub_code_stream(image_idx=3)
    with pytest.raises(tiffstream.ImageIndexError):
        stream.get_sub_code_stream(image_idx=1000)
    with pytest.raises(TypeError):
        stream.get_sub_code_stream(image_idx=-1)
    with pytest.raises(TypeError):
        stream.get_sub_code_stream(image_idx="1")  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [1, 3, 9, 10**12])
def test_bitstream_offset_not_an_ifd(seed_like_file: pathlib.Path, offset: int) -> None:
    with pytest.raises(RuntimeError) as info:
        tiffstream.CodeStream(str(seed_like_file), bitstream_offset=offset)
    assert isinstance(info.value, tiffstream.TiffError)
    assert str(seed_like_file) in str(info.value)


def test_bitstream_offset_into_pixel_data(seed_like_file: pathlib.Path) -> None:
    with tiffstream.open(seed_like_file) as tif:
        inside = tif.pages[5].plan.chunks[0].offset + 3
    with pytest.raises(tiffstream.TiffError):
        tiffstream.CodeStream(str(seed_like_file), bitstream_offset=inside)


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_arguments(seed_like_file: pathlib.Path, bad: int) -> None:
    with pytest.raises(TypeError):
        tiffstream.CodeStream(str(seed_like_file), bitstream_offset=bad)
    with pytest.raises(TypeError):
        tiffstream.CodeStream(str(seed_like_file), limit_images=bad)


def test_region_value() -> None:
    region = tiffstream.Region(1, 2, 10, 20)
    assert region.start == (1, 2) and region.end == (10, 20) and region.shape == (9, 18)
    assert tiffstream.Region(start=(1, 2), end=(10, 20)) == region
    assert tiffstream.Region((1, 2), (10, 20)) == region
    with pytest.raises(ValueError):
        tiffstream.Region(5, 5, 5, 10)
    assert tiffstream.Region(-1, 0, 4, 4).start == (-1, 0)  # may reach outside the image (nvImageCodec 0.9)
    empty = tiffstream.Region()
    assert (empty.ndim, empty.start, empty.end) == (0, (), ())
    with pytest.raises(TypeError):
        tiffstream.Region(0.5, 0, 4, 4)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        region.start = (0, 0)  # type: ignore[misc]


def test_region_on_sub_code_stream(seed_like_file: pathlib.Path) -> None:
    stream = tiffstream.CodeStream(str(seed_like_file))
    sub = stream.get_sub_code_stream(image_idx=4, region=tiffstream.Region(0, 0, 40, 36))
    assert sub.region == tiffstream.Region(0, 0, 40, 36) and sub.image_idx == 4
    assert stream.get_sub_code_stream(region=tiffstream.Region(0, 0, 41, 36)).region.end == (41, 36)
    with pytest.raises(ValueError, match="lies outside"):
        stream.get_sub_code_stream(region=tiffstream.Region(40, 0, 50, 36))


def test_properties_strips_and_tiles(tiff_factory) -> None:
    tiled = tiffstream.CodeStream(str(tiff_factory(Recipe(shape=(2, 40, 70), tile=(16, 32), dtype="uint16"))))
    assert (tiled.tile_height, tiled.tile_width, tiled.num_tiles_y, tiled.num_tiles_x) == (16, 32, 3, 3)
    assert tiled.dtype == np.uint16 and tiled.precision == 0
    stripped = tiffstream.CodeStream(str(tiff_factory(Recipe(shape=(2, 40, 70), rowsperstrip=7))))
    assert (stripped.tile_height, stripped.tile_width, stripped.num_tiles_y, stripped.num_tiles_x) == (7, 70, 6, 1)


def test_sources_bytes_and_file_objects(seed_like_file: pathlib.Path) -> None:
    data = seed_like_file.read_bytes()
    for source in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8), seed_like_file.open("rb")):
        stream = tiffstream.CodeStream(source, limit_images=10)
        assert stream.num_images == 10 and stream.get_sub_code_stream(image_idx=9).subifd_offsets
        if hasattr(source, "close"):
            source.close()


def test_not_a_tiff(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.tif"
    path.write_bytes(b"GIF89a" + b"\0" * 100)
    with pytest.raises(tiffstream.NotATiffError, match="not a TIFF"):
        tiffstream.CodeStream(str(path))
    with pytest.raises(FileNotFoundError):
        tiffstream.CodeStream(str(tmp_path / "missing.tif"))

"""A generated matrix (tifffile writes, we decode): compressions x dtypes x predictors x layouts x byte order."""

from __future__ import annotations

import io
import itertools
import pathlib

import numpy as np
import pytest
import tifffile
from _tiffbuild import old_style_lzw
from conftest import Recipe

import tiffstream

COMPRESSIONS = [None, "zlib", "lzw", "packbits", "zstd", "lzma"]
DTYPES = ["uint8", "int16", "uint16", "int32", "uint32", "float32", "float64", "int64"]
LAYOUTS = [{"rowsperstrip": 5}, {"tile": (16, 32)}]

MATRIX = []
for compression, dtype, layout in itertools.product(COMPRESSIONS, DTYPES, LAYOUTS):
    # tifffile writes no predictor for 64-bit integers
    predictors = [False, True] if compression not in (None, "packbits") and dtype != "int64" else [False]
    for predictor in predictors:
        MATRIX.append(Recipe(shape=(2, 37, 45), dtype=dtype, compression=compression, predictor=predictor, **layout))
# byte order, BigTIFF, planar-separate, RGB contig, odd sizes
for compression in (None, "zlib", "lzw"):
    for byteorder, bigtiff in ((">", False), ("<", True), (">", True)):
        MATRIX.append(
            Recipe(
                shape=(2, 33, 19),
                dtype="uint16",
                compression=compression,
                predictor=compression is not None,
                byteorder=byteorder,
                bigtiff=bigtiff,
                tile=(16, 16),
            )
        )
        MATRIX.append(
            Recipe(
                shape=(2, 33, 19),
                dtype="float32",
                compression=compression,
                predictor=compression is not None,
                byteorder=byteorder,
                bigtiff=bigtiff,
                rowsperstrip=4,
            )
        )
    for planar in ("separate", "contig"):
        MATRIX.append(
            Recipe(
                shape=(29, 31, 3),
                dtype="uint8",
                compression=compression,
                planar=planar,
                rowsperstrip=6,
                predictor=compression is not None,
            )
        )
        MATRIX.append(
            Recipe(
                shape=(29, 31, 3),
                dtype="uint16",
                compression=compression,
                planar=planar,
                tile=(16, 16),
                byteorder=">",
                predictor=compression is not None,
            )
        )


@pytest.mark.parametrize("recipe", MATRIX, ids=lambda r: r.id)
def test_matches_tifffile(tiff_factory, recipe: Recipe) -> None:
    path = tiff_factory(recipe)
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        assert len(tif.pages) == len(reference.pages)
        for index, page in enumerate(tif.pages):
            expected = reference.pages[index].asarray()
            actual = page.asarray()
            assert actual.dtype == expected.dtype and actual.shape == expected.shape
            np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("recipe", [r for r in MATRIX if r.dtype in ("uint16", "uint8")][:12], ids=lambda r: r.id)
def test_regions_equal_crops(tiff_factory, recipe: Recipe) -> None:
    path = tiff_factory(recipe)
    rng = np.random.default_rng(5)
    with tiffstream.open(path) as tif:
        page = tif.pages[0]
        full = page.asarray()
        height, width = page.height, page.width
        for _ in range(20):
            y0, y1 = sorted(rng.choice(height + 1, 2, replace=False))
            x0, x1 = sorted(rng.choice(width + 1, 2, replace=False))
            region = tiffstream.Region(int(y0), int(x0), int(y1), int(x1))
            crop = page.asarray(region=region)
            expected = (
                full[:, y0:y1, x0:x1] if page.planar_config == 2 and page.samples_per_pixel > 1 else full[y0:y1, x0:x1]
            )
            np.testing.assert_array_equal(crop, expected)


def test_region_reads_only_overlapping_chunks(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(1, 128, 128), tile=(32, 32), compression="zlib"))
    with tiffstream.open(path) as tif:
        page = tif.pages[0]
        reads = []
        original = tif.source._read

        def counting(offset: int, nbytes: int) -> bytes:
            reads.append((offset, nbytes))
            return original(offset, nbytes)

        tif.source._read = counting  # type: ignore[method-assign]
        page.asarray(region=(40, 40, 60, 60))
        touched = [c for c in page.plan.chunks if any(o <= c.offset < o + n for o, n in reads)]
        assert [(c.y, c.x) for c in touched] == [(32, 32)]


def test_out_argument(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(1, 40, 30), dtype="uint16", compression="zlib", tile=(16, 16)))
    out = np.zeros((40, 30), np.uint16)
    result = tiffstream.imread(path, out=out)
    assert result is out
    np.testing.assert_array_equal(out, tifffile.imread(path))
    with pytest.raises(ValueError, match="out must be"):
        tiffstream.imread(path, out=np.zeros((40, 31), np.uint16))


def test_pyramid_levels(seed_like_file: pathlib.Path) -> None:
    with tifffile.TiffFile(seed_like_file) as reference:
        for level in (1, 2):
            expected = reference.pages[31].pages[level - 1].asarray()
            np.testing.assert_array_equal(tiffstream.imread(seed_like_file, 31, series=0, level=level), expected)
    with pytest.raises(IndexError):
        tiffstream.imread(seed_like_file, level=3)


def test_old_style_lzw(tmp_path: pathlib.Path) -> None:
    """Pre-5.0 libtiff LZW (LSB-first codes; libtiffpic/quad-lzw.tif has it) decodes like tifffile."""
    image = (np.add.outer(np.arange(50), np.arange(70) * 3) % 253).astype(np.uint8)
    path = tmp_path / "old-lzw.tif"
    strips = [old_style_lzw(image[y : y + 8].tobytes()) for y in range(0, len(image), 8)]
    tifffile.imwrite(path, iter(strips), shape=image.shape, dtype=image.dtype, compression="lzw", rowsperstrip=8)
    expected = tifffile.imread(path)
    np.testing.assert_array_equal(expected, image)
    np.testing.assert_array_equal(np.asarray(tiffstream.Decoder().read(path))[..., 0], expected)


def test_missing_chunks_are_filled(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sparse.tif"
    data = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib")
    raw = bytearray(path.read_bytes())
    with tiffstream.open(path) as tif:
        tag = tif.pages[0].tags["TileOffsets"]
        size = {3: 2, 4: 4}[tag.type]
        position = tag.value_offset + size  # second tile's offset -> 0: a missing tile
    raw[position : position + size] = bytes(size)
    damaged = bytes(raw)
    expected = tifffile.imread(io.BytesIO(damaged))
    actual = tiffstream.imread(damaged)
    assert (actual[:32, 32:] == 0).all()
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("compression", ["zlib", "lzw", "zstd", "packbits", "jpeg", "webp"])
def test_corrupt_chunk_data_raises_decode_error(tmp_path: pathlib.Path, compression: str) -> None:
    path = tmp_path / "corrupt.tif"
    rng = np.random.default_rng(3)
    data = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    tifffile.imwrite(path, data, tile=(32, 32), compression=compression, photometric="rgb")
    raw = bytearray(path.read_bytes())
    with tiffstream.open(path) as tif:
        chunk = tif.pages[0].plan.chunks[1]
    raw[chunk.offset : chunk.offset + chunk.nbytes] = bytes(rng.integers(0, 256, chunk.nbytes, dtype=np.uint8))
    raw[chunk.offset : chunk.offset + 2] = b"\xff\x00"
    try:
        array = tiffstream.imread(bytes(raw))
    except tiffstream.DecodeError as exc:
        assert f"chunk {chunk.index}" in str(exc) and exc.offset == chunk.offset
    else:  # some codecs decode garbage without complaint (PackBits); the image must still be whole
        assert array.shape == data.shape


IMAGE_CODECS = [
    ("jpeg", "uint8", 3),
    ("jpeg", "uint8", 1),
    ("png", "uint8", 3),
    ("png", "uint16", 1),
    ("webp", "uint8", 3),
    ("webp", "uint8", 4),
    ("jpeg2000", "uint8", 3),
    ("jpeg2000", "uint16", 1),
    ("jpegxl", "uint8", 3),
    ("jpegxl", "uint16", 1),
    ("lerc", "float32", 1),
    ("lerc", "uint16", 1),
    ("jpegxr", "uint8", 3),
    ("zstd", "float16", 1),
    ("deflate", "float16", 1),
]


@pytest.mark.parametrize(("compression", "dtype", "samples"), IMAGE_CODECS, ids=lambda v: str(v))
@pytest.mark.parametrize("layout", [{"tile": (32, 32)}, {"rowsperstrip": 16}], ids=["tiles", "strips"])
def test_image_codecs_match_tifffile(
    tmp_path: pathlib.Path, compression: str, dtype: str, samples: int, layout
) -> None:
    import imagecodecs

    flag = {"jpeg2000": "JPEG2K", "deflate": "ZLIB", "jpeg": "JPEG8"}.get(compression, compression.upper())
    if not getattr(imagecodecs, flag).available:
        pytest.skip(f"imagecodecs lacks {compression}")  # same skip tifffile's tests make
    rng = np.random.default_rng(11)
    shape = (50, 70, samples) if samples > 1 else (50, 70)
    if np.dtype(dtype).kind == "f":
        data = rng.random(shape).astype(dtype)
    else:
        data = (rng.random(shape) * np.iinfo(dtype).max * 0.6).astype(dtype)
    path = tmp_path / "image_codec.tif"
    photometric = "rgb" if samples >= 3 else "minisblack"
    extrasamples = {"extrasamples": ("unassalpha",)} if samples == 4 else {}
    predictor = {"predictor": True} if compression in ("zstd", "deflate") else {}
    tifffile.imwrite(
        path, data, compression=compression, photometric=photometric, **layout, **extrasamples, **predictor
    )
    expected = tifffile.imread(path)
    np.testing.assert_array_equal(tiffstream.imread(path), expected)


def test_stacked_pages(seed_like_file: pathlib.Path) -> None:
    expected = tifffile.imread(seed_like_file, key=range(192))
    np.testing.assert_array_equal(tiffstream.imread(seed_like_file, range(192)), expected)
    np.testing.assert_array_equal(tiffstream.imread(seed_like_file, slice(10, 20)), expected[10:20])
    with tiffstream.open(seed_like_file) as tif:
        np.testing.assert_array_equal(tif.asarray([3, 1], max_workers=1), expected[[3, 1]])
        np.testing.assert_array_equal(tif.asarray(5), expected[5])


def test_huge_claimed_image_is_refused_before_allocating() -> None:
    from _tiffbuild import implausible_image

    data = implausible_image()
    with tiffstream.open(data) as tif:
        assert tif.pages[0].shape == (200_000, 200_000)
        with pytest.raises(tiffstream.TiffFormatError, match="refusing"):
            tif.pages[0].asarray()
        # a region of it is a small allocation and is allowed to try (and fails on the bad data)
        with pytest.raises(tiffstream.TiffError):
            tif.pages[0].asarray(region=(0, 0, 4, 4))

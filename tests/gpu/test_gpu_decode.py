"""The GPU backend against tifffile, exactly: generated matrix, regions, corpus files, device images, leaks.

Marked ``gpu``: skipped without CuPy, nvcomp and a CUDA device (CI has none; run on the device machine).
"""

from __future__ import annotations

import itertools
import logging
import pathlib
import warnings

import numpy as np
import pytest
import tifffile
from _tiffbuild import implausible_image, old_style_lzw
from conftest import CORPUS, Recipe, corpus_rows

import tiffstream

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from tiffstream import gpu

if not gpu.available()[0]:
    pytest.skip(f"GPU backend unavailable: {gpu.available()[1]}", allow_module_level=True)

from tiffstream.gpu.backend import decode_batch
from tiffstream.gpu.job import GpuJob
from tiffstream.gpu.settings import GpuSettings


def gpu_decode(path, page: int = 0, region=None) -> np.ndarray:
    with tiffstream.open(path) as tif:
        job = GpuJob(tif.pages[page].plan, tif.source, region)
        return decode_batch([job])[0].get()


COMPRESSIONS = [None, "zlib", "lzw", "packbits", "zstd"]
DTYPES = ["uint8", "int16", "uint16", "int32", "uint32", "float32", "float64", "int64"]
MATRIX = []
for compression, dtype, layout, byteorder in itertools.product(
    COMPRESSIONS, DTYPES, [{"rowsperstrip": 5}, {"tile": (16, 32)}], ["<", ">"]
):
    predictors = [False] if compression in (None, "packbits") or dtype == "int64" else [False, True]
    for predictor in predictors:
        MATRIX.append(
            Recipe(
                shape=(2, 37, 45),
                dtype=dtype,
                compression=compression,
                predictor=predictor,
                byteorder=byteorder,
                **layout,
            )
        )
for compression in COMPRESSIONS:
    for planar in ("separate", "contig"):
        MATRIX.append(
            Recipe(
                shape=(29, 31, 3),
                dtype="uint16",
                compression=compression,
                planar=planar,
                tile=(16, 16),
                predictor=compression not in (None, "packbits"),
            )
        )
        MATRIX.append(
            Recipe(
                shape=(29, 31, 3), dtype="uint8", compression=compression, planar=planar, rowsperstrip=7, bigtiff=True
            )
        )
        if compression not in (None, "packbits"):
            MATRIX.append(
                Recipe(
                    shape=(29, 31, 3),
                    dtype="float32",
                    compression=compression,
                    planar=planar,
                    tile=(16, 16),
                    predictor=True,
                    byteorder=">",
                )
            )


@pytest.mark.parametrize("recipe", MATRIX, ids=lambda r: r.id)
def test_matrix_matches_tifffile(tiff_factory, recipe: Recipe) -> None:
    path = tiff_factory(recipe)
    with tifffile.TiffFile(path) as reference:
        for index in range(len(reference.pages)):
            np.testing.assert_array_equal(gpu_decode(path, index), reference.pages[index].asarray())


@pytest.mark.parametrize("recipe", [r for r in MATRIX if r.dtype == "uint16"][:10], ids=lambda r: r.id)
def test_regions(tiff_factory, recipe: Recipe) -> None:
    path = tiff_factory(recipe)
    full = tifffile.imread(path, key=0)
    rng = np.random.default_rng(3)
    with tiffstream.open(path) as tif:
        page = tif.pages[0]
        planar = page.planar_config == 2 and page.samples_per_pixel > 1
        for _ in range(10):
            y0, y1 = sorted(int(v) for v in rng.choice(page.height + 1, 2, replace=False))
            x0, x1 = sorted(int(v) for v in rng.choice(page.width + 1, 2, replace=False))
            got = decode_batch([GpuJob(page.plan, tif.source, (y0, x0, y1, x1))])[0].get()
            np.testing.assert_array_equal(got, full[:, y0:y1, x0:x1] if planar else full[y0:y1, x0:x1])


@pytest.mark.parametrize(
    "recipe", [r for r in MATRIX if r.byteorder == ">" and r.predictor][:6] + MATRIX[-6:], ids=lambda r: r.id
)
def test_overlapping_regions_share_chunks(tiff_factory, recipe: Recipe) -> None:
    """Regions of one page in one batch share chunks (decoded once, placed in each): every region as tifffile's."""
    path = tiff_factory(recipe)
    full = tifffile.imread(path, key=0)
    rng = np.random.default_rng(11)
    with tiffstream.open(path) as tif:
        page = tif.pages[0]
        planar = page.planar_config == 2 and page.samples_per_pixel > 1
        regions = [(0, 0, page.height, page.width)]
        for _ in range(12):
            y, x = int(rng.integers(0, page.height)), int(rng.integers(0, page.width))
            regions.append((y, x, min(page.height, y + 13), min(page.width, x + 17)))
        got = decode_batch([GpuJob(page.plan, tif.source, region) for region in regions])
        for (y0, x0, y1, x1), image in zip(regions, got):
            np.testing.assert_array_equal(image.get(), full[:, y0:y1, x0:x1] if planar else full[y0:y1, x0:x1])


def test_many_groups_mixed_compressions(tiff_factory) -> None:
    """One batch split into many small groups alternating streams, every compression and predictor mixed."""
    recipes = [r for r in MATRIX if r.byteorder == "<"][::3] + [r for r in MATRIX if r.byteorder == ">"][::5]
    jobs, expected, sources = [], [], []
    for recipe in recipes:
        path = tiff_factory(recipe)
        tif = tiffstream.open(path)
        sources.append(tif)
        reference = tifffile.imread(path, key=range(len(tif.pages)))
        for index in range(len(tif.pages)):
            jobs.append(GpuJob(tif.pages[index].plan, tif.source))
            expected.append(reference[index] if len(tif.pages) > 1 else reference)
    order = np.random.default_rng(5).permutation(len(jobs))
    got = decode_batch([jobs[i] for i in order], settings=GpuSettings(first_group_bytes=1, max_group_bytes=4000))
    for k, i in enumerate(order):
        np.testing.assert_array_equal(got[k].get(), expected[i])
    for tif in sources:
        tif.close()


def test_invalid_lzw_chunk_raises_after_the_batch(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint8).reshape(64, 64), compression="lzw", rowsperstrip=16)
    with tifffile.TiffFile(path) as tif:
        offset, count = tif.pages[0].dataoffsets[2], tif.pages[0].databytecounts[2]
    data = bytearray(path.read_bytes())
    data[offset : offset + count] = b"\x80\x7f\xff\xff" + b"\xff" * (count - 4)  # Clear, then a code past the table
    path.write_bytes(bytes(data))
    with tiffstream.open(path) as tif:
        jobs = [GpuJob(tif.pages[0].plan, tif.source) for _ in range(3)]
        with pytest.raises(tiffstream.DecodeError, match="chunk 2 .lzw. holds an invalid code"):
            decode_batch(jobs, settings=GpuSettings(first_group_bytes=1))


@pytest.mark.parametrize("rows", [16, 77])  # chunks of 14 KiB (16-bit positions) and of 68 KiB (32-bit)
def test_old_style_lzw_beside_todays(tmp_path: pathlib.Path, rows: int) -> None:
    """Pre-5.0 libtiff LZW (LSB-first, as in libtiffpic/quad-lzw.tif) decodes like tifffile, in a batch beside
    today's LZW: the style is told per chunk."""
    rng = np.random.default_rng(0)
    gray = (np.add.outer(np.arange(77), np.arange(301)) // 3 % 251).astype(np.uint8)
    image = np.stack([gray, gray[::-1], rng.integers(0, 4, gray.shape).astype(np.uint8)], -1)
    strips = [old_style_lzw(image[y : y + rows].tobytes()) for y in range(0, len(image), rows)]
    path = tmp_path / "old-lzw.tif"
    with tifffile.TiffWriter(path) as writer:
        options = {"compression": "lzw", "rowsperstrip": rows, "photometric": "rgb"}
        writer.write(iter(strips), shape=image.shape, dtype=image.dtype, **options)
        writer.write(image, **options)
    expected = tifffile.imread(path, key=range(2))
    np.testing.assert_array_equal(expected[0], image)  # the encoder is right
    with tiffstream.open(path) as tif:
        got = decode_batch([GpuJob(page.plan, tif.source) for page in (tif.pages[0], tif.pages[1], tif.pages[0])])
    for array, want in zip(got, [expected[0], expected[1], expected[0]]):
        np.testing.assert_array_equal(array.get(), want)


def test_out_of_memory_splits_the_batch(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group too big for the memory pool is retried in halves; one image that cannot fit is a TiffError."""
    pages = np.random.default_rng(9).integers(0, 65535, (8, 1024, 1024), dtype=np.uint16)  # 2 MiB a page
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, pages, compression="zlib", tile=(256, 256))
    pool = cp.get_default_memory_pool()
    launches: list[int] = []
    launch = gpu.backend.GpuBatch._make_columns

    def counted(self: gpu.backend.GpuBatch, group: gpu.group.Group) -> None:
        launches.append(len(group.jobs))
        launch(self, group)

    monkeypatch.setattr(gpu.backend.GpuBatch, "_make_columns", counted)
    with tiffstream.open(path) as tif:

        def jobs(count: int = 8) -> list[GpuJob]:
            return [GpuJob(tif.pages[i].plan, tif.source) for i in range(count)]

        cp.cuda.Device().synchronize()
        pool.free_all_blocks()
        before = pool.total_bytes()  # what other tests still hold
        decode_batch(jobs(), settings=GpuSettings(first_group_bytes=1 << 40))
        cp.cuda.Device().synchronize()
        peak = pool.total_bytes() - before  # one group of all 8 pages, as the pool cached it
        pool.free_all_blocks()
        launches.clear()
        try:
            pool.set_limit(size=before + int(peak * 0.7))
            got = decode_batch(jobs(), settings=GpuSettings(first_group_bytes=1 << 40))
            pool.free_all_blocks()  # cached blocks would be reused whatever the limit
            pool.set_limit(size=before + (1 << 20))
            with pytest.raises(tiffstream.TiffError, match="more GPU memory than is free"):
                decode_batch(jobs(1))
        finally:
            pool.set_limit(size=0)
    assert launches[0] == 8 and len(launches) >= 3, launches  # the whole group failed, then halves
    for image, page in zip(got, pages):
        np.testing.assert_array_equal(image.get(), page)


def test_implausible_size_and_bad_region_are_refused_before_allocating() -> None:
    """The CPU backend's checks hold on the GPU path: a 64-byte strip claiming 200,000 x 200,000 pixels."""
    data = implausible_image()
    with tiffstream.open(data) as tif:
        with pytest.raises(tiffstream.TiffFormatError, match="refusing an allocation"):
            decode_batch([GpuJob(tif.pages[0].plan, tif.source)])
        with pytest.raises(ValueError, match="outside"):
            decode_batch([GpuJob(tif.pages[0].plan, tif.source, (0, 0, 4, 200_001))])


@pytest.mark.parametrize("cut_strip", [-1, 3])  # inside the last strip; inside strip 3, later ones past the end
def test_truncated_strips_match_the_cpu(tmp_path: pathlib.Path, cut_strip: int) -> None:
    """A strip cut short decodes as on the CPU (rows it lacks are the fill value); strips that start past the
    end of the file are a TiffTruncatedError on both."""
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, np.arange(50 * 40, dtype=np.uint16).reshape(50, 40), rowsperstrip=8)
    with tifffile.TiffFile(path) as tif:
        end = tif.pages[0].dataoffsets[cut_strip] + 10
    path.write_bytes(path.read_bytes()[:end])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
        with tiffstream.open(path) as tif:
            jobs = [GpuJob(tif.pages[0].plan, tif.source)] * 2
            if cut_strip != -1:
                with pytest.raises(tiffstream.TiffTruncatedError):
                    tif.pages[0].asarray()
                with pytest.raises(tiffstream.TiffTruncatedError, match="past the end"):
                    decode_batch(jobs, settings=GpuSettings(first_group_bytes=1))
                return
            expected = tif.pages[0].asarray()
            got = decode_batch(jobs, settings=GpuSettings(first_group_bytes=1))
    for image in got:
        np.testing.assert_array_equal(image.get(), expected)


def test_batch_through_decoder(seed_like_file: pathlib.Path) -> None:
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as decoder:
        stream = tiffstream.CodeStream(str(seed_like_file))
        params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
        images = decoder.decode([stream.get_sub_code_stream(image_idx=i) for i in range(192)], params=params)
    expected = tifffile.imread(seed_like_file, key=range(192))
    assert all(image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE for image in images)
    for image, page in zip(images, expected):
        np.testing.assert_array_equal(cp.asarray(image)[:, :, 0].get(), page)
        np.testing.assert_array_equal(np.asarray(image.cpu())[:, :, 0], page)


def test_user_stream_orders_the_results(seed_like_file: pathlib.Path) -> None:
    """Results are ready in the order of the caller's stream: a kernel queued on it after decode sees them."""
    expected = tifffile.imread(seed_like_file, key=range(40))
    stream = cp.cuda.Stream(non_blocking=True)
    for handle in (stream.ptr, stream):  # a raw cudaStream_t, or a stream object
        with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as decoder:
            source = tiffstream.CodeStream(str(seed_like_file))
            subs = [source.get_sub_code_stream(image_idx=i) for i in range(40)]
            params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.SRGB)  # conversion kernels, too
            images = decoder.decode(subs, params=params, cuda_stream=handle)
            with stream:
                sums = [cp.asarray(image).sum(dtype=cp.int64) for image in images]
            stream.synchronize()
        assert [int(s) for s in sums] == [3 * int(page.sum(dtype=np.int64)) for page in expected]  # gray -> RGB


def test_device_image_interfaces(seed_like_file: pathlib.Path) -> None:
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as decoder:
        image = decoder.decode(tiffstream.CodeStream(str(seed_like_file)))
    assert "data" in image.__cuda_array_interface__
    assert image.cuda() is image and image.cpu().buffer_kind == tiffstream.ImageBufferKind.STRIDED_HOST
    np.testing.assert_array_equal(cp.from_dlpack(image).get(), np.asarray(image.cpu()))
    torch = pytest.importorskip("torch")
    assert torch.from_dlpack(image).is_cuda


def test_gpu_only_unsupported_compression_names_it(tiff_factory) -> None:
    path = tiff_factory(Recipe(shape=(30, 20, 3), photometric="rgb", compression="lzma"))
    with (
        tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as decoder,
        pytest.raises(tiffstream.UnsupportedTiffError, match="compression 34925"),
    ):
        decoder.decode(tiffstream.CodeStream(str(path)))
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.HYBRID_CPU_GPU]) as decoder:
        image = decoder.decode(tiffstream.CodeStream(str(path)))
        assert image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE
        np.testing.assert_array_equal(np.asarray(image.cpu()), tifffile.imread(path))


def test_no_leak(seed_like_file: pathlib.Path) -> None:
    with tiffstream.open(seed_like_file) as tif:
        jobs = [GpuJob(tif.pages[i].plan, tif.source) for i in range(20)]
        pool = cp.get_default_memory_pool()
        decode_batch(jobs)
        cp.cuda.Device().synchronize()
        before = pool.used_bytes()
        for _ in range(1000):
            decode_batch(jobs)
        cp.cuda.Device().synchronize()
        assert pool.used_bytes() <= before


GPU_ROWS = [
    r
    for r in corpus_rows()
    if r["tifffile_ok"] == "1" and r["compression"] in ("NONE", "LZW", "ADOBE_DEFLATE", "DEFLATE", "PACKBITS", "ZSTD")
]


@pytest.mark.parametrize("row", GPU_ROWS, ids=[r["path"] for r in GPU_ROWS])
def test_corpus(row) -> None:
    """GPU path where it applies; elsewhere GPU_ONLY names what it lacks and HYBRID decodes on the CPU."""
    if not CORPUS.exists():
        pytest.skip("no corpus here")
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    path = CORPUS / row["path"]
    expected = tifffile.imread(path, key=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tiffstream.TiffstreamWarning)
        with tiffstream.open(path) as tif:
            plan = tif.pages[0].plan
            why = gpu.supports(plan)
            if why is None:
                np.testing.assert_array_equal(decode_batch([GpuJob(plan, tif.source)])[0].get(), expected)
                return
        unchanged = tiffstream.ColorSpec.UNCHANGED
        params = tiffstream.DecodeParams(apply_exif_orientation=False, color_spec=unchanged, allow_any_depth=True)
        gpu_only = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
        with gpu_only as decoder, pytest.raises(tiffstream.UnsupportedTiffError, match="GPU backend cannot decode"):
            decoder.decode(tiffstream.CodeStream(str(path)), params=params)
        with tiffstream.Decoder(backends=[tiffstream.BackendKind.HYBRID_CPU_GPU]) as decoder:
            image = decoder.decode(tiffstream.CodeStream(str(path)), params=params)
    assert image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE
    hwc = (
        expected[:, :, None]
        if expected.ndim == 2
        else (np.moveaxis(expected, 0, -1) if plan.planar_config == 2 else expected)
    )
    np.testing.assert_array_equal(np.asarray(image.cpu()), hwc.astype(np.uint8) if hwc.dtype == bool else hwc)


def test_to_dask_gpu_backend(seed_like_file: pathlib.Path) -> None:
    pytest.importorskip("dask")
    array = tiffstream.to_dask(str(seed_like_file), backend="gpu")
    assert isinstance(array._meta, cp.ndarray)  # CuPy chunks
    computed = array.compute(scheduler="threads")
    assert isinstance(computed, cp.ndarray)
    np.testing.assert_array_equal(computed.get(), tifffile.imread(seed_like_file, key=range(192)))
    host = tiffstream.to_dask(str(seed_like_file), backend="auto")  # decoded on the GPU, chunks on the host
    np.testing.assert_array_equal(
        host[5:9].compute(scheduler="threads"), tifffile.imread(seed_like_file, key=range(5, 9))
    )


@pytest.mark.parametrize(
    ("photometric", "dtype", "color"),
    [
        ("palette", "uint8", tiffstream.ColorSpec.SRGB),
        ("minisblack", "uint16", tiffstream.ColorSpec.SRGB),
        ("miniswhite", "uint16", tiffstream.ColorSpec.GRAY),
        ("rgb", "uint16", tiffstream.ColorSpec.GRAY),
        ("minisblack", "float32", tiffstream.ColorSpec.SRGB),
    ],
)
def test_default_colour_conversion_on_the_gpu_equals_the_cpu(tmp_path: pathlib.Path, photometric, dtype, color) -> None:
    """nvImageCodec's default parameters (8-bit output, converted in strips) give the CPU's pixels on the GPU."""
    rng = np.random.default_rng(4)
    shape = (300, 400, 3) if photometric == "rgb" else (300, 400)
    samples = rng.random(shape).astype(dtype) if dtype == "float32" else rng.integers(0, 60000, shape).astype(dtype)
    colormap = rng.integers(0, 65535, (3, 256), dtype=np.uint16) if photometric == "palette" else None
    path = tmp_path / "colour.tif"
    tifffile.imwrite(path, samples, photometric=photometric, colormap=colormap, compression="zlib", tile=(64, 64))
    params = tiffstream.DecodeParams(color_spec=color)
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY]) as cpu:
        expected = np.asarray(cpu.decode(tiffstream.CodeStream(str(path)), params))
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as device:
        image = device.decode(tiffstream.CodeStream(str(path)), params)
    assert image.buffer_kind == tiffstream.ImageBufferKind.STRIDED_DEVICE
    np.testing.assert_array_equal(cp.asarray(image).get(), expected)


def test_cut_file_warns_through_the_gpu_decoder(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, np.arange(50 * 40, dtype=np.uint16).reshape(50, 40), rowsperstrip=8)
    path.write_bytes(path.read_bytes()[:-20])
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    with tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY]) as device:
        with pytest.warns(tiffstream.TruncatedDataWarning, match="chunk 6"):
            device.decode(tiffstream.CodeStream(str(path)), params)

"""Many threads on one *cold* file (no chain walked, no page parsed) get exactly the serial results.

Each round opens the file afresh and starts every thread at once behind a barrier, with a tiny GIL switch
interval so threads interleave inside the lazy walks; rounds differ in which thread asks for what first.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import Recipe

import tiffstream

THREADS = 16
ROUNDS = 12

FILES = {
    "ome-pyramid": Recipe(shape=(40, 24, 20), compression="zlib", subifds=2, ome=True, tile=(16, 16)),
    "subifd-chain": Recipe(shape=(30, 20, 16), compression="lzw", subifds=3, rowsperstrip=4),
    "stack-4d": Recipe(shape=(60, 12, 10, 3), photometric="rgb", compression="packbits"),
    "strips": Recipe(shape=(120, 9, 7)),
}


@pytest.fixture(autouse=True)
def _fast_switching():
    """Switch threads every microsecond, so races inside the lazy walks show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _together(jobs, work):
    """Run ``work(job)`` for every job on THREADS threads that start at one moment; results in job order."""
    barrier = threading.Barrier(THREADS)

    def run(chunk):
        barrier.wait(timeout=30)
        return [work(job) for job in chunk]

    chunks = [jobs[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = [future.result(timeout=120) for future in [pool.submit(run, chunk) for chunk in chunks]]
    ordered = [None] * len(jobs)
    for i, chunk_results in enumerate(results):
        ordered[i::THREADS] = chunk_results
    return ordered


def _jobs(rng, pages, levels, shape):
    """(page, level, region) requests: whole pages, levels, and random regions."""
    jobs = []
    for _ in range(THREADS * 4):
        page, level = int(rng.integers(pages)), int(rng.integers(levels + 1))
        height, width = shape
        y0, x0 = int(rng.integers(height)), int(rng.integers(width))
        region = None if rng.random() < 0.5 or level else (y0, x0, int(rng.integers(y0, height)) + 1, width)
        jobs.append((page, level, region))
    return jobs


@pytest.mark.parametrize("name", list(FILES))
def test_threads_on_a_cold_file_match_serial(tiff_factory, name):
    recipe = FILES[name]
    path = tiff_factory(recipe)
    with tiffstream.open(path) as tif:
        pages, shape = len(tif.pages), tif.pages[0].shape[:2]

    def serial_decode(tif, job):
        page, level, region = job
        target = tif.pages[page] if not level else tif.pages[page].subifds[level - 1]
        return target.asarray(region=region, max_workers=1)

    for round_ in range(ROUNDS):
        rng = np.random.default_rng(round_)
        jobs = _jobs(rng, pages, recipe.subifds, shape)
        with tiffstream.open(path) as tif:
            expected = [serial_decode(tif, job) for job in jobs]
        with tiffstream.open(path) as tif:  # cold: nothing walked yet
            lengths = _together(list(range(THREADS)), lambda _: len(tif.pages))
            assert lengths == [pages] * THREADS
        with tiffstream.open(path) as tif:
            got = _together(jobs, lambda job: serial_decode(tif, job))
            assert len(tif.pages) == pages
        for job, want, have in zip(jobs, expected, got):
            np.testing.assert_array_equal(have, want, err_msg=f"round {round_}, job {job}")


@pytest.mark.parametrize("name", ["ome-pyramid", "strips"])
def test_threads_sharing_a_decoder_and_a_cold_code_stream(tiff_factory, name):
    path = tiff_factory(FILES[name])
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    with tiffstream.open(path) as tif:
        pages = len(tif.pages)
        expected = [tif.pages[i].asarray() for i in range(pages)]
    for round_ in range(ROUNDS // 2):
        rng = np.random.default_rng(100 + round_)
        indices = [int(i) for i in rng.integers(pages, size=THREADS * 3)]
        stream = tiffstream.CodeStream(str(path))  # cold: its chain is walked by whichever thread comes first
        with tiffstream.Decoder(max_num_cpu_threads=4) as decoder:

            def decode(index, stream=stream, decoder=decoder):
                image = decoder.decode(stream.get_sub_code_stream(image_idx=index), params=params)
                return np.asarray(image)

            got = _together(indices, decode)
            assert stream.num_images == pages
        for index, have in zip(indices, got):
            want = expected[index]
            want = want[:, :, None] if want.ndim == 2 else want
            np.testing.assert_array_equal(have, want, err_msg=f"round {round_}, page {index}")


def test_threads_limited_code_stream_walks_once(tiff_factory):
    """A paginated stream (limit_images) walked by many threads at once still stops at its limit."""
    path = tiff_factory(FILES["strips"])
    for _ in range(ROUNDS):
        stream = tiffstream.CodeStream(str(path), limit_images=10)
        counts = _together(
            list(range(THREADS)), lambda _, stream=stream: (stream.num_images, stream.next_bitstream_offset)
        )
        assert len(set(counts)) == 1 and counts[0][0] == 10

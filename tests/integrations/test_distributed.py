"""tiffstream.distributed on a LocalCluster of CPU workers: pages in batches (one task a batch), slide
patches in batches, results equal to a serial decode; the GPU variants run in tests/gpu."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile
from conftest import Recipe

import tiffstream
import tiffstream.slide
from tiffstream import distributed as ts_distributed

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0", silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def test_pages_in_batches(client, seed_like_file: pathlib.Path, tiff_factory) -> None:
    other = tiff_factory(Recipe(shape=(5, 33, 19), dtype="uint16", compression="zstd", tile=(16, 16)))
    items = [(str(seed_like_file), page) for page in range(0, 192, 7)] + [(str(other), 4), (str(other), 0)]
    results = ts_distributed.decode_batches(client, items, batch_size=8)
    assert len(results) == len(items)
    for (path, page), result in zip(items, results, strict=True):
        np.testing.assert_array_equal(result, tifffile.imread(path, key=page))
    futures = ts_distributed.decode_batches(client, items, batch_size=8, gather=False)
    assert len(futures) == -(-len(items) // 8)  # one task per batch
    with pytest.raises(ValueError, match="batch_size"):
        ts_distributed.decode_batches(client, items, batch_size=0)


def test_slide_patches_in_batches(client, tmp_path: pathlib.Path) -> None:
    data = np.random.default_rng(5).integers(0, 255, (512, 640, 3), dtype=np.uint8)
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(64, 64), photometric="rgb", compression="zlib", metadata=None)
        writer.write(data[::2, ::2], tile=(64, 64), photometric="rgb", subfiletype=1, metadata=None)
    rng = np.random.default_rng(1)
    locations = [(int(x), int(y)) for x, y in zip(rng.integers(-20, 600, 37), rng.integers(-20, 480, 37), strict=True)]
    patches = ts_distributed.read_patches(client, str(path), locations, 0, (48, 40), batch_size=10)
    with tiffstream.slide.OpenSlide(path) as slide:
        expected = slide.read_regions(locations, 0, (48, 40))
    assert patches.shape == (37, 40, 48, 4)
    np.testing.assert_array_equal(patches, expected)


def test_cohort_recipe_writes_every_patch(tmp_path: pathlib.Path) -> None:
    import subprocess
    import sys

    zarr = pytest.importorskip("zarr")
    slides = []
    for number in range(2):
        data = np.random.default_rng(number).integers(0, 255, (400, 500, 3), dtype=np.uint8)
        path = tmp_path / f"slide{number}.tif"
        tifffile.imwrite(path, data, tile=(64, 64), photometric="rgb", compression="zlib", metadata=None)
        slides.append(path)
    recipe = pathlib.Path(__file__).resolve().parents[2] / "examples" / "cohort_patches_to_zarr.py"
    out = tmp_path / "patches.zarr"
    done = subprocess.run(
        [sys.executable, str(recipe), *map(str, slides), "--out", str(out), "--patches", "70", "--size", "32"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = zarr.open_array(str(out), mode="r")[:]
    rng = np.random.default_rng(0)  # the recipe's draws, slide by slide
    for number, path in enumerate(slides):
        xs, ys = rng.integers(0, 500 - 32, 70), rng.integers(0, 400 - 32, 70)
        with tiffstream.slide.OpenSlide(path) as slide:
            expected = slide.read_regions(list(zip(xs.tolist(), ys.tolist(), strict=True)), 0, (32, 32))
        np.testing.assert_array_equal(written[70 * number : 70 * (number + 1)], expected)

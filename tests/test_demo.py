"""The main job: `tiffstream demo` writes the samples and runs the seed walkthrough; every printed line checked."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import imagecodecs
import numpy as np
import pytest
import tifffile

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[pathlib.Path, list[str]]:
    folder = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "tiffstream.cli", "demo", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return folder, result.stdout.splitlines()


def test_samples_match_the_seed_files(demo_run) -> None:
    folder, _ = demo_run
    with tifffile.TiffFile(folder / "cat_with_thumbnail.tiff") as cat:
        page = cat.pages[0]
        assert page.shape == (720, 720, 3) and page.compression == 1 and len(page.subifds) == 1
        assert page.pages[0].shape == (180, 180, 3)
    with tifffile.TiffFile(folder / "retina_large.ome.tiff") as retina:
        assert retina.is_ome and len(retina.pages) == 192
        page = retina.pages[31]
        assert page.shape == (1567, 2048) and page.compression == 8 and not page.is_tiled
        assert [level.shape for level in page.pages] == [(783, 1024), (391, 512)]


@pytest.fixture(scope="module")
def walkthrough_0_9(demo_run, tmp_path_factory) -> list[str]:
    """The walkthrough's printed lines with ``import tiffstream.nvimgcodec09 as nvimgcodec`` (0.9's streams)."""
    folder, _ = demo_run
    source = (pathlib.Path(__file__).resolve().parents[1] / "examples" / "subifds_and_pagination.py").read_text()
    script = tmp_path_factory.mktemp("walkthrough") / "walkthrough_0_9.py"
    script.write_text(source.replace("import tiffstream as nvimgcodec", "import tiffstream.nvimgcodec09 as nvimgcodec"))
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYNVIMGCODEC_EXAMPLES_RESOURCES_DIR": str(folder),
        "TIFFSTREAM_FIGURES_DIR": str(script.parent),
    }
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=False, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("generation", ["0.8", "0.9"])
def test_walkthrough_prints_what_the_seed_prints(demo_run, walkthrough_0_9, generation: str) -> None:
    folder, lines = demo_run
    if generation == "0.9":
        lines = walkthrough_0_9
    with tifffile.TiffFile(folder / "cat_with_thumbnail.tiff") as cat:
        cat_subifds = list(cat.pages[0].subifds)
    with tifffile.TiffFile(folder / "retina_large.ome.tiff") as retina:
        offsets = [retina.pages[i].offset for i in range(60)]
        subifds31 = list(retina.pages[31].subifds)
    expected = [
        "Main image: 720x720, 3 channels",
        "Number of images (main IFDs): 1",
        f"SubIFD offsets: {cat_subifds}",
        "Thumbnail: 180x180, 3 channels",
        "Total images in file: 192",
        "Image dimensions: 2048x1567",
    ]
    for batch in range(5):
        expected += [f"Batch {batch}: 10 images", f" -> Next offset: {offsets[10 * (batch + 1)]}"]
    expected += [
        " (stopping early for demo)",
        "Image 31 has 2 SubIFDs (pyramid levels)",
        f"SubIFD offsets: {subifds31}",
        "",
        "Pyramid levels for Z-slice 31:",
        " Level 0 (full): 2048x1567",
        " Level 1 (1/2): 1024x783",
        " Level 2 (1/4): 512x391",
    ]
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected


def test_figures_are_images(demo_run) -> None:
    folder, lines = demo_run
    for name in ("figure_1.png", "figure_2.png", "figure_3.png", "figure_4.png"):
        path = folder / name
        assert f"  {path}" in lines
        image = imagecodecs.png_decode(path.read_bytes())
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert np.ptp(image) > 50  # not a blank canvas


def test_example_file_is_the_walkthrough() -> None:
    root = pathlib.Path(__file__).resolve().parent.parent
    example = root / "examples" / "subifds_and_pagination.py"
    packaged = root / "src" / "tiffstream" / "demo" / "subifds_and_pagination.py"
    assert example.read_text() == packaged.read_text()
    assert "import tiffstream as nvimgcodec" in example.read_text()

"""The command line: every command, in-process and through a subprocess."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from conftest import Recipe

import tiffstream
from tiffstream.cli import main


def test_info_on_the_shipped_sample(capsys) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "3 pages" in out and "subifd 2" in out and "OME image" in out
    with tiffstream.open(tiffstream.sample_path()) as tif:
        assert f"page 0 @{tif.pages[0].offset}" in out
        assert f"subifd 1 @{tif.pages[0].subifd_offsets[0]}" in out


def test_info_json_matches_reader(capsys, seed_like_file: pathlib.Path) -> None:
    assert main(["info", str(seed_like_file), "--json", "--max-pages", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    with tiffstream.open(seed_like_file) as tif:
        assert summary["num_pages"] == len(tif.pages) == 192
        assert [p["offset"] for p in summary["pages"]] == tif.pages.offsets[:3]
        assert [s["shape"] for s in summary["pages"][0]["subifds"]] == [[20, 18], [10, 9]]
    assert summary["ome"][0]["size"]["Z"] == 192


def test_info_tags(capsys) -> None:
    assert main(["info", "--tags", "--max-pages", "1"]) == 0
    out = capsys.readouterr().out
    assert "ImageWidth: 256" in out and "TileOffsets" in out


@pytest.mark.parametrize("suffix", [".npy", ".png", ".tif"])
def test_decode(tmp_path: pathlib.Path, seed_like_file: pathlib.Path, suffix: str, capsys) -> None:
    out = tmp_path / f"level{suffix}"
    assert (
        main(["decode", str(seed_like_file), "--page", "31", "--subifd", "1", "--region", "2:12,3:15", "-o", str(out)])
        == 0
    )
    with tifffile.TiffFile(seed_like_file) as reference:
        expected = reference.pages[31].pages[0].asarray()[2:12, 3:15]
    if suffix == ".npy":
        actual = np.load(out)
    elif suffix == ".png":
        import imagecodecs

        actual = imagecodecs.png_decode(out.read_bytes())
    else:
        actual = tifffile.imread(out)
    np.testing.assert_array_equal(actual, expected)


def test_thumbnail_picks_smallest_level_big_enough(tmp_path: pathlib.Path, tiff_factory, capsys) -> None:
    path = tiff_factory(Recipe(shape=(64, 80, 3), photometric="rgb", subifds=2, compression="zlib"))
    out = tmp_path / "thumb.png"
    import imagecodecs

    assert main(["thumbnail", str(path), "-o", str(out), "--size", "20"]) == 0
    with tifffile.TiffFile(path) as reference:
        level2 = reference.series[0].levels[2].asarray()  # 16x20: the smallest level at least 20 long
        np.testing.assert_array_equal(imagecodecs.png_decode(out.read_bytes()), level2)
        assert main(["thumbnail", str(path), "-o", str(out), "--size", "10"]) == 0
        halved = np.rint(level2.reshape(8, 2, 10, 2, 3).mean(axis=(1, 3))).astype(np.uint8)
        np.testing.assert_array_equal(imagecodecs.png_decode(out.read_bytes()), halved)


def test_convert(tmp_path: pathlib.Path, tiff_factory, capsys) -> None:
    source = tiff_factory(Recipe(shape=(3, 70, 90), dtype="uint16", compression="lzw", rowsperstrip=9))
    out = tmp_path / "converted.ome.tif"
    assert main(["convert", str(source), str(out), "--tile", "32", "--levels", "2", "--compression", "zstd"]) == 0
    with tifffile.TiffFile(out) as converted:
        assert converted.is_ome and len(converted.pages) == 3 and converted.pages[0].is_tiled
        assert [p.shape for p in converted.pages[0].pages] == [(35, 45), (17, 22)]
        np.testing.assert_array_equal(converted.series[0].asarray(), tifffile.imread(source, key=range(3)))


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "{bad}"],
        ["decode", "{bad}", "-o", "x.npy"],
        ["decode", "{good}", "--region", "nonsense", "-o", "x.npy"],
        ["decode", "{good}", "--page", "999", "-o", "x.npy"],
        ["decode", "{good}", "-o", "x.bmp"],
        ["thumbnail", "{missing}", "-o", "x.png"],
        ["convert", "{bad}", "out.tif"],
        ["bogus-command"],
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path: pathlib.Path, argv: list[str]) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.zeros((4, 4), np.uint8))
    names = {"bad": str(bad), "good": str(good), "missing": str(tmp_path / "missing.tif")}
    argv = [arg.format(**names) for arg in argv]
    result = subprocess.run(
        [sys.executable, "-m", "tiffstream.cli", *argv], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse prints its usage line first


HOSTILE = sorted((pathlib.Path(__file__).parent / "fuzz" / "regressions").glob("*.tif"))


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_hostile_files_end_in_one_line(tmp_path: pathlib.Path, path: pathlib.Path, capsys) -> None:
    """The fuzz regressions through every command: status 0 or 2, and every line on stderr is one of ours."""
    from tiffstream.cli import main

    for argv in (
        ["info", str(path)],
        ["info", "--json", str(path)],
        ["decode", str(path), "-o", str(tmp_path / "x.npy")],
        ["thumbnail", str(path), "-o", str(tmp_path / "x.png"), "--size", "64"],
        ["convert", str(path), str(tmp_path / "x.ome.tif"), "--levels", "1"],
    ):
        status = main(argv)
        err = capsys.readouterr().err
        assert status in (0, 2), (argv, err)
        assert all(line.startswith("tiffstream: ") for line in err.splitlines()), (argv, err)
        assert (status == 2) == ("tiffstream: error: " in err), (argv, err)

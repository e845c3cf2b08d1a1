"""The command line on series: info's series tree, thumbnails of any series in true colours, convert keeping
axes, photometric, colormap, bilevel, resolution and levels, and the rough edges a new user meets."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys

import imagecodecs
import numpy as np
import pytest
import tifffile

import tiffstream
from tiffstream.cli import main


def _run(*argv: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiffstream.cli", *argv], capture_output=True, text=True, cwd=cwd)


def test_info_shows_series_and_levels(tmp_path: pathlib.Path, capsys) -> None:
    path = tmp_path / "cog.tif"
    data = np.zeros((128, 96), np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(32, 32), metadata=None)  # no description: a GDAL-like overview chain
        writer.write(data[::2, ::2], tile=(32, 32), subfiletype=1, metadata=None)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "series 0: generic, YX 128x96 uint8" in out and "1 level below: 64x48" in out
    assert "2 pages" in out and "12 tiles of 32x32" in out and "1 tile of" not in out
    assert main(["info", str(path), "--json", "--max-pages", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["series"][0]["levels"] == [[128, 96], [64, 48]] and summary["pages_truncated"] is True


def test_info_tags_show_enum_names(capsys) -> None:
    assert main(["info", "--tags", "--max-pages", "1"]) == 0
    out = capsys.readouterr().out
    assert "Compression: ADOBE_DEFLATE (8)" in out or "Compression: " in out and "(" in out.split("Compression: ")[1]
    assert "PhotometricInterpretation: MINISBLACK (1)" in out


def test_bare_command_prints_usage_and_version(tmp_path: pathlib.Path) -> None:
    result = _run(cwd=tmp_path)
    assert result.returncode == 0 and "usage: tiffstream" in result.stdout and "COMMAND" in result.stdout
    assert tiffstream.__version__ in _run("--version", cwd=tmp_path).stdout


def test_every_argument_has_help() -> None:
    from tiffstream.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
    for name, sub in commands.choices.items():
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"{name} {action.dest} has no help"


def test_json_into_a_closed_pipe_is_quiet(tmp_path: pathlib.Path, seed_like_file: pathlib.Path) -> None:
    command = f"{sys.executable} -m tiffstream.cli info --json --max-pages 192 {seed_like_file} | head -c 10"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=tmp_path)  # noqa: S602
    assert result.stdout == "{\n  \"file\"" and result.stderr == ""


def test_directory_and_missing_file_are_named(tmp_path: pathlib.Path) -> None:
    result = _run("info", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and str(tmp_path) in result.stderr and "directory" in result.stderr
    result = _run("info", "nowhere.tif", cwd=tmp_path)
    assert result.returncode == 2 and "nowhere.tif" in result.stderr


def test_region_partly_outside_is_clipped(tmp_path: pathlib.Path, capsys) -> None:
    path = tmp_path / "a.tif"
    data = np.arange(20 * 30, dtype=np.uint16).reshape(20, 30)
    tifffile.imwrite(path, data)
    out = tmp_path / "a.npy"
    assert main(["decode", str(path), "--region", "10:50,-5:8", "-o", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out), data[10:20, 0:8])
    assert "clipped" in capsys.readouterr().out
    assert main(["decode", str(path), "--region", "30:40,0:8", "-o", str(out)]) == 2


def test_pictures_of_palette_float_and_cmyk(tmp_path: pathlib.Path) -> None:
    palette = tmp_path / "palette.tif"
    colormap = np.zeros((3, 256), np.uint16)
    colormap[0, 1], colormap[1, 2] = 65535, 65535  # index 1 red, 2 green
    tifffile.imwrite(palette, np.array([[1, 2], [0, 1]], np.uint8), photometric="palette", colormap=colormap)
    out = tmp_path / "p.png"
    assert main(["decode", str(palette), "-o", str(out)]) == 0
    picture = imagecodecs.png_decode(out.read_bytes())
    assert picture.shape == (2, 2, 3) and picture[0, 0].tolist() == [255, 0, 0] and picture[0, 1].tolist() == [0, 255, 0]
    floats = tmp_path / "float.tif"
    tifffile.imwrite(floats, np.array([[100.0, 300.0], [200.0, np.nan]], np.float32))
    assert main(["thumbnail", str(floats), "-o", str(out), "--size", "2"]) == 0
    assert imagecodecs.png_decode(out.read_bytes()).tolist() == [[0, 255], [128, 0]]  # by range, not white
    cmyk = tmp_path / "cmyk.tif"
    tifffile.imwrite(cmyk, np.array([[[0, 0, 0, 0], [255, 0, 0, 0]]], np.uint8), photometric="separated")
    assert main(["decode", str(cmyk), "-o", str(out)]) == 0
    assert imagecodecs.png_decode(out.read_bytes()).tolist() == [[[255, 255, 255], [0, 255, 255]]]


def test_convert_keeps_axes_physical_sizes_and_levels(tmp_path: pathlib.Path, capsys) -> None:
    data = np.random.default_rng(3).integers(0, 4000, (2, 3, 40, 50), dtype=np.uint16)
    source = tmp_path / "tzyx.ome.tif"
    tifffile.imwrite(source, data, ome=True, metadata={"axes": "TZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
    out = tmp_path / "out.ome.tif"
    assert main(["convert", str(source), str(out), "--tile", "16", "--levels", "2"]) == 0
    with tifffile.TiffFile(out) as converted:
        series = converted.series[0]
        assert series.axes == "TZYX" and series.shape == data.shape
        assert [level.shape for level in series.levels] == [(2, 3, 40, 50), (2, 3, 20, 25), (2, 3, 10, 12)]
        np.testing.assert_array_equal(series.asarray(), data)
        assert 'PhysicalSizeX="0.5"' in converted.ome_metadata
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_convert_copies_a_cogs_overviews(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "cog.tif"
    data = np.random.default_rng(4).integers(0, 255, (64, 48, 3), dtype=np.uint8)
    with tifffile.TiffWriter(source) as writer:
        writer.write(data, tile=(16, 16), photometric="rgb")
        writer.write(data[::2, ::2], tile=(16, 16), photometric="rgb", subfiletype=1)  # not a mean: copied as is
    out = tmp_path / "out.ome.tif"
    assert main(["convert", str(source), str(out), "--tile", "16"]) == 0
    with tifffile.TiffFile(out) as converted:
        levels = converted.series[0].levels
        assert len(levels) == 2
        np.testing.assert_array_equal(levels[1].asarray(), data[::2, ::2])


@pytest.mark.parametrize(
    ("photometric", "data", "extra"),
    [
        ("palette", np.arange(32 * 32, dtype=np.uint8).reshape(32, 32), {"colormap": np.arange(768, dtype=np.uint16).reshape(3, 256) * 85}),
        ("miniswhite", np.arange(32 * 32, dtype=np.uint16).reshape(32, 32), {}),
        ("separated", np.arange(32 * 32 * 4, dtype=np.uint8).reshape(32, 32, 4), {}),
        ("minisblack", np.eye(32, dtype=bool), {}),
    ],
    ids=["palette", "miniswhite", "cmyk", "bilevel"],
)
def test_convert_keeps_photometric(tmp_path: pathlib.Path, photometric, data, extra, capsys) -> None:
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, data, photometric=photometric, resolution=(300, 300), resolutionunit="INCH", **extra)
    out = tmp_path / "out.ome.tif"
    assert main(["convert", str(source), str(out), "--tile", "16", "--levels", "0", "--compression", "deflate"]) == 0
    with tifffile.TiffFile(source) as original, tifffile.TiffFile(out) as converted:
        a, b = original.pages[0], converted.pages[0]
        assert b.photometric == a.photometric and b.bitspersample == a.bitspersample
        assert b.tags["XResolution"].value == a.tags["XResolution"].value
        if photometric == "palette":
            np.testing.assert_array_equal(b.colormap, a.colormap)
        np.testing.assert_array_equal(b.asarray(), a.asarray())


def test_convert_refuses_its_input_and_names_the_target(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, np.zeros((8, 8), np.uint8))
    before = source.read_bytes()
    result = _run("convert", str(source), str(source), cwd=tmp_path)
    assert result.returncode == 2 and "input" in result.stderr and source.read_bytes() == before
    result = _run("convert", str(source), str(tmp_path / "missing" / "out.tif"), cwd=tmp_path)
    assert result.returncode == 2 and "out.tif" in result.stderr and ".partial" not in result.stderr

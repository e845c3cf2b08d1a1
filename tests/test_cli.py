"""The command line, in-process and as a subprocess."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

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


def test_bad_input_exits_2_without_traceback(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    result = subprocess.run(
        [sys.executable, "-m", "tiffstream.cli", "info", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tiffstream: error:") and "Traceback" not in result.stderr
    assert "not a TIFF" in result.stderr

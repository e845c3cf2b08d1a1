"""Writer faults: a kill at any moment, a full disk, bad targets and bad arrays never leave a file that parses
as complete but is not, and every error is a TiffWriteError naming the target, with nothing left behind."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tifffile

import tiffstream

CHILD = textwrap.dedent(
    """
    import sys, numpy as np, tiffstream
    target = sys.argv[1]
    data = np.random.default_rng(5).integers(0, 255, (12, 512, 512), dtype=np.uint8)
    with tiffstream.TiffWriter(target, ome=True, page_axes="Z") as writer:
        for page in data:
            writer.write(page, compression="zlib", tile=(64, 64), subifds=2)
        print("closing", flush=True)
    print("done", flush=True)
    """
)


def _expected() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 255, (12, 512, 512), dtype=np.uint8)


def _complete_or_unparsable(path: pathlib.Path, expected: np.ndarray) -> str:
    """'complete' when both readers give every page equal to ``expected``, 'unparsable' when both find no image
    (an error, or no page at all)."""
    try:
        with tiffstream.open(path) as tif:
            ours = tif.asarray()
    except tiffstream.TiffError:
        ours = None
    try:
        theirs = tifffile.imread(path)
        theirs = theirs if theirs.size else None  # tifffile opens a file whose header links no IFD as 0 pages
    except Exception:  # noqa: BLE001  # any failure of the independent reader counts as "does not parse"
        theirs = None
    if ours is None and theirs is None:
        return "unparsable"
    assert ours is not None and theirs is not None, f"{path.name}: one reader parses it, the other does not"
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(theirs, expected)
    return "complete"


def test_killed_writer_never_leaves_a_file_that_parses_as_complete(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    expected = _expected()
    started = time.perf_counter()
    subprocess.run([sys.executable, str(script), str(tmp_path / "timing.tif")], check=True, capture_output=True)
    duration = time.perf_counter() - started
    rng = np.random.default_rng(11)
    seen = {"unparsable": 0, "complete": 0, "none": 0}
    # kills spread over the whole run, and kills in the first ~50 ms of close()
    delays = [("start", d) for d in rng.uniform(0.05, duration, 8)] + [("closing", d) for d in rng.uniform(0, 0.05, 8)]
    for number, (after, delay) in enumerate(delays):
        folder = tmp_path / f"kill{number}"
        folder.mkdir()
        target = folder / "out.ome.tif"
        child = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE, text=True)
        if after == "closing":
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() in ("closing", "")
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
        files = sorted(folder.iterdir())
        assert all(f.name == "out.ome.tif" or f.name.endswith(".partial") for f in files), files
        for path in files:
            seen[_complete_or_unparsable(path, expected)] += 1
        if not files:
            seen["none"] += 1
    assert seen["unparsable"] > 0  # the kills did land mid-write


@pytest.mark.parametrize(
    "target",
    ["{tmp}", "{tmp}/missing/out.tif", "/sys/out.tif"],
    ids=["directory", "missing-folder", "read-only"],
)
def test_bad_targets_are_clear_errors(tmp_path: pathlib.Path, target: str) -> None:
    path = target.format(tmp=tmp_path)
    with pytest.raises(tiffstream.TiffWriteError, match=path):
        tiffstream.imwrite(path, np.zeros((8, 8), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path: pathlib.Path) -> None:
    """A file size limit stands in for a full disk: the write fails with EFBIG part-way."""
    code = textwrap.dedent(
        f"""
        import resource, signal, numpy as np, tiffstream
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        try:
            tiffstream.imwrite({str(tmp_path / "out.tif")!r}, np.ones((4, 512, 512), np.uint8))
        except tiffstream.TiffWriteError as exc:
            print("TiffWriteError", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("TiffWriteError") and "out.tif" in result.stdout, result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "array",
    [
        np.array(3, np.uint8),
        np.zeros((4, 4), object),
        np.zeros((4, 4), np.complex64),
        np.zeros((4, 4), "U3"),
        np.zeros((0, 4), np.uint8),
        np.zeros((2, 2, 2, 2, 2, 4, 4), np.uint8),
    ],
    ids=["0-d", "object", "complex", "strings", "empty", "7-d"],
)
def test_bad_arrays_fail_before_any_byte_is_written(tmp_path: pathlib.Path, array: np.ndarray) -> None:
    with pytest.raises(tiffstream.TiffWriteError):
        tiffstream.imwrite(tmp_path / "out.tif", array)
    assert list(tmp_path.iterdir()) == []
    with tiffstream.TiffWriter(tmp_path / "out.tif") as writer:
        with pytest.raises(tiffstream.TiffWriteError):
            writer.write(array)
        writer.write(np.ones((4, 4), np.uint8))  # the writer is still usable after a refused page
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"]
    os.unlink(tmp_path / "out.tif")

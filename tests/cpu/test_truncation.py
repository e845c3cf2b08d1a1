"""Files cut inside their chunk data: a TruncatedDataWarning naming the chunk, never garbage; strict raises.

Every row of the result is either the original row or all fill value (the samples are never 0, so fill
is told apart): a cut LZW code's garbage, a cut JPEG's grey blocks, or rows the file lacks never show.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
import tifffile

import tiffstream

CASES = [
    ("none", None, 8),
    ("lzw", None, 8),
    ("packbits", None, 8),
    ("zlib", None, 8),
    ("zstd", None, 8),
    ("lzw", (16, 16), None),
    ("jpeg", (16, 16), None),
    ("webp", (16, 16), None),
]


def _original() -> np.ndarray:
    rng = np.random.default_rng(7)
    smooth = np.add.outer(np.arange(48), np.arange(40)) % 200 + 20  # compressible, never 0
    noise = rng.integers(0, 20, (48, 40))
    return np.repeat((smooth + noise)[:, :, None], 3, axis=2).astype(np.uint8)


@pytest.mark.parametrize(
    ("compression", "tile", "rows"), CASES, ids=[f"{c}-{'tile' if t else 'strip'}" for c, t, _ in CASES]
)
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_cut_inside_the_last_chunk(tmp_path: pathlib.Path, compression, tile, rows, fraction) -> None:
    data = _original()
    path = tmp_path / "whole.tif"
    tifffile.imwrite(path, data, photometric="rgb", compression=compression, tile=tile, rowsperstrip=rows)
    with tifffile.TiffFile(path) as tif:
        offsets, counts = tif.pages[0].dataoffsets, tif.pages[0].databytecounts
        reference = tif.pages[0].asarray()
    last = int(np.argmax(np.add(offsets, counts)))
    cut = offsets[last] + max(1, int(counts[last] * fraction))
    cut_path = tmp_path / "cut.tif"
    cut_path.write_bytes(path.read_bytes()[:cut])
    with tiffstream.open(cut_path) as tif:
        page = tif.pages[0]
        with pytest.warns(tiffstream.TruncatedDataWarning, match=rf"chunk {last} at offset {offsets[last]}\b"):
            got = page.asarray()
        with pytest.raises(tiffstream.TiffTruncatedError, match=re.escape(f"chunk {last} at offset {offsets[last]}")):
            page.asarray(strict=True)
        # a region away from the cut chunk needs no warning
        chunk = page.plan.chunks[last]
        if chunk.y > 0:
            np.testing.assert_array_equal(page.asarray(region=(0, 0, chunk.y, page.width)), reference[: chunk.y])
    for y in range(data.shape[0]):  # rows are whole: the original's, or the fill value
        for x0 in range(0, data.shape[1], tile[1] if tile else data.shape[1]):
            span = slice(x0, x0 + (tile[1] if tile else data.shape[1]))
            row, want = got[y, span], reference[y, span]
            assert np.array_equal(row, want) or not row.any(), f"row {y}, columns {span}: neither data nor fill"
    chunk_rows = slice(chunk.y, chunk.y + chunk.height)
    before = np.ones(got.shape[:2], bool)
    before[chunk_rows, chunk.x : chunk.x + chunk.width] = False
    np.testing.assert_array_equal(got[before], reference[before])  # every other chunk is intact
    if compression == "none":  # what the file holds is all there
        row_bytes = chunk.width * 3
        present = (cut - offsets[last]) // row_bytes
        np.testing.assert_array_equal(got[chunk.y : chunk.y + present], reference[chunk.y : chunk.y + present])


def test_decoder_warns_and_the_warning_can_be_an_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, _original(), photometric="rgb", compression="lzw", rowsperstrip=8)
    path.write_bytes(path.read_bytes()[:-30])
    stream = tiffstream.CodeStream(str(path))
    with tiffstream.Decoder() as decoder:
        with pytest.warns(tiffstream.TruncatedDataWarning, match="chunk 5"):
            decoder.decode(stream)
        with pytest.warns(tiffstream.TruncatedDataWarning):
            decoder.decode([stream, stream])
        with pytest.raises(tiffstream.TruncatedDataWarning):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("error", tiffstream.TruncatedDataWarning)
                decoder.decode(stream)


def test_chunks_past_the_end_are_an_error(tmp_path: pathlib.Path) -> None:
    """A file cut before whole chunks lacks them: a TiffTruncatedError, as before (and on the GPU)."""
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, _original(), photometric="rgb", rowsperstrip=8)
    with tifffile.TiffFile(path) as tif:
        end = tif.pages[0].dataoffsets[2] + 5
    path.write_bytes(path.read_bytes()[:end])
    with (
        tiffstream.open(path) as tif,
        pytest.warns(tiffstream.TruncatedDataWarning),
        pytest.raises(tiffstream.TiffTruncatedError, match="outside the source"),
    ):
        tif.pages[0].asarray()


@pytest.mark.parametrize("compression", ["lzw", "packbits", "none"])
def test_every_cut_of_the_last_strip_gives_data_or_fill(compression) -> None:
    """Cut at every byte of the last strip: a cut LZW code writes a wrong last string (seen: 2-5 bytes), which
    must never show."""
    import io
    import warnings

    rng = np.random.default_rng(3)
    data = (rng.integers(1, 255, (64, 40, 3)) // 21 + 1).astype(np.uint8)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, photometric="rgb", compression=compression, rowsperstrip=16)
    raw = buffer.getvalue()
    with tifffile.TiffFile(io.BytesIO(raw)) as tif:
        start, nbytes = tif.pages[0].dataoffsets[-1], tif.pages[0].databytecounts[-1]
    for cut in range(start + 1, start + nbytes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tiffstream.TruncatedDataWarning)
            got = tiffstream.imread(raw[:cut])
        np.testing.assert_array_equal(got[:48], data[:48])
        for y in range(48, 64):
            assert np.array_equal(got[y], data[y]) or not got[y].any(), f"cut at {cut}: row {y} is garbage"

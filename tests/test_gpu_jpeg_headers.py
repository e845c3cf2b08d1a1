"""The GPU JPEG path's host checks, without a GPU: the frame headers read for every chunk of a group (the first
chunk of an image walked, the others compared with it up to its frame header in one gather) equal those read by
walking every chunk, also where a tile's markers differ (an extra APP segment, a larger frame, RGB component ids,
an Adobe marker). nvJPEG writes a whole frame at the pitch it is given: a frame read wrongly would write past
its scratch on the device.

CuPy is replaced by ``tools/cupy_standin`` in a subprocess (as in test_gpu_staging.py).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import imagecodecs
import numpy as np
import tifffile

STANDIN = pathlib.Path(__file__).resolve().parents[1] / "tools" / "cupy_standin"

CHECK = r"""
import json, sys
import numpy as np
import tiffstream
from tiffstream.codecs.jpeg import frame_header
from tiffstream.gpu import backend, jpeg
from tiffstream.gpu.columns import chunk_columns
from tiffstream.gpu.settings import GpuSettings
import cupy

with tiffstream.open(sys.argv[1]) as tif:
    data = open(sys.argv[1], "rb").read()
    jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
    group = backend.start_group(jobs, cupy.cuda.get_current_stream(), GpuSettings())
    group.columns, group.placements, _ = chunk_columns(group.jobs, group.staged)
    group.reads.wait()
    col = group.col
    rows = np.arange(len(col))
    heads = jpeg._headers(group, rows)
    mismatches = []
    for k in rows:
        offset, nbytes = int(col.offset[k]), int(col.nbytes[k])
        walked = frame_header(data[offset : offset + nbytes])
        want = (0, 0, 0, 0, 0, 0, 0) if walked is None else (*walked[:5], int(walked.jfif), int(walked.stored_rgb))
        got = tuple(int(getattr(heads, f)[k]) for f in ("marker", "precision", "height", "width", "components", "jfif", "stored_rgb"))
        if got != want:
            mismatches.append([int(k), list(got), list(want)])
    group.mark_queued()
summary = {"rgb": int(heads.stored_rgb.sum()), "tall": int((heads.height == 128).sum())}
print(json.dumps({"chunks": len(col), "mismatches": mismatches, **summary}))
"""


def _tile(data: np.ndarray, **options: object) -> bytes:
    return bytes(imagecodecs.jpeg8_encode(data, level=90, **options))


def test_frame_headers_read_in_one_gather_equal_walking_each(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 255, (128, 192, 3), dtype=np.uint8)
    tiles = [_tile(image[y : y + 64, x : x + 64]) for y in (0, 64) for x in (0, 64, 128)]
    tiles[1] = tiles[1][:2] + b"\xff\xe1\x00\x08extra!" + tiles[1][2:]  # an APP1 segment: another prefix
    tiles[3] = _tile(image[:, :128])  # a frame larger than its 64x64 tile, same prefix as the others
    tiles[4] = _tile(image[64:, 128:], colorspace="rgb", outcolorspace="rgb")  # stored as RGB (Adobe or ids)
    # an APP1 segment holding a copy of the first tile's frame header where that tile has it, then the real
    # stream, whose frame is larger: only a byte-for-byte prefix comparison tells it from the others
    at = tiles[0].index(b"\xff\xc0")
    decoy = tiles[0][at : at + 19]
    payload = b"\x00" * (at - 6) + decoy
    tiles[5] = b"\xff\xd8\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + _tile(image[:, :128])[2:]
    path = tmp_path / "tiles.tif"
    with tifffile.TiffWriter(path) as writer:
        for _ in range(2):
            options = {"tile": (64, 64), "compression": "jpeg", "photometric": "ycbcr", "subsampling": (1, 1)}
            writer.write(iter(tiles), shape=image.shape, dtype=image.dtype, **options)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)],
        check=False,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["chunks"] == 12
    assert result["mismatches"] == []
    assert result["rgb"] == 2 and result["tall"] == 4  # the odd tiles were read as what they are

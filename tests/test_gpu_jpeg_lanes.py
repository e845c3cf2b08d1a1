"""JPEG chunks through the GPU pipeline's host side, without a GPU (CuPy stand-in, nvJPEG replaced by a fake that
decodes with imagecodecs into the output's host memory): a group's tiles are split over the lanes, each lane a
thread with nvJPEG handles of its own, every tile decoded once, the call's host arrays kept until the group is
checked, and each tile decoded to where its row of the chunk columns says.

The pixels nvJPEG itself gives are checked on a GPU (tests/gpu/test_gpu_jpeg.py).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import tifffile

STANDIN = pathlib.Path(__file__).resolve().parents[1] / "tools" / "cupy_standin"

CHECK = r"""
import collections, ctypes, json, sys, threading
import imagecodecs
import numpy as np
import tiffstream
from tiffstream.gpu import backend, jpeg
from tiffstream.gpu.settings import GpuSettings

calls = collections.Counter()  # (engine, lane) -> tiles
threads = collections.defaultdict(set)  # lane -> threads
kept = []
lock = threading.Lock()


class FakeNvJpeg:
    def __init__(self, engine, lane):
        self.engine, self.lane = engine, lane

    def hardware_engines(self):
        return 1

    def decode(self, data, lengths, outputs, pitches, output_format, stream, keep, tables=None, slot=0):
        for address, length, output, pitch in zip(data, lengths, outputs, pitches):
            tile = imagecodecs.jpeg8_decode(ctypes.string_at(int(address), int(length)), tables=tables)
            rows = np.ascontiguousarray(tile).reshape(tile.shape[0], -1)
            for y, row in enumerate(rows):
                ctypes.memmove(int(output) + y * int(pitch), row.ctypes.data, row.nbytes)
        keep.append(np.asarray(data))
        with lock:
            calls[(int(self.engine), self.lane)] += len(data)
            threads[self.lane].add(threading.get_ident())
            kept.append(len(keep))


jpeg.nvjpeg = lambda engine, device, lane=0: FakeNvJpeg(engine, lane)
decompress, worst = backend.decompress, [0]


def checked_decompress(group, device, settings):
    # the stand-in's kernels do nothing (no scatter): each tile is checked where the scatter would read it
    decompress(group, device, settings)
    col = group.col
    with open(group.jobs[0].source.path, "rb") as handle:
        data = handle.read()
    for row in range(len(col)):
        offset, nbytes, size = int(col.offset[row]), int(col.nbytes[row]), int(col.height[row] * col.row_bytes[row])
        want = imagecodecs.jpeg8_decode(data[offset : offset + nbytes]).reshape(-1)
        got = np.frombuffer(ctypes.string_at(int(col.decoded[row]), size), np.uint8)
        worst[0] = max(worst[0], int(np.abs(got.astype(int) - want[:size]).max()))


backend.decompress = checked_decompress
report = {}
for name in sys.argv[1:]:
    with tiffstream.open(name) as tif:
        jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
        backend.decode_batch(jobs, settings=GpuSettings(jpeg_lanes=3, jpeg_tiles_per_call=8))
    report[name] = {
        "tiles": sum(len(job.chunks) for job in jobs),
        "decoded": sum(calls.values()),
        "lanes": sorted({lane for _, lane in calls}),
        "threads_per_lane": max(len(t) for t in threads.values()),
        "threads": len(set().union(*threads.values())),
        "kept": min(kept),
        "worst": worst[0],
    }
    calls.clear(), threads.clear(), kept.clear()
    worst[0] = 0
    with tiffstream.open(name) as tif:  # tiles larger than jpeg_lane_max_pixels: one lane
        jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
        backend.decode_batch(jobs, settings=GpuSettings(jpeg_lanes=3, jpeg_lane_max_pixels=64 * 64 - 1))
    report[name]["large_tile_lanes"] = sorted({lane for _, lane in calls})
    report[name]["large_tile_worst"] = worst[0]
    calls.clear(), threads.clear(), kept.clear()
    worst[0] = 0
print(json.dumps(report))
"""


def test_jpeg_tiles_are_split_over_lanes_each_decoded_once(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 255, (2, 203, 301, 3), dtype=np.uint8)
    files = {
        tmp_path / "rgb.tif": (rgb, {"photometric": "ycbcr"}),
        tmp_path / "gray.tif": (rgb[..., 1], {"photometric": "minisblack"}),
    }
    for path, (data, options) in files.items():
        tifffile.imwrite(path, data, compression="jpeg", tile=(64, 64), **options)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", CHECK, *map(str, files)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for name, got in report.items():
        assert got["tiles"] == got["decoded"] == 2 * 4 * 5, (name, got)  # every tile once
        assert got["lanes"] == [0, 1, 2] and got["threads"] == 3, (name, got)  # a thread a lane
        assert got["threads_per_lane"] == 1, (name, got)  # a lane's handles never serve two threads
        assert got["kept"] >= 1, (name, got)
        assert got["worst"] == 0, (name, got)  # each tile where its row of the columns says
        assert got["large_tile_lanes"] == [0] and got["large_tile_worst"] == 0, (name, got)

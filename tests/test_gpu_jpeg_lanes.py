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
import collections, ctypes, json, sys, threading, time
import imagecodecs
import numpy as np
import tiffstream
from tiffstream.gpu import backend, jpeg
from tiffstream.gpu.settings import GpuSettings

calls = collections.Counter()  # (engine, lane) -> tiles
threads = collections.defaultdict(set)  # lane -> threads
markers = []  # one object per call, put into the ``keep`` list the call was given
lock = threading.Lock()
running = {"now": 0, "peak": 0}  # calls under way at once


class FakeNvJpeg:
    def __init__(self, engine, lane):
        self.engine, self.lane = engine, lane

    def hardware_engines(self):
        return 1

    def decode(self, data, lengths, outputs, pitches, output_format, stream, keep, tables=None, slot=0):
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        time.sleep(0.05)  # as long as the other lanes take to start, were they under way at once
        with lock:
            running["now"] -= 1
        for address, length, output, pitch in zip(data, lengths, outputs, pitches):
            tile = imagecodecs.jpeg8_decode(ctypes.string_at(int(address), int(length)), tables=tables)
            rows = np.ascontiguousarray(tile).reshape(tile.shape[0], -1)
            for y, row in enumerate(rows):
                ctypes.memmove(int(output) + y * int(pitch), row.ctypes.data, row.nbytes)
        marker = object()
        keep.append(marker)
        with lock:
            calls[(int(self.engine), self.lane)] += len(data)
            threads[self.lane].add(threading.get_ident())
            markers.append(marker)


jpeg.nvjpeg = lambda engine, device, lane=0: FakeNvJpeg(engine, lane)
decompress, state = backend.decompress, {"worst": 0, "kept": True}


def checked_decompress(group, device, settings):
    # the stand-in's kernels do nothing (no scatter): each tile is checked where the scatter would read it
    decompress(group, device, settings)
    held = {id(item) for item in group.keep}  # what the group holds until it is checked
    state["kept"] &= all(id(marker) in held for marker in markers)
    markers.clear()
    col = group.col
    with open(group.jobs[0].source.path, "rb") as handle:
        data = handle.read()
    for row in range(len(col)):
        offset, nbytes, size = int(col.offset[row]), int(col.nbytes[row]), int(col.height[row] * col.row_bytes[row])
        want = imagecodecs.jpeg8_decode(data[offset : offset + nbytes]).reshape(-1)
        got = np.frombuffer(ctypes.string_at(int(col.decoded[row]), size), np.uint8)
        state["worst"] = max(state["worst"], int(np.abs(got.astype(int) - want[:size]).max()))


def decode(name, settings):  # every page of the file in one batch; what the fake saw
    calls.clear(), threads.clear()
    state.update(worst=0, kept=True)
    running["peak"] = 0
    with tiffstream.open(name) as tif:
        jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
        backend.decode_batch(jobs, settings=settings)
    return {
        "tiles": sum(len(job.chunks) for job in jobs),
        "decoded": sum(calls.values()),
        "lanes": sorted({lane for _, lane in calls}),
        "threads_per_lane": max(len(t) for t in threads.values()),
        "at once": running["peak"],
        **state,
    }


backend.decompress = checked_decompress
report = {}
for name in sys.argv[1:]:
    report[name] = decode(name, GpuSettings(jpeg_lanes=3, jpeg_tiles_per_call=8))
    # tiles larger than jpeg_lane_max_pixels: one lane
    report[name + " large"] = decode(name, GpuSettings(jpeg_lanes=3, jpeg_tiles_per_call=8, jpeg_lane_max_pixels=4095))
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
        large = name.endswith(" large")
        assert got["tiles"] == got["decoded"] == 2 * 4 * 5, (name, got)  # every tile once
        assert got["lanes"] == ([0] if large else [0, 1, 2]), (name, got)  # a thread a lane, large tiles on one
        assert got["at once"] == len(got["lanes"]) and got["threads_per_lane"] == 1, (name, got)
        assert got["kept"], (name, got)  # each call's host arrays held by its group until it is checked
        assert got["worst"] == 0, (name, got)  # each tile where its row of the columns says

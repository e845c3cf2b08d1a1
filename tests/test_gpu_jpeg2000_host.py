"""JPEG 2000 chunks through the GPU pipeline's host side, without a GPU (CuPy stand-in, nvJPEG2000 replaced by a
fake that parses and decodes with imagecodecs into the output's host memory): every code stream is parsed and
queued on the lanes, from several threads; the sizes they decode to reach the device before anything reads them;
a code stream the library refuses decodes on the host, and a broken one fails naming its chunk.

The pixels themselves are checked on a GPU (tests/gpu/test_gpu_jpeg2000.py).
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
import ctypes, json, sys, threading
import imagecodecs
import numpy as np
import tiffstream
from tiffstream import gpu
from tiffstream.gpu import backend, jpeg2000
from tiffstream.gpu.nvjpeg2k import NvJpeg2kError, Parsed
from tiffstream.gpu.settings import GpuSettings

gpu._jpeg2000_unsupported = lambda plan, itemsize: None  # no nvJPEG2000 here: the fake stands in


class FakeNvJpeg2k:
    def __init__(self):
        self.threads, self.decoded, self.refused, self.pixels = set(), 0, 0, {}
        self.lock = threading.Lock()

    def parse(self, address, length, stream):
        data = ctypes.string_at(address, length)
        if data[:2] != b"\xff\x4f":  # no SOC marker: refused, as nvJPEG2000 would
            with self.lock:
                self.refused += 1
            raise NvJpeg2kError("parse", 5)
        pixels = imagecodecs.jpeg2k_decode(data)
        components = 1 if pixels.ndim == 2 else pixels.shape[2]
        self.pixels[stream.ptr] = pixels  # what the stream's parsed handle holds
        return Parsed(pixels.shape[0], pixels.shape[1], components, 8 * pixels.itemsize, False, True)

    def decode(self, parsed, output, pitch, wide, stream):
        rows = np.ascontiguousarray(self.pixels[stream.ptr]).reshape(parsed.height, -1).view(np.uint8)
        for y, row in enumerate(rows):
            ctypes.memmove(output + y * pitch, row.ctypes.data, row.nbytes)
        with self.lock:
            self.threads.add(threading.get_ident())
            self.decoded += 1


fake = FakeNvJpeg2k()
jpeg2000.nvjpeg2k = lambda device: fake
report = {"groups": 0, "uploads": []}
decompress, upload = backend.decompress, backend.upload


def checked_upload(group, copy):
    device = upload(group, copy)
    report["uploads"].append(device is not None)
    return device


def checked_decompress(group, device, settings):
    decompress(group, device, settings)
    col = group.col
    sizes = np.asarray(group.sizes)
    expected = col.height * col.row_bytes  # tifffile writes whole tiles; -1 where the host failed too
    expected[list(group.errors)] = -1
    bad = np.flatnonzero(sizes != expected)
    assert not len(bad), (bad.tolist(), sizes[bad].tolist(), expected[bad].tolist())
    for row in np.flatnonzero(expected > 0):  # each tile's bytes where the scatter will read them
        got = np.frombuffer(ctypes.string_at(int(col.decoded[row]), int(expected[row])), np.uint8)
        assert got.any(), row
    report["groups"] += 1


backend.upload, backend.decompress = checked_upload, checked_decompress
good, broken = sys.argv[1:3]
with tiffstream.open(good) as tif:
    jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
    backend.decode_batch(jobs, settings=GpuSettings(jpeg2000_lanes=4))
    chunks = sum(len(job.chunks) for job in jobs)
report["decoded"], report["chunks"], report["threads"] = fake.decoded, chunks, len(fake.threads)
with tiffstream.open(broken) as tif:
    jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
    try:
        backend.decode_batch(jobs, settings=GpuSettings(jpeg2000_lanes=3))
    except tiffstream.DecodeError as exc:
        report["error"] = str(exc)
report["refused"] = fake.refused
print(json.dumps(report))
"""


def test_jpeg2000_tiles_go_through_the_lanes_and_refusals_to_the_host(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 255, (2, 203, 301, 3), dtype=np.uint8)
    good, broken = tmp_path / "good.tif", tmp_path / "broken.tif"
    for path in (good, broken):
        tifffile.imwrite(path, data, compression="jpeg2000", compressionargs={"level": 0}, tile=(64, 64))
    with tifffile.TiffFile(broken) as tif:
        offset = tif.pages[1].dataoffsets[5]
    raw = bytearray(broken.read_bytes())
    raw[offset : offset + 64] = b"\x00" * 64  # tile 5 of the second page: no code stream
    broken.write_bytes(bytes(raw))
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", CHECK, str(good), str(broken)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["groups"] >= 2 and report["decoded"] == report["chunks"] == 40, report
    assert report["threads"] > 1, report  # the lanes ran side by side
    assert not any(report["uploads"]), report  # nvJPEG2000 reads the pinned blocks: nothing uploaded
    assert report["refused"] == 1 and "chunk 5" in report.get("error", ""), report

"""The GPU backend's host side, checked without a GPU: every chunk's bytes are read to where its group's
columns say, and its first bytes are where the checks look, for tiles, strips, planes, regions, a cut file,
several files in one group, reads on glibc's AIO threads and on ours, small and large groups; and when the
GPU runs out of memory, the group is done again in halves, and an image too big is a clear error.

CuPy is replaced by ``tools/cupy_standin`` in a subprocess (kernels there do nothing; the GPU tests check the
pixels on a device).
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
import json, pathlib, sys, warnings
import numpy as np
import tiffstream
from tiffstream.gpu import backend
from tiffstream.gpu.settings import GpuSettings

contents, counted = {}, {"groups": 0, "chunks": 0}
upload = backend.upload


def checked_upload(group, copy):
    device = upload(group, copy)
    staged = np.asarray(device)
    col = group.col
    for k in range(len(col)):
        name = group.jobs[col.job[k]].plan.source_name
        data = contents.setdefault(name, pathlib.Path(name).read_bytes())
        offset, nbytes, start = int(col.offset[k]), int(col.nbytes[k]), int(col.start[k])
        assert offset + nbytes <= len(data), (name, offset, nbytes)
        assert staged[start : start + nbytes].tobytes() == data[offset : offset + nbytes], (name, k, offset, start)
        lead = group.reads.bytes_at(np.array([start]), 2)[0]
        assert bytes(lead[: min(nbytes, 2)]) == data[offset : offset + min(nbytes, 2)], (name, k)
    counted["groups"] += 1
    counted["chunks"] += len(col)
    return device


backend.upload = checked_upload
rng = np.random.default_rng(7)
for native in (True, False):
    for first, stage_bytes in ((1 << 12, 1 << 10), (1 << 16, 4 << 20), (1 << 30, 4 << 20)):
        settings = GpuSettings(first_group_bytes=first, stage_bytes=stage_bytes, native_reads=native)
        for regions in (False, True):
            jobs = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                opened = [tiffstream.open(path) for path in sys.argv[1:-1]] * 2  # each file twice: two sources
                for tif in opened:
                    for page in tif.pages:
                        plan, region = page.plan, None
                        if regions:
                            y, x = int(rng.integers(0, plan.height - 8)), int(rng.integers(0, plan.width - 8))
                            region = (y, x, min(plan.height, y + 40), min(plan.width, x + 50))
                        jobs.append(backend.GpuJob(plan, tif.source, region))
                backend.decode_batch(jobs, settings=settings)
            for tif in opened:
                tif.close()

# overlapping regions of one page share chunks: each decoded once, placed in every region that shows it
placed_ok = []


def checked_scatter(group):
    col, placed = group.col, group.placed
    for number, job in enumerate(group.jobs):
        wanted = job.chunks[job.chunks[:, 2] > 0, 0]
        got = col.index[placed.row[placed.job == number]]
        assert sorted(got.tolist()) == sorted(wanted.tolist()), (number, got, wanted)
    keys = [(id(group.jobs[j].plan), id(group.jobs[j].source), i) for j, i in zip(col.job, col.index)]
    assert len(set(keys)) == len(keys), "a chunk decoded twice"
    placed_ok.append((len(col), len(placed)))


scatter = backend.scatter
backend.scatter = lambda group: (checked_scatter(group), scatter(group))[1]
with tiffstream.open(sys.argv[1]) as tif, tiffstream.open(sys.argv[1]) as again:
    plan = tif.pages[0].plan
    regions = [(y, x, y + 70, x + 100) for y in range(0, 200, 30) for x in range(0, 300, 45)] + [None]
    jobs = [backend.GpuJob(plan, tif.source, r) for r in regions] + [backend.GpuJob(plan, again.source)]
    backend.decode_batch(jobs, settings=GpuSettings(first_group_bytes=1 << 30))
rows, placements = placed_ok[-1]
assert rows == 2 * len(jobs[-1].chunks) and placements > 3 * rows, placed_ok  # two sources: each chunk twice
backend.scatter = scatter

# out of GPU memory: the group that failed is done again in halves (staged again); one image too big is an error
import cupy

launched, make_columns = [], backend.GpuBatch._make_columns


def counted_make_columns(self, group):
    launched.append(len(group.jobs))
    make_columns(self, group)


backend.GpuBatch._make_columns = counted_make_columns
with tiffstream.open(sys.argv[1]) as tif:
    jobs = [backend.GpuJob(page.plan, tif.source) for page in tif.pages]
    capacity = sum(len(job.chunks) * job.plan.chunk_height * job.plan.chunk_width for job in jobs)
    cupy.memory_limit = capacity * 5 // 8  # the whole group's decoded chunks do not fit, half of them do
    outputs = backend.decode_batch(jobs, settings=GpuSettings(first_group_bytes=1 << 40))
    assert launched[0] == len(jobs) and len(launched) >= 3, launched
    assert [out.shape for out in outputs] == [job.plan.output_shape() for job in jobs]
    cupy.memory_limit = 64
    try:
        backend.decode_batch(jobs[:1])
    except tiffstream.TiffError as error:
        assert "more GPU memory than is free" in str(error), error
    else:
        raise AssertionError("an image too big for the memory left was decoded")
counted["launches"] = launched

# routing: a few large Deflate strips go to host threads, many chunks (or LZW) stay on the GPU
gpu = backend.GpuBackend(0, GpuSettings())
with tiffstream.open(sys.argv[-1]) as tif:
    strips = tif.pages[0].plan
    assert gpu.prefers_host(strips, None, 1) and not gpu.prefers_host(strips, None, 192)
    assert gpu.prefers_host(strips, (0, 0, 8, 8), 1)  # still a 256 KiB strip to inflate
    assert not backend.GpuBackend(0, GpuSettings(host_chunk_bytes=1 << 20)).prefers_host(strips, None, 1)
    assert not backend.GpuBackend(0, GpuSettings(host_max_chunks=0)).prefers_host(strips, None, 1)
with tiffstream.open(sys.argv[1]) as tif:
    assert not gpu.prefers_host(tif.pages[0].plan, None, 1)  # LZW: our kernels
print(json.dumps(counted))
"""


def test_chunks_are_read_where_the_columns_say_and_groups_split(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(3)
    smooth = np.cumsum(rng.integers(0, 3, (4, 300, 410)), axis=2).astype(np.uint16)
    paths = [tmp_path / name for name in ("tiles.tif", "strips.tif", "planes.tif", "cut.tif", "deflate.tif")]
    gray = {"photometric": "minisblack"}
    tifffile.imwrite(paths[0], smooth.astype(np.uint8), compression="lzw", predictor=True, tile=(64, 96), **gray)
    tifffile.imwrite(paths[1], smooth, byteorder=">", compression="packbits", rowsperstrip=7, **gray)
    tifffile.imwrite(paths[2], smooth[:3], photometric="rgb", planarconfig="separate", tile=(32, 64))
    tifffile.imwrite(paths[3], smooth[0], compression="lzw", rowsperstrip=50, **gray)
    with tifffile.TiffFile(paths[3]) as tif:
        cut = tif.pages[0].dataoffsets[-1] + 5  # inside the last strip
    paths[3].write_bytes(paths[3].read_bytes()[:cut])
    noise = rng.integers(0, 255, (1024, 2048), dtype=np.uint8)  # 8 strips of 256 KiB that barely compress
    tifffile.imwrite(paths[4], noise, compression="zlib", rowsperstrip=128, **gray)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", CHECK, *map(str, paths)]  # the Deflate file last: routing only
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    counted = json.loads(done.stdout.strip().splitlines()[-1])
    assert counted["groups"] > 40 and counted["chunks"] > 5000, counted
    assert counted["launches"][0] == 4 and len(counted["launches"]) >= 3, counted  # 4 pages, then halves

"""How nvcomp's batched decompression scales with the number of chunks in one call, on the benchmark files'
own chunks (the data the GPU groups hand it): decompress time of the first N images' chunks, for growing N,
and of all chunks split in 2 or 4 calls on as many streams. Tells how big a group must be to fill the GPU.

python benchmarks/gpu/nvcomp_scaling.py [--cases d,c,b16]   (files from benchmarks/gpu_decode.py)
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import cupy as cp

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
from gpu_decode import add_dir_argument, files

import tiffstream
from tiffstream.gpu import backend
from tiffstream.gpu.columns import allocate_outputs, chunk_columns
from tiffstream.gpu.group import Group
from tiffstream.gpu.job import GpuJob
from tiffstream.gpu.settings import GpuSettings
from tiffstream.gpu.streams import copy_stream


def prepared(jobs: list[GpuJob]) -> tuple[Group, cp.ndarray]:
    """A group of ``jobs`` with its chunks on the device (nothing decompressed yet)."""
    group = backend.start_group(jobs, cp.cuda.get_current_stream(), GpuSettings())
    group.columns, group.placements, missing = chunk_columns(group.jobs, group.staged)
    allocate_outputs(group.jobs, missing)
    device = backend.upload(group, copy_stream(cp.cuda.Device().id))
    cp.cuda.Device().synchronize()
    return group, device


def decompress_ms(groups: list[tuple[Group, cp.ndarray]], streams: list[cp.cuda.Stream]) -> float:
    """Milliseconds for ``decompress`` of every group, each on its own stream, all at once (best of 5)."""
    best = float("inf")
    for _ in range(6):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        for (group, device), stream in zip(groups, streams):
            stream.wait_event(start)
            with stream:
                group.keep.clear()
                group.checks.clear()
                backend.decompress(group, device)
        for stream in streams:
            done = cp.cuda.Event()
            done.record(stream)
            cp.cuda.get_current_stream().wait_event(done)
        stop.record()
        stop.synchronize()
        best = min(best, cp.cuda.get_elapsed_time(start, stop))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_dir_argument(parser)
    parser.add_argument("--cases", default="d,c,b16")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    streams = [cp.cuda.Stream(non_blocking=True) for _ in range(4)]
    for case, path in files(args.dir, False, set(args.cases.split(","))).items():
        stream = tiffstream.CodeStream(str(path))
        jobs = [
            GpuJob(s.plan, s.source)
            for s in (stream.get_sub_code_stream(image_idx=i) for i in range(stream.num_images))
        ]
        total = len(jobs)
        for n in sorted({1, 2, 4, 8, 16, 32, total // 2, total}):
            group, device = prepared(jobs[:n])
            ms = decompress_ms([(group, device)], streams[:1])
            out = int(group.col["capacity_rows"].dot(group.col["row_bytes"]))
            print(
                f"{case:<28} {n:4d} images {len(group.col['job']):6d} chunks {group.col['nbytes'].sum() / 1e6:7.1f} MB in"
                f" {ms:7.2f} ms {out / ms / 1e6:6.2f} GB/s out",
                flush=True,
            )
            group.queued()
        for parts in (2, 4):
            step = -(-total // parts)
            pieces = [prepared(jobs[i : i + step]) for i in range(0, total, step)]
            ms = decompress_ms(pieces, streams[:parts])
            out = sum(int(g.col["capacity_rows"].dot(g.col["row_bytes"])) for g, _ in pieces)
            print(
                f"{case:<28} {total:4d} images in {parts} calls on {parts} streams {ms:7.2f} ms {out / ms / 1e6:6.2f} GB/s out"
            )
            for g, _ in pieces:
                g.queued()


if __name__ == "__main__":
    main()

"""Where the GPU batch decode spends its time: stage by stage with the file as one group (synchronising
between stages), then the pipelined total.

python benchmarks/gpu/breakdown.py [--dir DIR]   (files from benchmarks/gpu_decode.py)
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import cupy as cp

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
from gpu_decode import add_dir_argument, files

import tiffstream
from tiffstream.gpu import backend
from tiffstream.gpu.columns import allocate_outputs, chunk_columns
from tiffstream.gpu.job import GpuJob
from tiffstream.gpu.settings import GpuSettings
from tiffstream.gpu.streams import copy_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_dir_argument(parser)
    parser.add_argument("--cases", help="comma-separated case letters, e.g. b,f (default: all)")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    for case, path in files(args.dir, False, set(args.cases.split(",")) if args.cases else None).items():
        for attempt in range(3):  # the last pass is the one reported (warm pools and caches, compiled kernels)
            marks = [("start", time.perf_counter())]

            def mark(name: str) -> None:
                cp.cuda.Device().synchronize()
                marks.append((name, time.perf_counter()))

            stream = tiffstream.CodeStream(str(path))
            subs = [stream.get_sub_code_stream(image_idx=i) for i in range(stream.num_images)]
            jobs = [GpuJob(s.plan, s.source) for s in subs]
            mark("streams+plans")
            settings = GpuSettings()
            group = backend.start_group(jobs, cp.cuda.get_current_stream(), settings)  # the whole file
            group.columns, group.placements, missing = chunk_columns(group.jobs, group.staged)
            allocate_outputs(group.jobs, missing)
            mark("reads started, columns+outputs")
            device = backend.upload(group, copy_stream(cp.cuda.Device().id))
            mark("reads+upload")
            backend.decompress(group, device, settings)
            mark("decompress")
            backend.post_process(group)
            mark("predictors")
            backend.scatter(group)
            mark("scatter")
            group.mark_queued()  # pinned blocks back to the pool
            del group, jobs, subs, device
        steps = ", ".join(f"{name} {1e3 * (t - marks[i][1]):.1f}" for i, (name, t) in enumerate(marks[1:]))
        print(f"{case:<26} {1e3 * (marks[-1][1] - marks[0][1]):7.1f} ms: {steps}")
        for attempt in range(3):  # the same work as the pipeline does it (plans, groups, streams), last of 3
            start = time.perf_counter()
            stream = tiffstream.CodeStream(str(path))
            subs = [stream.get_sub_code_stream(image_idx=i) for i in range(stream.num_images)]
            backend.decode_batch([GpuJob(s.plan, s.source) for s in subs])
            cp.cuda.Device().synchronize()
        print(f"{'':<26} {1e3 * (time.perf_counter() - start):7.1f} ms pipelined (groups overlapping)")


if __name__ == "__main__":
    main()

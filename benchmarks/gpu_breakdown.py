"""Where the GPU batch decode spends its time, stage by stage (synchronising between stages).

    python benchmarks/gpu_breakdown.py [--dir DIR]   (files from benchmarks/gpu_decode.py)
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import cupy as cp

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gpu_decode import files  # noqa: E402

import tiffstream  # noqa: E402
from tiffstream.gpu import backend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-gpu-bench")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    for case, path in files(args.dir, quick=False).items():
        for attempt in range(2):  # the second pass is the one reported (warm caches, compiled kernels)
            marks = [("start", time.perf_counter())]

            def mark(name: str) -> None:
                cp.cuda.Device().synchronize()
                marks.append((name, time.perf_counter()))

            stream = tiffstream.CodeStream(str(path))
            subs = [stream.get_sub_code_stream(image_idx=i) for i in range(stream.num_images)]
            jobs = [backend.GpuJob(s.plan, s.source) for s in subs]
            mark("streams+plans")
            col = backend._columns(jobs)
            mark("columns+outputs")
            device = backend._stage(jobs, col)
            mark("reads+upload")
            keep = backend._decompress(jobs, col, device)
            mark("decompress")
            keep += backend._post_process(jobs, col)
            mark("predictors")
            backend._scatter(jobs, col)
            mark("scatter")
        steps = ", ".join(f"{name} {1e3 * (t - marks[i][1]):.1f}" for i, (name, t) in enumerate(marks[1:]))
        print(f"{case:<26} {1e3 * (marks[-1][1] - marks[0][1]):7.1f} ms: {steps}")


if __name__ == "__main__":
    main()

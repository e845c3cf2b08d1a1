"""Host cost of one GPU batch, on a machine without a GPU: the backend runs on ``tools/cupy_standin`` (device
arrays in host memory, kernels that do nothing), so what is timed is the Python and numpy work of plans,
staging, columns, descriptors and launches, and what is counted is the CUDA calls it would make.

    python benchmarks/gpu/host.py FILE [--regions N | --images N] [--reads] [--repeats N] [--profile]

``--profile`` sorts by ``SORT`` (a pstats key, default tottime) and prints ``TOP`` rows (default 25), from the
environment.

Every page of FILE in one ``Decoder.decode`` call (as ``gpu_decode.py`` times it), or N random 512x512 regions
of its pages. Chunk reads are left out unless ``--reads`` (on a small machine they compete with the host
thread for its cores). Process CPU time, best and median. On the device machine the same work took 2-3x
longer in the timelines of ``gpu_timeline.py``, where reads run alongside.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pathlib
import pstats
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "tools" / "cupy_standin"))
import cupy  # the stand-in
import numpy as np

import tiffstream
from tiffstream import decoder
from tiffstream.gpu import reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--regions", type=int, help="this many random 512x512 regions instead of every page")
    parser.add_argument("--images", type=int, help="only the first N pages, in one call (--images 1: one image)")
    parser.add_argument("--reads", action="store_true", help="read the chunks too")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="then print a cProfile of one batch")
    args = parser.parse_args()
    assert hasattr(cupy, "CALLS"), "the real CuPy was imported: this benchmark needs the stand-in"
    cupy.reuse_large = True  # outputs of one size share a host buffer: no page faults in the timings
    if not args.reads:
        reads.PendingReads._start = lambda self, fds, pieces, spread_bytes: None  # type: ignore[method-assign]
        reads.PendingReads.seal = lambda self: None  # type: ignore[method-assign]
    decoder.gpu_available = lambda: (True, "")  # the stand-in is a device here
    ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    opened = tiffstream.CodeStream(args.file)
    if args.regions:
        rng = np.random.default_rng(0)
        page = opened.get_sub_code_stream(image_idx=0)
        height, width = page.height, page.width
        subs = [
            opened.get_sub_code_stream(
                image_idx=int(i), region=tiffstream.Region(int(y), int(x), int(y) + 512, int(x) + 512)
            )
            for i, y, x in zip(
                rng.integers(0, opened.num_images, args.regions),
                rng.integers(0, height - 512, args.regions),
                rng.integers(0, width - 512, args.regions),
            )
        ]

        def batch() -> object:
            return ours.decode(subs, params=params)

    else:

        def batch() -> object:
            stream = tiffstream.CodeStream(args.file)
            count = min(args.images or stream.num_images, stream.num_images)
            return ours.decode([stream.get_sub_code_stream(image_idx=i) for i in range(count)], params=params)

    for _ in range(3):
        batch()
    times = []
    for _ in range(args.repeats):
        cupy.CALLS.clear()
        start = time.process_time()
        batch()
        times.append(time.process_time() - start)
    calls = ", ".join(f"{count} {name}s" for name, count in sorted(cupy.CALLS.items()))
    print(f"host CPU time: best {min(times) * 1e3:.1f} ms, median {statistics.median(times) * 1e3:.1f} ms; {calls}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        batch()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime")).print_stats(
            int(os.environ.get("TOP", "25"))
        )


if __name__ == "__main__":
    main()

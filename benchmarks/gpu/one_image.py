"""Where one image decoded alone spends its time on the GPU, replayed from its recipe (``gpu/recipes.py``).

    python benchmarks/gpu/one_image.py [--dir DIR] [--quick] [--cases a,f,g] [--page 3] [--repeats 50]

For each case of ``gpu_decode.py`` whose page gets a recipe: the whole ``Decoder.decode`` call, and its parts
timed in the same calls (reads and part uploads, graph launch, output allocation and copy, waiting for the GPU);
then the graph alone by CUDA events, right after reading the chunk bytes and without reading them first (uploads
from pinned memory just written are slower). Medians, milliseconds.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import cupy as cp

sys.path.insert(0, str(Path(__file__).parents[1]))
import gpu_decode

import tiffstream
from tiffstream.gpu import reads, recipes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    gpu_decode.add_dir_argument(parser)
    parser.add_argument("--quick", action="store_true", help="24-page files")
    parser.add_argument("--cases", default="a,f,g")
    parser.add_argument("--page", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    parts: collections.defaultdict[str, list[float]] = collections.defaultdict(list)
    run = recipes.Recipe.run

    replayed: list[recipes.Recipe] = []

    def timed_run(self, job, stream, settings, read):  # the recipe's run, its steps timed (same calls)
        replayed[:] = [self]
        start = time.perf_counter()
        group = run(self, job, stream, settings, read)
        queued = time.perf_counter()
        stream.synchronize()
        parts["run: read, upload, launch, copy"].append(queued - start)
        parts["run: waiting for the GPU"].append(time.perf_counter() - queued)
        return group

    for case, path in gpu_decode.files(args.dir, args.quick, set(args.cases.split(","))).items():
        decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
        stream = tiffstream.CodeStream(str(path)).get_sub_code_stream(image_idx=args.page)
        for _ in range(3):  # the usual way, captured, replayed
            decoder.decode(stream, params=params)
        parts.clear()
        replayed.clear()
        whole = []
        recipes.Recipe.run = timed_run
        try:
            for _ in range(args.repeats):
                start = time.perf_counter()
                decoder.decode(stream, params=params)
                whole.append(time.perf_counter() - start)
        finally:
            recipes.Recipe.run = run
        if not replayed:
            print(f"{case}: no recipe (not uncompressed, LZW or PackBits, or routed to the host)")
            continue
        recipe = replayed[0]
        line = "  ".join(f"{name} {statistics.median(times) * 1e3:.3f}" for name, times in parts.items())
        print(f"{case}: decode {statistics.median(whole) * 1e3:.3f} ms; {line}")
        source = tiffstream.open(str(path)).source
        own = cp.cuda.Stream(non_blocking=True)
        for fresh in (True, False):
            graph = []
            for _ in range(args.repeats):
                if fresh:
                    reads.read_now(source, recipe.runs, 8)
                begin, end = cp.cuda.Event(), cp.cuda.Event()
                begin.record(own)
                recipe.graph.launch(stream=own)
                end.record(own)
                own.synchronize()
                graph.append(cp.cuda.get_elapsed_time(begin, end))
            when = "right after reading the chunks" if fresh else "without reading them first"
            print(f"    graph alone, {when}: {statistics.median(graph):.3f} ms")


if __name__ == "__main__":
    main()

"""Where one GPU batch's time goes: host time stamps and CUDA events around every stage of every group.

    python benchmarks/gpu/timeline.py FILE [--repeats N] [--page N]

Decodes every page of FILE in one ``Decoder.decode`` call (as ``gpu_decode.py`` times it), N times, and prints
the last: for each group, when the host ran make_columns, the reads, the upload and the launches, and when the
GPU finished each stage (an event recorded on the group's stream right after it was queued). Gaps between one
group's launches and the next group's columns are plan building. Shows whether the host or the GPU bounds a row.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cupy as cp

import tiffstream
from tiffstream.gpu import backend, reads
from tiffstream.gpu.settings import GpuSettings

Entry = tuple[str, float, float, Any]  # (stage, host start, host end, CUDA event or None)


def instrument(log: list[Entry]) -> None:
    """Wrap the pipeline's stages so that each call appends an entry to ``log``."""

    def wrap(owner: Any, name: str, event: bool, label: str | None = None) -> None:
        function = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = function(*args, **kwargs)
            end = time.perf_counter()
            done = None
            if event:
                done = cp.cuda.Event()
                done.record()
            log.append((label or name, start, end, done))
            return result

        setattr(owner, name, timed)

    wrap(backend.GpuBatch, "_make_columns", True, "columns")
    for name in ("upload", "decompress", "post_process", "scatter"):
        wrap(backend, name, True)
    wrap(reads.PendingReads, "wait", False)  # time the host waits for a group's reads
    wrap(backend, "stage", False)  # reads of the images added since the last call planned and started
    wrap(reads.PendingReads, "_start", False)  # of which: reads started on glibc's AIO threads
    wrap(backend.GpuBatch, "add", False)
    wrap(backend.GpuBatch, "finish", False)
    wrap(backend.GpuBatch, "_check_queued", False, "check")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--submit-mb", type=float, help="reads start once this many MB wait (tuning)")
    parser.add_argument("--page", type=int, help="decode this page alone (one image's latency)")
    args = parser.parse_args()
    settings = GpuSettings() if args.submit_mb is None else GpuSettings(stage_bytes=int(args.submit_mb * 2**20))
    log: list[Entry] = []
    instrument(log)
    decoder = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=settings)
    params = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
    for _ in range(args.repeats):
        log.clear()
        cp.cuda.Device().synchronize()
        begin = cp.cuda.Event()
        begin.record()
        t0 = time.perf_counter()
        opened = tiffstream.CodeStream(args.file)
        pages = range(opened.num_images) if args.page is None else [args.page]
        decoder.decode([opened.get_sub_code_stream(image_idx=i) for i in pages], params=params)
        cp.cuda.Device().synchronize()
        total = time.perf_counter() - t0
    adds = [entry for entry in log if entry[0] == "add"]
    print(f"total {total * 1e3:.1f} ms; {len(adds)} images added from {1e3 * (adds[0][1] - t0):.1f} to ", end="")
    print(f"{1e3 * (adds[-1][2] - t0):.1f} ms ({1e3 * sum(e[2] - e[1] for e in adds):.1f} ms inside add)")
    per_call = ("add", "stage", "_start")
    for name in per_call[1:]:
        calls = [entry for entry in log if entry[0] == name]
        print(f"  {name}: {len(calls)} calls, {1e3 * sum(e[2] - e[1] for e in calls):.2f} ms")
    for name, start, end, event in log:
        if name in per_call:
            continue
        gpu = f"GPU done {cp.cuda.get_elapsed_time(begin, event):7.1f}" if event is not None else ""
        span = f"{1e3 * (start - t0):7.1f} -> {1e3 * (end - t0):7.1f} ({1e3 * (end - start):5.1f})"
        print(f"  {name:<14} host {span}  {gpu}")


if __name__ == "__main__":
    main()

"""Many GPUs: decode the seed-like 192-page deflate stack x 8 files, and 10,000 random 224x224 patches of a
slide, on 1, 2, 4 (and 8) GPUs of one host through dask-cuda (one worker per GPU); throughput, scaling
against one GPU, and output equal to the one-GPU run.

    python benchmarks/multi_gpu.py [--gpus 1,2,4,8] [--slide CMU-1-Small-Region.svs] [--files DIR]

Needs dask-cuda (``pip install "tiffstream[multigpu]"``) and the GPUs; the stacks are written once with
tifffile (the seed's retina look-alike: 2048x1567 uint8 pages, deflate strips, two SubIFD levels).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gpu_decode import write  # the same files as the GPU benchmark

from tiffstream import distributed as ts_distributed


def stacks(folder: pathlib.Path) -> list[pathlib.Path]:
    base = write(folder / "b.tif", 192, "uint8", compression="zlib")
    copies = []
    for k in range(8):  # eight files, as a cohort would have (hard links: the same bytes, different names)
        copy = folder / f"b{k}.tif"
        if not copy.exists():
            copy.hardlink_to(base)
        copies.append(copy)
    return copies


def run(gpus: int, files: list[pathlib.Path], slide: str | None) -> dict[str, object]:
    from dask_cuda import LocalCUDACluster
    from distributed import Client

    with LocalCUDACluster(CUDA_VISIBLE_DEVICES=list(range(gpus))) as cluster, Client(cluster) as client:
        items = [(str(path), page) for path in files for page in range(192)]
        ts_distributed.decode_batches(client, items[:64], device="cuda", batch_size=32)  # warm up every worker
        start = time.perf_counter()
        futures = ts_distributed.decode_batches(
            client, items, device="cuda", to_host=False, gather=False, batch_size=96
        )
        client.gather([client.submit(len, future) for future in futures])  # done on the GPUs, results stay there
        pages_s = len(items) / (time.perf_counter() - start)
        checksum = sum(float(a.sum()) for a in ts_distributed.decode_batches(client, items[::97], device="cuda"))
        found: dict[str, object] = {"pages/s": pages_s, "checksum": checksum}
        if slide:
            rng = np.random.default_rng(0)
            locations = list(
                zip(rng.integers(0, 2000, 10000).tolist(), rng.integers(0, 1500, 10000).tolist(), strict=True)
            )
            start = time.perf_counter()
            patches = ts_distributed.read_patches(client, slide, locations, 0, (224, 224), device="cuda", batch_size=64)
            found["patches/s"] = len(locations) / (time.perf_counter() - start)
            found["patch_sum"] = int(patches.sum(dtype=np.uint64))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpus", default="1,2,4,8")
    parser.add_argument("--slide", help="a slide for the patch rows (e.g. the corpus CMU-1-Small-Region.svs)")
    parser.add_argument(
        "--files", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-gpu-bench"
    )
    args = parser.parse_args()
    import cupy

    available = cupy.cuda.runtime.getDeviceCount()
    args.files.mkdir(parents=True, exist_ok=True)
    files = stacks(args.files)
    results = {}
    for gpus in (int(n) for n in args.gpus.split(",")):
        if gpus > available:
            print(f"{gpus} GPUs: only {available} here, skipped")
            continue
        results[gpus] = run(gpus, files, args.slide)
    one = results.get(1)
    for gpus, found in results.items():
        line = f"{gpus} GPU(s): {found['pages/s']:8.0f} pages/s"
        if one:
            line += f" ({found['pages/s'] / one['pages/s'] / gpus:.2f} x N scaling)"  # type: ignore[operator]
            line += " equal" if found["checksum"] == one["checksum"] else " DIFFERENT"
        if "patches/s" in found:
            line += f"; {found['patches/s']:8.0f} patches/s"
            if one and "patches/s" in one:
                line += f" ({found['patches/s'] / one['patches/s'] / gpus:.2f} x N)"  # type: ignore[operator]
                line += " equal" if found["patch_sum"] == one["patch_sum"] else " DIFFERENT"
        print(line)


if __name__ == "__main__":
    main()

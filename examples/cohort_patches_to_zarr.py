"""Recipe: patch extraction over a cohort of slides on every GPU of a host (or a cluster), into one zarr v3 array.

    pip install "tiffstream[multigpu]"        # dask-cuda, zarr
    python examples/cohort_patches_to_zarr.py SLIDE... --out patches.zarr [--patches 1000] [--size 224]

One dask-cuda worker per GPU (``LocalCUDACluster``; the same code runs on a CPU ``LocalCluster`` without
GPUs). Each slide's random tissue-agnostic patches are read in batches of 64 on the workers'
GPUs (``tiffstream.distributed.read_patches``); batches are written to their rows of the zarr array as they
arrive, so the host holds one batch at a time whatever the cohort's size.
"""

from __future__ import annotations

import argparse

import numpy as np
import zarr
from distributed import Client, as_completed

import tiffstream.slide
from tiffstream import distributed as ts_distributed


def cluster() -> object:
    """A cluster of one worker per GPU where dask-cuda and GPUs are there, else of CPU workers."""
    try:
        from dask_cuda import LocalCUDACluster

        return LocalCUDACluster()
    except (ImportError, RuntimeError):
        from distributed import LocalCluster

        return LocalCluster(threads_per_worker=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("slides", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--patches", type=int, default=1000, help="patches per slide")
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with cluster() as running, Client(running) as client:
        device = "cuda" if "cuda" in type(running).__name__.lower() else "cpu"
        total = args.patches * len(args.slides)
        store = zarr.open_array(
            args.out,
            mode="w",
            shape=(total, args.size, args.size, 4),
            chunks=(64, args.size, args.size, 4),
            dtype="uint8",
        )
        futures = {}
        for number, path in enumerate(args.slides):
            with tiffstream.slide.OpenSlide(path) as slide:
                width, height = slide.dimensions
            xs, ys = rng.integers(0, width - args.size, args.patches), rng.integers(0, height - args.size, args.patches)
            locations = list(zip(xs.tolist(), ys.tolist(), strict=True))
            batches = ts_distributed.read_patches(
                client, path, locations, 0, (args.size, args.size), device=device, gather=False
            )
            for k, future in enumerate(batches):
                futures[future] = number * args.patches + 64 * k  # the first row of this batch
        for future, batch in as_completed(futures, with_results=True):
            store[futures[future] : futures[future] + len(batch)] = batch
    print(f"{args.out}: {total} patches of {args.size}x{args.size} from {len(args.slides)} slides ({device})")


if __name__ == "__main__":
    main()

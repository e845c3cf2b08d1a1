"""A 192-page seed-like stack through dask: to_dask on a 2-worker LocalCluster, plain threaded decode, and
tifffile's zarr store with dask.array.from_zarr, in one run.

    python benchmarks/dask_decode.py [--dir DIR]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import dask
import dask.array as da
import distributed
import numpy as np
import tifffile
import zarr

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import best, machine
from parse import seed_like

import tiffstream


def warm_best(func, repeats: int = 3) -> float:
    """Best of ``repeats`` after one warm-up call."""
    func()
    return best(func, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = str(seed_like(args.dir / "seed_like_dask.ome.tif"))
    expected = tifffile.imread(path, key=range(192), maxworkers=2)
    mpix = expected.size / 1e6
    rows = []
    t = warm_best(lambda: tiffstream.imread(path, range(192)))
    rows.append(("tiffstream threaded (imread page=range)", t))
    t = warm_best(lambda: tiffstream.to_dask(path).compute(scheduler="threads"))
    rows.append(("tiffstream to_dask, threads", t))

    def tifffile_zarr() -> np.ndarray:
        with tifffile.TiffFile(path) as tif, tif.series[0].aszarr(level=0) as store:
            return da.from_zarr(zarr.open_array(store, mode="r")).compute(scheduler="threads")

    t_peer = warm_best(tifffile_zarr)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster),
    ):
        assert np.array_equal(tiffstream.to_dask(path).compute(), expected)
        t = warm_best(lambda: tiffstream.to_dask(path).compute())
        rows.append(("tiffstream to_dask, LocalCluster 2 workers", t))
        t_peer_cluster = warm_best(tifffile_zarr)
    print(
        f"tiffstream {tiffstream.__version__}, tifffile {tifffile.__version__}, dask {dask.__version__}, "
        f"zarr {zarr.__version__}; {machine()}"
    )
    print(f"{'case':<46} {'time':>9} {'MP/s':>7} {'vs tifffile+zarr (threads)':>27}")
    for case, seconds in rows:
        print(f"{case:<46} {seconds * 1e3:7.0f} ms {mpix / seconds:7.0f} {t_peer / seconds:26.2f}x")
    print(f"{'tifffile aszarr + dask.from_zarr, threads':<46} {t_peer * 1e3:7.0f} ms {mpix / t_peer:7.0f}")
    print(
        f"{'tifffile aszarr + dask.from_zarr, cluster':<46} {t_peer_cluster * 1e3:7.0f} ms {mpix / t_peer_cluster:7.0f}"
    )


if __name__ == "__main__":
    main()

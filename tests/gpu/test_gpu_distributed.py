"""tiffstream.distributed on GPU workers: a one-GPU dask-cuda LocalCUDACluster, results left on the GPU
(CuPy) or copied to the host, equal to tifffile. Marked ``gpu``: skipped without CuPy, dask-cuda and a device."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

cp = pytest.importorskip("cupy")
dask_cuda = pytest.importorskip("dask_cuda")
distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.gpu

from tiffstream import distributed as ts_distributed


# numba-cuda, imported by distributed to move CuPy arrays, warns at import under NumPy >= 2.5 (not our code)
@pytest.mark.filterwarnings("ignore::DeprecationWarning:numba")
def test_one_gpu_cluster(seed_like_file: pathlib.Path) -> None:
    items = [(str(seed_like_file), page) for page in range(0, 192, 5)]
    with dask_cuda.LocalCUDACluster(n_workers=1) as cluster, distributed.Client(cluster) as client:
        host = ts_distributed.decode_batches(client, items, device="cuda", batch_size=16)
        futures = ts_distributed.decode_batches(client, items, device="cuda", to_host=False, gather=False)
        on_device = [array for batch in client.gather(futures) for array in batch]
    assert all(isinstance(array, cp.ndarray) for array in on_device)
    for (path, page), array, device_array in zip(items, host, on_device, strict=True):
        expected = tifffile.imread(path, key=page)
        np.testing.assert_array_equal(array, expected)
        np.testing.assert_array_equal(device_array.get(), expected)

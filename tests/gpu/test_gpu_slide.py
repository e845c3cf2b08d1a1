"""The slide API's batches on the GPU: ``read_regions(device="cuda")`` is one CuPy array equal to the CPU batch.

Marked ``gpu``: skipped without CuPy and a CUDA device.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import tiffstream.slide as ts

cp = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

if cp.cuda.runtime.getDeviceCount() == 0:
    pytest.skip("no CUDA device", allow_module_level=True)


def test_read_regions_on_the_device_equal_the_host_batch(tmp_path):
    path = tmp_path / "slide.tif"
    data = np.random.default_rng(3).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(64, 64), photometric="rgb", compression="jpeg", metadata=None)
        writer.write(data[::2, ::2], tile=(64, 64), photometric="rgb", subfiletype=1, metadata=None)
    locations = [(0, 0), (350, 250), (-30, 40), (123, 77)]
    with ts.OpenSlide(path) as slide:
        for level in (0, 1):
            batch = slide.read_regions(locations, level, (64, 48), device="cuda")
            assert isinstance(batch, cp.ndarray) and batch.shape == (4, 48, 64, 4)
            np.testing.assert_array_equal(batch.get(), slide.read_regions(locations, level, (64, 48)))

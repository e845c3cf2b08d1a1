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


# name: (tifffile options for both levels, the samples, largest difference from the host batch allowed)
CASES = {
    "jpeg-rgb": ({"photometric": "rgb", "compression": "jpeg"}, "rgb", 1),
    "jpeg-ycbcr": ({"photometric": "ycbcr", "compression": "jpeg"}, "rgb", 1),
    "deflate-rgb": ({"photometric": "rgb", "compression": "zlib"}, "rgb", 0),
    "jpeg2000-rgb": ({"photometric": "rgb", "compression": "jpeg2000", "compressionargs": {"level": 0}}, "rgb", 0),
    "lzw-gray16": ({"photometric": "minisblack", "compression": "lzw"}, "gray16", 0),
    "deflate-rgba": ({"photometric": "rgb", "compression": "zlib", "extrasamples": [2]}, "rgba", 0),
}


@pytest.mark.parametrize("case", CASES)
def test_read_regions_on_the_device_match_the_host_batch(tmp_path, case):
    """Patches decoded on the GPU (regions of the level in one batch) are the host's, within 1 level for JPEG."""
    options, kind, allowed = CASES[case]
    rng = np.random.default_rng(3)
    y, x = np.ogrid[0:300, 0:400]
    smooth = np.stack([(x + 2 * y + 40 * c) % 256 for c in range(4)], -1)
    data = np.clip(smooth + rng.integers(0, 24, (300, 400, 4)), 0, 255).astype(np.uint8)
    data = {"rgb": data[..., :3], "rgba": data, "gray16": data[..., 0].astype(np.uint16) * 257}[kind]
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(64, 64), metadata=None, **options)
        writer.write(np.ascontiguousarray(data[::2, ::2]), tile=(64, 64), subfiletype=1, metadata=None, **options)
    locations = [(0, 0), (350, 250), (-30, 40), (123, 77), (900, 900)]
    with ts.OpenSlide(path) as slide:
        for level in (0, 1):
            batch = slide.read_regions(locations, level, (64, 48), device="cuda")
            assert isinstance(batch, cp.ndarray) and batch.shape == (5, 48, 64, 4)
            host = slide.read_regions(locations, level, (64, 48))
            assert int(np.abs(batch.get().astype(np.int16) - host).max()) <= allowed
            assert not batch[4].any()  # outside the level: transparent

"""Remote reads: requests and bytes to open a 1,000-page OME-TIFF over HTTP (local server, 127.0.0.1),
count its pages and read one tile, tiffstream vs tifffile on the same fsspec file object.

    python benchmarks/remote.py
"""

from __future__ import annotations

import http.server
import pathlib
import sys
import tempfile
import threading

import fsspec
import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
from range_server import RangeHandler  # noqa: E402  # the same range-serving handler as the tests

import tiffstream  # noqa: E402


def write(path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        data = np.random.default_rng(0).integers(0, 255, (1000, 256, 256), dtype=np.uint8)
        with tifffile.TiffWriter(path, ome=True) as writer:
            writer.write(data, tile=(128, 128), compression="zlib", subifds=1, metadata={"axes": "ZYX"})
            writer.write(data[:, ::2, ::2], tile=(128, 128), compression="zlib", subfiletype=1)
    return path


def served_bytes() -> int:
    total = 0
    for method, spec in RangeHandler.requests:
        if method == "GET" and spec:
            first, _, last = spec[6:].partition("-")
            total += int(last) - int(first) + 1 if last else len(RangeHandler.data) - int(first)
        elif method == "GET":
            total += len(RangeHandler.data)
    return total


def main() -> None:
    path = write(pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench" / "remote_1000.ome.tif")
    RangeHandler.data = path.read_bytes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/remote.ome.tif"
    expected = tifffile.imread(path, key=999)[:128, :128]
    results = []
    RangeHandler.requests = []
    with tiffstream.open(url) as tif:
        count = len(tif.pages)
        tile = tif.pages[999].asarray(region=(0, 0, 128, 128))
    assert count == 1000 and np.array_equal(tile, expected)
    results.append(("tiffstream", len(RangeHandler.requests), served_bytes()))
    RangeHandler.requests = []
    with fsspec.open(url, "rb") as handle, tifffile.TiffFile(handle) as tif:
        assert len(tif.pages) == 1000
        store = tif.series[0].aszarr(level=0)
        import zarr

        tile = zarr.open_array(store, mode="r")[999, :128, :128]
    assert np.array_equal(tile, expected)
    results.append(("tifffile over fsspec", len(RangeHandler.requests), served_bytes()))
    httpd.shutdown()
    print(f"file: {len(RangeHandler.data) / 1e6:.1f} MB, 1000 pages of 256x256 (128 tiles, deflate) + 1 SubIFD each")
    print(f"{'reader':<24} {'requests':>9} {'bytes':>12}")
    for name, requests, nbytes in results:
        print(f"{name:<24} {requests:>9} {nbytes:>12}")


if __name__ == "__main__":
    main()

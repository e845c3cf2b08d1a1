"""napari: time from ``viewer.open`` to the first drawn screen of a large RGB pyramid, our plugin vs napari's
builtin reader (tifffile; it reads the full-resolution image whole), each in a fresh process under Xvfb.

    python benchmarks/napari_first_tile.py [--width 40000] [--height 30000]

The pyramid (JPEG 512x512 tiles, halved levels as SubIFDs, written by tiffstream a band at a time) is made
once in the temp folder. Run where napari (``pip install "napari[pyqt5]"``) and xvfb-run are installed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

import tiffstream

VIEWER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import napari
from qtpy.QtWidgets import QApplication
viewer = napari.Viewer(show=True)
QApplication.processEvents()
start = time.perf_counter()
layers = viewer.open(sys.argv[1], plugin=sys.argv[2])
opened = time.perf_counter() - start
while time.perf_counter() - start < 600:
    QApplication.processEvents()
    if viewer.screenshot(canvas_only=True, flash=False)[..., :3].mean() > 5:
        break
print(json.dumps({"open": opened, "first_screen": time.perf_counter() - start, "multiscale": layers[0].multiscale}))
"""


class _Gradient:
    """A lazy ``(height, width, 3)`` picture: the writer reads it a band of tiles at a time."""

    def __init__(self, height: int, width: int) -> None:
        self.shape, self.dtype = (height, width, 3), np.dtype(np.uint8)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        y, x = np.mgrid[rows.start : min(rows.stop, self.shape[0]), cols.start : min(cols.stop, self.shape[1])]
        return np.stack([(x // 64) % 256, (y // 64) % 256, ((x + y) // 128) % 256], axis=-1).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=40000)
    parser.add_argument("--height", type=int, default=30000)
    args = parser.parse_args()
    path = pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench" / f"napari_{args.width}x{args.height}.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with tiffstream.TiffWriter(path, bigtiff=True) as writer:
            writer.write(_Gradient(args.height, args.width), tile=(512, 512), compression="jpeg", subifds=6)
    print(f"{args.width}x{args.height} RGB, JPEG 512x512 tiles, 6 SubIFD levels ({path.stat().st_size / 1e6:.0f} MB)")
    for plugin in ("tiffstream", "napari"):
        done = subprocess.run(
            ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-c", VIEWER, str(path), plugin],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(
                f"  {plugin:<12} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
            )
            continue
        found = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  {plugin:<12} open {found['open']:7.2f} s, first screen {found['first_screen']:7.2f} s, "
            f"multiscale={found['multiscale']}"
        )


if __name__ == "__main__":
    main()

"""napari opens a pyramid through our plugin: a real viewer under Xvfb (in a process of its own, so Qt and
the display stay out of the test process), whose canvas shows the image's colours."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tifffile

pytest.importorskip("napari")
if shutil.which("xvfb-run") is None:
    pytest.skip("xvfb-run is not installed (.ci/run installs it)", allow_module_level=True)

VIEWER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import napari
from qtpy.QtWidgets import QApplication
viewer = napari.Viewer(show=True)
layers = viewer.open(sys.argv[1], plugin="tiffstream")
viewer.reset_view()
for _ in range(200):  # tiles load asynchronously: wait until the canvas is drawn
    QApplication.processEvents()
    shot = viewer.screenshot(canvas_only=True, flash=False)
    if shot[..., :3].mean() > 5:
        break
    time.sleep(0.05)
middle = shot[shot.shape[0] // 2, shot.shape[1] // 2, :3].tolist()
print(json.dumps({"layers": len(layers), "multiscale": layers[0].multiscale, "rgb": layers[0].rgb,
                  "levels": [list(level.shape) for level in layers[0].data], "middle": middle}))
viewer.close()
"""


def test_napari_shows_a_pyramid(tmp_path: pathlib.Path) -> None:
    rgb = np.zeros((1024, 1024, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 200, 40  # one colour everywhere: the canvas centre must show it
    path = tmp_path / "pyramid.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(rgb, tile=(256, 256), photometric="rgb", compression="zlib", metadata=None)
        writer.write(rgb[::2, ::2], tile=(256, 256), photometric="rgb", subfiletype=1, metadata=None)
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-c", VIEWER, str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["layers"] == 1 and found["multiscale"] and found["rgb"]
    assert found["levels"] == [[1024, 1024, 3], [512, 512, 3]]
    assert found["middle"] == [200, 0, 40]

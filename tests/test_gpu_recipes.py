"""Recipes (``gpu/recipes.py``) checked without a GPU, on ``tools/cupy_standin`` (a graph there records the
copies and launches of a capture and runs them again): an image decoded alone is captured the second time and
replayed after that with an upload, one graph launch, one allocation and one copy; its pixels equal tifffile's every time
(uncompressed strips, tiles and regions, whose kernels the stand-in runs: the GPU tests check the others); a
replay reads the file anew; another region or page is another recipe; none are made with ``recipe_bytes=0``;
the least recently used goes when the budget is spent, and one larger than the budget is used once and never made
again; a cut file's missing rows are filled on every replay.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import tifffile

STANDIN = pathlib.Path(__file__).resolve().parents[1] / "tools" / "cupy_standin"

CHECK = r"""
import json, sys, warnings
import cupy
import numpy as np
import tifffile
import tiffstream
from tiffstream import decoder
from tiffstream.gpu.settings import GpuSettings

decoder.gpu_available = lambda: (True, "")  # the stand-in is a device here
UNCHANGED = tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True)
strips, tiles, cut = sys.argv[1:4]
report = {}


def decode(ours, path, page=0, region=None):
    cupy.CALLS.clear()
    stream = tiffstream.CodeStream(path).get_sub_code_stream(image_idx=page, region=region)
    got = np.asarray(ours.decode(stream, params=UNCHANGED))
    return got, dict(cupy.CALLS)


def same(got, expected):
    return bool(np.array_equal(got.reshape(expected.shape), expected))


ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
for name, path in (("strips", strips), ("tiles", tiles)):
    calls = []
    for page in (0, 1):
        expected = tifffile.imread(path, key=page)
        for _ in range(4):
            got, counted = decode(ours, path, page)
            calls.append((same(got, expected), counted.get("graph launch", 0), counted.get("launch", 0)))
            report[name + " last calls"] = counted
        window = expected[37:120, 21:150]
        for _ in range(3):
            got, counted = decode(ours, path, page, tiffstream.Region(37, 21, 120, 150))
            calls.append((same(got, window), counted.get("graph launch", 0), counted.get("launch", 0)))
    report[name] = calls
recipes = ours._gpu_backend.recipes
report["held"] = recipes._bytes

with open(strips, "r+b") as file:  # the same layout, other pixels: a replay reads them
    with tifffile.TiffFile(strips) as tif:
        offset, nbytes = tif.pages[0].dataoffsets[0], tif.pages[0].databytecounts[0]
    file.seek(offset)
    file.write(bytes(nbytes))
got, counted = decode(ours, strips)
expected = tifffile.imread(strips, key=0)
report["changed"] = [same(got, expected), counted.get("graph launch", 0), int(expected[0].max())]

never = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=GpuSettings(recipe_bytes=0))
report["off"] = [decode(never, tiles)[1].get("graph launch", 0) for _ in range(3)]

one = max(recipe.nbytes for recipe in recipes._recipes.values())  # a budget for one recipe of a page
small = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=GpuSettings(recipe_bytes=one))
report["small graphs"] = [decode(small, tiles, page)[1].get("graph launch", 0) for page in (0, 0, 1, 1, 0, 0, 0)]
kept = small._gpu_backend.recipes
report["small"] = [kept._bytes, one, sum(recipe is not None for recipe in kept._recipes.values())]
tiny = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=GpuSettings(recipe_bytes=1))
report["tiny"] = [decode(tiny, tiles)[1].get("graph launch", 0) for _ in range(4)]

cpu = tiffstream.Decoder(backends=[tiffstream.BackendKind.CPU_ONLY])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    expected = np.asarray(cpu.decode(tiffstream.CodeStream(cut), params=UNCHANGED))
    report["cut"] = []
    for _ in range(4):
        got, counted = decode(ours, cut)
        report["cut"].append((same(got, expected), counted.get("graph launch", 0)))
print(json.dumps(report))
"""


def test_images_decoded_alone_replay_their_recipe(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(1, 255, (2, 200, 230), dtype=np.uint8)
    strips, tiles, cut = (tmp_path / name for name in ("strips.tif", "tiles.tif", "cut.tif"))
    tifffile.imwrite(strips, data, rowsperstrip=16, photometric="minisblack")
    tifffile.imwrite(tiles, data, tile=(64, 48), photometric="minisblack")
    tifffile.imwrite(cut, data[0], rowsperstrip=64, photometric="minisblack")
    with tifffile.TiffFile(cut) as tif:
        last = tif.pages[0].dataoffsets[-1]
    cut.write_bytes(cut.read_bytes()[: last + 10 * 230 + 7])  # the last strip keeps 10 rows and a bit
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STANDIN), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", CHECK, str(strips), str(tiles), str(cut)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("strips", "tiles"):
        calls = report[name]
        assert all(equal for equal, _, _ in calls), calls
        # per page: 4 whole-image calls (usual, capture, replay, replay), then 3 of a region (usual, capture, replay)
        graphs = [graph for _, graph, _ in calls]
        assert graphs == [0, 1, 1, 1, 0, 1, 1] * 2, calls
        assert all(launches == 0 for (_, graph, launches), before in zip(calls, [0, *graphs]) if graph and before)
        # the chunk bytes' upload (one part: they are small), the graph, the output and its copy
        assert report[name + " last calls"] == {"graph launch": 1, "allocation": 1, "copy": 2}, report
    assert report["held"] > 0
    assert report["changed"] == [True, 1, 0], report["changed"]
    assert report["off"] == [0, 0, 0]
    held, budget, recipes = report["small"]
    assert held <= budget and recipes == 1, report["small"]
    # page 0: usual, captured; page 1 the same (page 0's recipe goes); page 0 anew: usual, captured, replayed
    assert report["small graphs"] == [0, 1, 0, 1, 0, 1, 1], report["small graphs"]
    assert report["tiny"] == [0, 1, 0, 0], report["tiny"]  # captured once, too large to keep, never again
    assert report["cut"] == [[True, 0], [True, 1], [True, 1], [True, 1]], report["cut"]

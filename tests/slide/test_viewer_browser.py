"""The viewer in a real browser: headless Chromium loads the page, zoomed in, and its screenshot shows the
slide's tiles, fetched from the Deep Zoom level that zoom needs. Skips without Chromium, except in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time

import numpy as np
import pytest
import tifffile

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
from PIL import Image

from tiffstream.slide.server import SlideSet, create_app

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("no Chromium in CI (.ci/run installs Debian's chromium)")
    pytest.skip("no Chromium here")


def _serve(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, thread, port


def test_chromium_shows_tiles_when_zoomed(tmp_path):
    browser = _browser()
    path = tmp_path / "slide.tif"
    data = np.zeros((2048, 2048, 3), np.uint8)
    data[..., 0] = 220  # a red slide with a green grid: easy to find in a screenshot
    data[::64, :, 1] = data[:, ::64, 1] = 200
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(256, 256), photometric="rgb", compression="zlib", metadata=None)
        writer.write(data[::4, ::4], tile=(256, 256), photometric="rgb", subfiletype=1, metadata=None)
    requested: list[str] = []
    app = create_app(SlideSet([path]))

    async def recording(scope, receive, send):
        if scope["type"] == "http":
            requested.append(scope["path"])
        await app(scope, receive, send)

    server, thread, port = _serve(recording)
    shot = tmp_path / "shot.png"
    try:
        subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                f"--screenshot={shot}", "--window-size=1000,700", "--virtual-time-budget=8000",
                f"http://127.0.0.1:{port}/view/slide#zoom=4",
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(10)
    tiles = [p for p in requested if "_files/" in p]
    levels = {int(p.split("_files/")[1].split("/")[0]) for p in tiles}
    assert tiles and max(levels) >= 10  # zoomed in 4x on a 2048-pixel slide: Deep Zoom level 10 or 11
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    view = pixels[:, :650]  # left of the side panel
    red = (view[..., 0] > 180) & (view[..., 1] < 80) & (view[..., 2] < 80)
    assert red.mean() > 0.3, f"the view shows no slide ({red.mean():.2f} red)"

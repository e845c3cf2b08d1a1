"""``tiffstream serve``: Deep Zoom over HTTP through the Starlette app (and once through uvicorn on a port):
what it serves equals DeepZoomGenerator's tiles; bad requests are 404s, never tracebacks or other files."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.request

import numpy as np
import pytest
import tifffile

from tiffstream.slide import OpenSlide
from tiffstream.slide.deepzoom import DeepZoomGenerator

pytest.importorskip("starlette")
PIL = pytest.importorskip("PIL")
from starlette.testclient import TestClient

from tiffstream.slide.server import SlideSet, create_app


@pytest.fixture
def slide_path(tmp_path):
    path = tmp_path / "my slide.svs"
    yy, xx = np.mgrid[0:600, 0:700]
    data = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    head = "Aperio Image Library v12.0.15\r\n700x600 [0,0 700x600] (256x256) JPEG/RGB Q=70"
    with tifffile.TiffWriter(path) as writer:
        writer.write(
            data, tile=(256, 256), photometric="rgb", description=head + "|AppMag = 20|MPP = 0.5", metadata=None
        )
        writer.write(data[::8, ::8], photometric="rgb", description=head, metadata=None)
        writer.write(data[::2, ::2], tile=(256, 256), photometric="rgb", description=head, metadata=None)
        writer.write(data[:50, :60], photometric="rgb", subfiletype=1, description="label", metadata=None)
    return path


@pytest.fixture
def client(slide_path, tmp_path):
    with TestClient(create_app(SlideSet([slide_path, tmp_path / "missing.svs"]))) as test_client:
        yield test_client


def test_index_viewer_dzi_and_info(client, slide_path):
    assert client.get("/").status_code == 200 and "/view/my_slide" in client.get("/").text
    assert client.get("/slides.json").json() == ["missing", "my_slide"]
    page = client.get("/view/my_slide")
    assert page.status_code == 200 and "my_slide" in page.text and "<script>" in page.text
    with OpenSlide(slide_path) as slide:
        zoom = DeepZoomGenerator(slide)
        assert client.get("/slides/my_slide.dzi").text == zoom.get_dzi("jpeg")
        info = client.get("/slides/my_slide.json").json()
        assert info["deepzoom_levels"] == zoom.level_count and info["properties"]["openslide.vendor"] == "aperio"
        assert info["associated_images"] == ["thumbnail", "label"]


def test_tiles_are_deep_zoom_tiles(client, slide_path):
    from PIL import Image

    with OpenSlide(slide_path) as slide:
        zoom = DeepZoomGenerator(slide)
        level = zoom.level_count - 1
        expected = np.asarray(zoom.get_tile(level, (1, 1)))
    got = client.get(f"/slides/my_slide_files/{level}/1_1.png")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(got.content))), expected)
    jpeg = client.get(f"/slides/my_slide_files/{level}/0_0.jpeg")
    assert jpeg.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(jpeg.content)).size == (255, 255)
    assert client.get("/slides/my_slide/associated/label.webp").headers["content-type"] == "image/webp"


@pytest.mark.parametrize(
    "url",
    [
        "/slides/nothing.dzi",
        "/slides/my_slide_files/99/0_0.jpeg",
        "/slides/my_slide_files/0/5_0.jpeg",
        "/slides/my_slide_files/12/0_0.gif",
        "/slides/..%2F..%2Fetc%2Fpasswd.dzi",
        "/slides/../../etc/passwd",
        "/view/..%2Fsecret",
        "/slides/my_slide/associated/macro.jpeg",
    ],
)
def test_bad_requests_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404 and "Traceback" not in response.text


def test_a_real_server(slide_path):
    uvicorn = pytest.importorskip("uvicorn")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(SlideSet([slide_path])), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/slides/my_slide.dzi", timeout=10) as response:
            assert response.status == 200 and b'TileSize="254"' in response.read()
    finally:
        server.should_exit = True
        thread.join(10)

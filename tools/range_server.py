"""A local HTTP server (127.0.0.1 only) that serves one file with HEAD and Range GETs and logs every request:
what the remote-read tests and benchmarks count requests and bytes against."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator

__all__ = ["RangeHandler", "serving"]


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one file with HEAD and Range GETs; counts requests."""

    data = b""
    requests: list[tuple[str, str | None]] = []  # noqa: RUF012  # reset per server by ``serving``

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_HEAD(self) -> None:
        type(self).requests.append(("HEAD", None))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    def do_GET(self) -> None:
        spec = self.headers.get("Range")
        type(self).requests.append(("GET", spec))
        if spec and spec.startswith("bytes="):
            first, _, last = spec[6:].partition("-")
            start, end = int(first), min(int(last) if last else len(self.data) - 1, len(self.data) - 1)
            body = self.data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(self.data)}")
        else:
            body = self.data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(data: bytes, name: str = "file.tif") -> Iterator[str]:
    """Serve ``data`` at the URL yielded; ``RangeHandler.requests`` logs the requests made meanwhile."""
    RangeHandler.data = data
    RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{name}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

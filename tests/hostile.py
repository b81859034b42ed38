"""A small hostile station for the tests: a real HTTP server whose answers a test writes byte by byte.

The simulator speaks the interface as it should be spoken; this one lets a test send what a
broken or malicious station sends (bombs, drips, cut-off streams, echoed secrets) over a real socket.
"""

from __future__ import annotations

import gzip
import json
import socketserver
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from resources.interface import load_interface
from resources.station_api import ClientSettings, StationClient, StationEndpoint

TOKEN = "hostile-token-Zq81"  # noqa: S105 - a test token, looked for in messages
PASSWORD = "hostile-Pw-5521"  # noqa: S105
Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_PUT(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        path = self.path.partition("?")[0]
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        route = self.server.routes.get(path) or self.server.routes.get("*")
        try:
            if route is None:
                self.send_raw(404, b"not found", "text/plain")
            else:
                route(self)
        except OSError:
            self.close_connection = True

    # -- what routes use

    def send_raw(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, document: object) -> None:
        self.send_raw(200, json.dumps(document, ensure_ascii=False).encode())

    def drip(self, body: bytes, every_s: float, *, content_type: str = "application/json") -> None:
        """Announce the whole body, then send it a byte at a time."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(every_s)


def login_ok(handler: Handler) -> None:
    handler.send_json({"code": 0, "msg": "success", "data": {"token": TOKEN, "expiresIn": 7200}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]


class HostileStation:
    def __init__(self, routes: dict[str, Route] | None = None):
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.routes = {"/api/v1/auth/login": login_ok, **(routes or {})}
        self.server.seen = []
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def seen(self) -> list:
        return self.server.seen

    def route(self, path: str, answer: Route) -> None:
        self.server.routes[path] = answer

    def client(self, settings: ClientSettings | None = None, password: str = PASSWORD) -> StationClient:
        endpoint = StationEndpoint("ST-H", self.base_url, "st-h", password, 2, ())
        fast = ClientSettings(backoff_initial_s=0.01, backoff_max_s=0.02, max_attempts=2, read_timeout_s=5.0)
        return StationClient(endpoint, load_interface("default"), settings or fast, sleep=lambda _s: None)

    def __enter__(self) -> HostileStation:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def gzip_bomb(decoded_bytes: int, prefix: bytes = b'{"code":0,"msg":"success","data":{"records":["') -> bytes:
    """A gzip body that decodes to `decoded_bytes` (mostly zeros), built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(prefix)]
    block = b"0" * (1 << 20)
    for _ in range(decoded_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return b"".join(parts)


def cut_gzip(data: bytes, keep: float = 0.5) -> bytes:
    """The first part of a gzip stream: the HTTP framing is complete, the compressed stream is not."""
    whole = gzip.compress(data)
    return whole[: int(len(whole) * keep)]

"""A small hostile station for the tests: a real HTTP server whose answers a test writes byte by byte.

The simulator speaks the interface as it should be spoken; this one lets a test send what a
broken or malicious station sends (bombs, drips, cut-off streams, echoed secrets) over a real socket.
"""

from __future__ import annotations

import gzip
import io
import json
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pv_model.dialect import load_interface
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


def manifest_row(source_url: str) -> dict:
    """One media_manifest row for a collector test, its key stem fixed."""
    return {
        "station_id": "ST-H",
        "record_id": "R1",
        "url_hash": "0badcafe",
        "media_field": "photo",
        "source_url": source_url,
        "key_stem": "RC-1/ST-H/11010519491231002X_0badcafe",
    }


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


# -- pictures that claim more than they hold (issue 21): small files, huge canvases -----------------------


def tiny_webp(width: int, height: int) -> bytes:
    """A lossless WebP of `width` x `height` black pixels in 28 bytes: five one-symbol prefix codes, so every
    pixel costs zero bits. A decoder fills the whole canvas."""
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> n) & 1 for n in range(count))

    put(0x2F, 8)  # VP8L signature
    put(width - 1, 14)
    put(height - 1, 14)
    put(0, 1)  # alpha unused
    put(0, 3)  # version
    put(0, 3)  # no transform, no colour cache, no meta prefix codes
    for _ in range(5):  # green, red, blue, alpha, distance: a simple code with the single symbol 0
        put(0b0001, 4)
    bits.extend([0] * (-len(bits) % 16))
    payload = bytes(sum(bit << n for n, bit in enumerate(bits[i : i + 8])) for i in range(0, len(bits), 8))
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def png_bomb(width: int, height: int) -> bytes:
    """An RGB PNG of zeros: a few hundred KB that decode to width x height x 3 bytes (made row by row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes(width * 3)  # filter type 0, then the pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def progressive_jpeg_claiming(width: int, height: int) -> bytes:
    """A 64 x 64 progressive JPEG whose frame header says `width` x `height`: libjpeg keeps the coefficients of
    the whole claimed frame while it decodes, at any output scale."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 30)).save(out, "JPEG", progressive=True)
    data = bytearray(out.getvalue())
    frame = data.index(b"\xff\xc2")  # SOF2: marker, length (2), precision (1), height, width
    struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


def heic_claiming(width: int, height: int) -> bytes:
    """A small HEIC (the simulator's) whose image spatial extents (`ispe`) say `width` x `height`."""
    from pv_simulator.media_gen import media_bytes

    data = bytearray(media_bytes("heic", 11, 6_000))
    extents = data.index(b"ispe")  # type, version and flags (4), width, height
    struct.pack_into(">II", data, extents + 8, width, height)
    return bytes(data)

"""The HTTP plumbing of the simulated stations: the threaded server and how answers are written.

`Responses` writes bodies (throttled to the simulator's bandwidth, chunked or truncated on request),
JSON envelopes in the station's dialect, status pages and object-storage XML errors.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
import time
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .dialect import Dialect
from .station_world import FileRoute

STATS_PATH = "/__sim/stats"
BUSINESS_ERROR = 1003  # a v1 code that means nothing to the client but "failed"

CODE_MESSAGES = {
    401: "token已过期",
    429: "请求过于频繁",
    500: "系统繁忙",
    1001: "账号或密码错误",
    1002: "账号已锁定",
    1003: "业务错误",
}
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.20.1</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


# ----------------------------------------------------------------------------- HTTP


if TYPE_CHECKING:
    from .server import StationSimulator
    from .state import StationState


@cache
def _v1() -> Dialect:
    """For requests that belong to no station (unknown paths on the CDN)."""
    return Dialect("default")


def _handler_class():
    from .handler import Handler  # the handler builds on Responses below

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, host: str, simulator: StationSimulator, label: str):
        self.simulator = simulator
        self.label = label  # station id, or "cdn"
        self.state: StationState | None = None
        self.regional = False  # the station's regional API host rather than its login host
        self.routes: dict[str, str] = {}  # raw API path -> route name
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, 0), _handler_class())

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut idle keep-alive connections, so no handler thread outlives stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the client went away: not our problem
            return
        super().handle_error(request, client_address)

    def attach(self, state: StationState, *, regional: bool = False) -> None:
        self.state, self.regional = state, regional
        self.routes = state.dialect.routes(regional=regional)

    def station_for(self, raw_path: str) -> StationState | None:
        if self.state is not None:
            return self.state
        parts = raw_path.split("/")  # CDN: /cdn/<station id>/...
        return self.simulator._states.get(parts[2]) if len(parts) > 2 and parts[1] == "cdn" else None


class Responses(BaseHTTPRequestHandler):
    """How a simulated server writes its answers; the request handling is in handler.py."""

    # -- response helpers

    def _chunk_size(self) -> int:
        bandwidth = self.server.simulator.bandwidth_bytes_per_s
        # Throttled bodies go out in small pieces (~20 per second) so the rate is smooth.
        return max(1024, min(64 * 1024, int(bandwidth / 20))) if bandwidth else 64 * 1024

    def _write_body(self, chunks, *, chunked: bool, limit: int | None) -> None:
        sent, started = 0, time.monotonic()
        for chunk in chunks:
            if limit is not None:
                chunk = chunk[: limit - sent]
            self._throttle(sent + len(chunk), started)
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
            if limit is not None and sent >= limit:
                return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _throttle(self, total_after_write: int, started: float) -> None:
        """Wait until writing up to `total_after_write` bytes keeps within the bandwidth."""
        bandwidth = self.server.simulator.bandwidth_bytes_per_s
        if bandwidth:
            delay = total_after_write / bandwidth - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)

    def _send_bytes(self, status: int, body: bytes, content_type: str | None, headers: dict | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if self._truncate:  # half the announced body, then the connection dies
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(body)

    def _send_json(self, payload: Any, status: int = 200, headers: dict | None = None) -> None:
        status = getattr(payload, "http_status", None) or status  # plain REST dialects say it with the status
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, body, "application/json;charset=UTF-8", headers)

    def _send_status_page(self, status: int) -> None:
        headers = {"Retry-After": self.server.simulator.retry_after} if status in (429, 503) else None
        reason = self.responses.get(status, ("Error",))[0]
        self._send_bytes(status, f"{status} {reason}\n".encode(), "text/plain; charset=utf-8", headers)

    def _send_not_found(self, state: StationState | None, raw_path: str) -> None:
        dialect = state.dialect if state is not None else _v1()
        if raw_path.startswith(dialect.api_prefixes()):
            self._send_json(dialect.error(404, "接口不存在"), status=404)
        else:
            self._send_status_page(404)

    def _send_xml_error(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>\n'
        ).encode()
        self._send_bytes(status, body, "application/xml")


def signature_matches(route: FileRoute, raw_query: str) -> bool:
    """Compare the raw (still percent-encoded) query values: %2B must arrive as %2B."""
    if "%252B" in raw_query.upper():  # double-encoded signature
        return False
    received = dict(part.split("=", 1) for part in raw_query.split("&") if "=" in part)
    return all(received.get(name) == value for name, value in route.signed_query)

"""HTTP servers of the station simulator: one per station plus one shared CDN.

Each station server speaks docs/station-api.md (login, station info, records, media
on its own host behind the bearer token), or the dialect of its spec (`SimStationSpec.dialect`,
rendered by `dialect.Dialect`). A dialect with regional hosts (`login.api_base`) gets a second
server per station that serves the API; the login and the media stay on the first. The CDN
serves signed URLs on another host name ("localhost" instead of "127.0.0.1") without auth, so a
client that leaks the station token across hosts is caught in `StationSimulator.requests`.

Tests steer faults through `StationState` (scripts, token death, locking, paging
trouble) while the servers run.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from resources.interface import load_interface

from .dialect import BAD_CREDENTIALS, LOCKED, REGIONAL_PREFIX, TOKEN_EXPIRED, WRONG_HOST, Dialect
from .media_gen import html_login_page
from .world import (
    ExpectedMedia,
    FileRoute,
    MediaFile,
    RedirectRoute,
    SimStationSpec,
    StatusRoute,
    World,
    build_world,
    inserted_record,
)

ROUTES = ("login", "info", "records", "media", "cdn")
STATS_PATH = "/__sim/stats"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
BUSINESS_ERROR = 1003  # a v1 code that means nothing to the client but "failed"

_CODE_MESSAGES = {
    401: "token已过期",
    429: "请求过于频繁",
    500: "系统繁忙",
    1001: "账号或密码错误",
    1002: "账号已锁定",
    1003: "业务错误",
}
_NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.20.1</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_SCRIPT_ITEM = re.compile(r"^(code\d+|html|html200|reset|truncate|echo|slow:\d+(\.\d+)?)$")


@dataclass(frozen=True)
class RequestLogEntry:
    server: str  # station id, or "cdn"
    method: str
    path: str  # raw, as received (percent-encoding kept), without the query
    query: str  # raw query string, "" when none
    authorization: str | None  # the header that carries the token in the station's dialect (Authorization in v1)
    status: int  # status sent; 0 when the connection was reset without a response


@dataclass
class _Token:
    expires_at: float
    uses: int = 0


@cache
def _v1() -> Dialect:
    """For requests that belong to no station (unknown paths on the CDN)."""
    return Dialect("default")


# ----------------------------------------------------------------------------- station state


class StationState:
    """Live state of one simulated station; every switch may be flipped at any time."""

    def __init__(self, spec: SimStationSpec, world: World, *, token_ttl_s: int, dialect: Dialect | None = None):
        self.spec = spec
        self.world = world
        self.token_ttl_s = token_ttl_s
        self.dialect = dialect or Dialect(spec.dialect)
        self.api_url: str | None = None  # regional API base as the login announces it, e.g. http://127.0.0.1:8002/api/
        self.regional_host: str | None = None  # "127.0.0.1:8002"
        self._lock = threading.RLock()
        self._tokens: dict[str, _Token] = {}
        self._scripts: dict[str, deque] = {route: deque() for route in ROUTES}
        self._in_flight = 0
        self._auth_failures = 0
        self._inserted = 0
        # fault switches
        self.token_max_uses: int | None = None
        self.locked = False
        self.move_records_between_pages = False
        self.total_lies = False
        self.fail_media_status: dict[str, int] = {}
        # Media calls on the station host answer trouble as every other call does: HTTP 200 with the
        # JSON envelope (token expired 401, 429, 500) instead of an HTTP status (station-api.md d1-d2).
        self.media_errors_as_envelope = False
        # counters
        self.issued_tokens: list[str] = []
        self.logins = 0
        self.media_gets = 0  # 200 answers with real media bytes (station host and CDN)
        self.html_gets = 0  # 200 answers with an HTML page instead of the media file
        self.max_concurrent_seen = 0  # peak of requests in flight, those answered 429 included
        self.busy_rejections = 0  # requests answered 429 because max_connections was exceeded

    # -- scripted faults

    def script(self, route: str, items: list) -> None:
        """Queue faults for the next requests to `route`, one item per request (FIFO)."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; expected one of {ROUTES}")
        for item in items:
            if not (isinstance(item, int) or (isinstance(item, str) and _SCRIPT_ITEM.match(item))):
                raise ValueError(f"unknown script item {item!r}")
        with self._lock:
            self._scripts[route].extend(items)

    def next_script(self, route: str):
        with self._lock:
            queue = self._scripts[route]
            return queue.popleft() if queue else None

    def clear_script(self, route: str) -> None:
        """Drop what is still queued for `route`: the fault is over."""
        with self._lock:
            self._scripts[route].clear()

    # -- tokens

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(time.monotonic() + self.token_ttl_s)
            self.issued_tokens.append(token)  # so tests can look for leaks of every token ever issued
            self.logins += 1
        return token

    def use_token(self, token: str | None) -> bool:
        """True when the token is alive; counts one use of it."""
        with self._lock:
            entry = self._tokens.get(token or "")
            if entry is None:
                return False
            used_up = self.token_max_uses is not None and entry.uses >= self.token_max_uses
            if used_up or time.monotonic() >= entry.expires_at:
                del self._tokens[token]
                return False
            entry.uses += 1
            return True

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def next_auth_failure_is_http(self) -> bool:
        """Quirky v1 stations alternate between envelope code 401 and a real HTTP 401."""
        with self._lock:
            self._auth_failures += 1
            return self.spec.quirks and self.dialect.mirrors_auth_failures_as_http() and self._auth_failures % 2 == 0

    # -- politeness

    @contextmanager
    def admission(self):
        """Yields False when this request is one too many for max_connections."""
        with self._lock:
            self._in_flight += 1
            self.max_concurrent_seen = max(self.max_concurrent_seen, self._in_flight)
            admitted = self._in_flight <= self.spec.max_connections
            if not admitted:
                self.busy_rejections += 1
        try:
            yield admitted
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- records

    def records_page(self, page_no: int, page_size: int, updated_since: str | None, start: int | None = None) -> dict:
        """Page `page_no` (1-based) of the v1 records (or the page at `start`), as the dialect renders them later."""
        with self._lock:
            matching = [r for r in self.world.records if updated_since is None or r["updatedAt"] >= updated_since]
            start = (page_no - 1) * page_size if start is None else start
            page = copy.deepcopy(matching[start : start + page_size])
            total = len(matching) // 2 if self.total_lies else len(matching)
            if self.move_records_between_pages and page_no == 1 and len(matching) > page_size:
                self._insert_record_at_front()
            return {"total": total, "pageNo": page_no, "pageSize": page_size, "records": page}

    def _insert_record_at_front(self) -> None:
        # A new record at the front pushes the last record of page 1 onto page 2.
        self._inserted += 1
        newest = max((r["updatedAt"] for r in self.world.records), default="2026-10-01 00:00:00")
        updated = dt.datetime.strptime(newest, TIME_FORMAT) + dt.timedelta(minutes=1)
        record = inserted_record(self.spec, f"R9{self._inserted:03d}", updated.strftime(TIME_FORMAT))
        self.world.records.insert(0, record)

    def records_snapshot(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self.world.records)

    def update_record(self, record_id: str, **fields) -> None:
        """Edit a record as someone at the station would (e.g. a new updatedAt or pickupStatus).

        Expected media follow pickupStatus and idCardNo; edits of the URL fields are not tracked.
        """
        with self._lock:
            for record in self.world.records:
                if record["recordId"] == record_id:
                    record.update(fields)
                    return
        raise KeyError(record_id)

    def expected_media(self) -> list[ExpectedMedia]:
        with self._lock:
            return self.world.expected_media()

    # -- media

    def forced_media_status(self, raw_path: str) -> int | None:
        table = self.fail_media_status
        return table.get(raw_path) or table.get(unquote(raw_path)) or table.get("*")

    def count_media_get(self, media: MediaFile) -> None:
        with self._lock:
            if media.kind == "html":
                self.html_gets += 1
            else:
                self.media_gets += 1


# ----------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
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
        super().__init__((host, 0), _Handler)

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.20.1"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle plus delayed ACK
        # adds ~40 ms to every small response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def send_response(self, code, message=None) -> None:
        self._status = code
        # Logged before the answer leaves: a client that got its answer finds its request in the log.
        self._log_request()
        super().send_response(code, message)

    def _log_request(self) -> None:
        if self._logged:
            return
        self._logged = True
        raw_path, _, raw_query = self.path.partition("?")
        state = self.server.station_for(raw_path)
        credential = state.dialect.credential_header(self.headers) if state is not None else None
        entry = RequestLogEntry(
            self.server.label,
            self.command,
            raw_path,
            raw_query,
            credential or self.headers.get("Authorization"),
            self._status,
        )
        self.server.simulator._log(entry)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    # -- request cycle

    def _handle(self) -> None:
        self._status = 0
        self._logged = False
        self._truncate = False
        raw_path, _, raw_query = self.path.partition("?")
        body = self._body = self._read_body()
        state = self.server.station_for(raw_path)
        try:
            self._admit_and_dispatch(state, raw_path, raw_query, body)
        except OSError:  # the client disconnected mid-response
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            if self._status == 0:
                self._send_bytes(500, b"internal simulator error\n", "text/plain")
        finally:
            self._log_request()  # requests answered by a reset only

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _admit_and_dispatch(self, state, raw_path: str, raw_query: str, body: bytes) -> None:
        if raw_path == STATS_PATH and state is not None and self.server.label != "cdn":
            # The simulator's own counters, for a benchmark that runs it in another process.
            self._send_json(
                {
                    "logins": state.logins,
                    "media_gets": state.media_gets,
                    "max_concurrent_seen": state.max_concurrent_seen,
                    "busy_rejections": state.busy_rejections,
                }
            )
            return
        polite = state is not None and self.server.label != "cdn"
        with state.admission() if polite else nullcontext(True) as admitted:
            if not admitted:
                self._send_status_page(429)
                return
            self._sleep_latency()
            route = self._route_name(raw_path)
            if state is None or route is None:
                self._send_not_found(state, raw_path)
                return
            if route == WRONG_HOST:
                self._send_json(state.dialect.error(BUSINESS_ERROR, "请使用区域服务器访问接口"))
                return
            if self._run_script(state, route):
                return
            self._dispatch(state, route, raw_path, raw_query, body)

    def _route_name(self, raw_path: str) -> str | None:
        if self.server.label == "cdn":
            return "cdn" if raw_path.startswith("/cdn/") else None
        if raw_path in self.server.routes:
            return self.server.routes[raw_path]
        if not self.server.regional and raw_path.startswith(("/files/", "/redirect/", "/moved/")):
            return "media"
        return None

    def _dispatch(self, state: StationState, route: str, raw_path: str, raw_query: str, body: bytes) -> None:
        if not state.dialect.method_allowed(route, self.command):
            self._send_json(state.dialect.error(405, "请求方法不支持"), status=405)
        elif route == "login":
            self._login(state, body)
        elif route == "info":
            self._station_info(state, raw_path, raw_query, body)
        elif route == "records":
            self._records(state, raw_path, raw_query, body)
        elif route == "media":
            self._station_media(state, raw_path, raw_query)
        else:
            self._cdn_media(state, raw_path, raw_query)

    def _sleep_latency(self) -> None:
        latency_ms = self.server.simulator.latency_ms
        if latency_ms > 0:
            time.sleep(latency_ms / 1000)

    # -- scripted faults

    def _run_script(self, state: StationState, route: str) -> bool:
        """Apply the next scripted fault; True when it already answered the request."""
        item = state.next_script(route)
        if item is None:
            return False
        if isinstance(item, int):
            self._send_status_page(item)
        elif item.startswith("code"):  # a v1 code, sent as the dialect's code for the same meaning
            code = int(item[4:])
            self._send_json(state.dialect.error(code, _CODE_MESSAGES.get(code, "业务错误")))
        elif item == "echo":  # an error message that echoes the request, credentials and all
            request_body = self._body.decode(errors="replace")
            echoed = f"非法请求 Authorization: {self.headers.get('Authorization')} body: {request_body}"
            self._send_json(state.dialect.error(BAD_CREDENTIALS if route == "login" else BUSINESS_ERROR, echoed))
        elif item == "html":
            self._send_bytes(502, _NGINX_502, "text/html")
        elif item == "html200":
            self._send_bytes(200, html_login_page(), "text/html; charset=utf-8")
        elif item == "reset":
            self._reset_connection()
        elif item.startswith("slow:"):
            time.sleep(float(item[5:]))
            return False
        elif item == "truncate":
            self._truncate = True
            return False
        return True

    def _reset_connection(self) -> None:
        self.close_connection = True
        try:  # linger 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()

    # -- API

    def _credentials_ok(self, state: StationState, raw_path: str, raw_query: str, body: bytes) -> bool:
        keyless = state.dialect.keyless_check(self.headers, self.command, raw_path, raw_query, body, state.spec)
        if keyless is not None:
            return keyless
        return state.use_token(state.dialect.request_token(self.headers))

    def _api_authorised(self, state: StationState, raw_path: str = "", raw_query: str = "", body: bytes = b"") -> bool:
        if self._credentials_ok(state, raw_path, raw_query, body):
            return True
        if state.next_auth_failure_is_http():
            self._send_json(state.dialect.error(TOKEN_EXPIRED, "未授权"), status=401)
        else:
            self._send_json(state.dialect.error(TOKEN_EXPIRED, "token已过期"))
        return False

    def _login(self, state: StationState, body: bytes) -> None:
        dialect = state.dialect
        try:
            account, password = dialect.credentials(body, self.headers)
        except ValueError:
            self._send_json(dialect.error(400, "请求参数格式错误"), status=dialect.http_status(400))
            return
        if state.locked:
            self._send_json(dialect.error(LOCKED, "账号已锁定"))
        elif account != state.spec.account or not dialect.password_matches(password, state.spec.password):
            self._send_json(dialect.error(BAD_CREDENTIALS, "账号或密码错误"))
        else:
            token = state.issue_token()
            document, headers = dialect.login_response(
                token, ttl_s=state.token_ttl_s, account=state.spec.account, api_base_url=state.api_url
            )
            self._send_json(document, headers=headers)

    def _station_info(self, state: StationState, raw_path: str, raw_query: str, body: bytes) -> None:
        if self._api_authorised(state, raw_path, raw_query, body):
            # Some stations send the success code as a string.
            self._send_json(state.dialect.station_info(state.world.info, code_as_string=state.spec.quirks))

    def _records(self, state: StationState, raw_path: str, raw_query: str, body: bytes) -> None:
        if not self._api_authorised(state, raw_path, raw_query, body):
            return
        try:
            paging = state.dialect.paging(raw_query, body)
        except ValueError as error:
            self._send_json(state.dialect.error(400, f"参数错误: {error}"))
            return
        page = state.records_page(paging.page_no, paging.page_size, paging.updated_since, start=paging.start)
        region = state.world.info["regionCompanyCode"]
        self._send_json(
            state.dialect.records_document(page, paging, region), headers=state.dialect.next_link_header(page, paging)
        )

    # -- media

    def _station_media(self, state: StationState, raw_path: str, raw_query: str = "") -> None:
        envelope = state.media_errors_as_envelope
        if not self._credentials_ok(state, raw_path, raw_query, b""):
            if envelope:
                self._send_json(state.dialect.error(TOKEN_EXPIRED, "token已过期"))
            else:
                self._send_status_page(401)
            return
        forced = state.forced_media_status(raw_path)
        if forced and envelope and forced in _CODE_MESSAGES:
            self._send_json(state.dialect.error(forced, _CODE_MESSAGES[forced]))
            return
        if forced:
            self._send_status_page(forced)
            return
        self._serve_route(state, state.world.station_routes.get(unquote(raw_path)), raw_path)

    def _cdn_media(self, state: StationState, raw_path: str, raw_query: str) -> None:
        if self.headers.get("Authorization") is not None:  # as object storage does
            self._send_xml_error(400, "InvalidArgument", "Unsupported Authorization Type")
            return
        route = state.world.cdn_routes.get(unquote(raw_path))
        if not isinstance(route, FileRoute):
            self._send_xml_error(404, "NoSuchKey", "The specified key does not exist.")
            return
        if not _signature_matches(route, raw_query):
            self._send_xml_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
            return
        forced = state.forced_media_status(raw_path)
        if forced:
            self._send_status_page(forced)
            return
        self._send_file(state, route.file)

    def _serve_route(self, state: StationState, route, raw_path: str) -> None:
        if route is None:
            self._send_not_found(state, raw_path)
        elif isinstance(route, StatusRoute):
            self._send_status_page(route.status)
        elif isinstance(route, RedirectRoute):
            self.send_response(route.status)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send_file(state, route.file)

    def _send_file(self, state: StationState, media: MediaFile) -> None:
        truncate = self._truncate
        chunked = media.chunked and not truncate  # a truncated body announces its real length
        self.send_response(200)
        if media.content_type:
            self.send_header("Content-Type", media.content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(media.size))
        self.end_headers()
        if self.command == "HEAD":
            return
        state.count_media_get(media)
        limit = media.size // 2 if truncate else None
        self._write_body(media.iter_bytes(self._chunk_size()), chunked=chunked, limit=limit)
        if truncate:
            self.close_connection = True

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


def _signature_matches(route: FileRoute, raw_query: str) -> bool:
    """Compare the raw (still percent-encoded) query values: %2B must arrive as %2B."""
    if "%252B" in raw_query.upper():  # double-encoded signature
        return False
    received = dict(part.split("=", 1) for part in raw_query.split("&") if "=" in part)
    return all(received.get(name) == value for name, value in route.signed_query)


# ----------------------------------------------------------------------------- simulator


class StationSimulator:
    """A set of simulated station clouds plus one CDN, each on its own loopback port."""

    def __init__(
        self,
        stations: list[SimStationSpec],
        *,
        host: str = "127.0.0.1",
        latency_ms: float = 0.0,
        bandwidth_bytes_per_s: float | None = None,
        retry_after: str = "1",
        token_ttl_s: int = 7200,
    ):
        ids = [spec.station_id for spec in stations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"station ids must be unique: {ids}")
        for dialect in {spec.dialect for spec in stations}:
            load_interface(dialect)  # an unknown or broken dialect fails here, not in a server thread
        self.specs = list(stations)
        self.host = host
        self.latency_ms = latency_ms
        self.bandwidth_bytes_per_s = bandwidth_bytes_per_s
        self.retry_after = retry_after
        self.token_ttl_s = token_ttl_s
        self.requests: list[RequestLogEntry] = []
        self.cdn_host = ""
        self._log_lock = threading.Lock()
        self._servers: dict[str, _Server] = {}
        self._states: dict[str, StationState] = {}
        self._threads: list[threading.Thread] = []

    # -- lifecycle

    def start(self) -> StationSimulator:
        if self._servers:
            return self
        self._start_cdn()
        for spec in self.specs:
            server = _Server(self.host, self, spec.station_id)
            base_url = f"http://{self.host}:{server.server_port}"
            world = build_world(spec, base_url, f"http://{self.cdn_host}")
            dialect = Dialect(load_interface(spec.dialect), url_shapes=spec.url_shapes)
            state = StationState(spec, world, token_ttl_s=self.token_ttl_s, dialect=dialect)
            server.attach(state)
            self._servers[spec.station_id] = server
            self._states[spec.station_id] = state
            if dialect.has_regional_host:  # the API lives on another host, named by the login
                regional = _Server(self.host, self, spec.station_id)
                regional.attach(state, regional=True)
                self._servers[spec.station_id + "@regional"] = regional
                state.regional_host = f"{self.host}:{regional.server_port}"
                state.api_url = f"http://{state.regional_host}{REGIONAL_PREFIX}/"
        self._serve_all()
        return self

    def _start_cdn(self) -> None:
        cdn = _Server(self.host, self, "cdn")
        self._servers["cdn"] = cdn
        # The CDN must be another host name than the stations' 127.0.0.1.
        cdn_name = "localhost" if self.host.startswith("127.") else self.host
        self.cdn_host = f"{cdn_name}:{cdn.server_port}"

    def _serve_all(self) -> None:
        for name, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sim-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> StationSimulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- lookups

    def base_url(self, station_id: str) -> str:
        """The station's login host (its registry base_url), which also serves its media."""
        return self.station(station_id).world.base_url

    def api_url(self, station_id: str) -> str:
        """Where the station's API calls other than login go, without a trailing slash: the regional
        host ("http://127.0.0.1:8002/api") for a dialect with regional hosts, else base_url()."""
        state = self.station(station_id)
        return state.api_url.rstrip("/") if state.api_url else state.world.base_url

    def station(self, station_id: str) -> StationState:
        try:
            return self._states[station_id]
        except KeyError:
            raise KeyError(f"unknown station {station_id!r} (is the simulator started?)") from None

    def expected_media(self, station_id: str) -> list[ExpectedMedia]:
        return self.station(station_id).expected_media()

    def records(self, station_id: str) -> list[dict]:
        return self.station(station_id).records_snapshot()

    # -- request log

    def _log(self, entry: RequestLogEntry) -> None:
        with self._log_lock:
            self.requests.append(entry)

    def clear_requests(self) -> None:
        with self._log_lock:
            self.requests.clear()

    # -- registry

    def registry_entries(self, *, wrong_password_for=()) -> tuple[list[dict], dict[str, str]]:
        """Entries for conf/stations.yaml and the environment variables holding the secrets."""
        entries, env = [], {}
        for index, spec in enumerate(self.specs):
            env_id = re.sub(r"[^0-9A-Za-z]", "_", spec.station_id).upper()
            state = self.station(spec.station_id)
            entry = {"id": spec.station_id, "name": spec.name, "base_url": self.base_url(spec.station_id)}
            if spec.dialect != "default":
                entry["dialect"] = spec.dialect
            iface = state.dialect.iface
            if index % 2 == 0 or not (iface.region_from_station_info or iface.region_from_records):
                # every second station leaves it to the station info call (where the dialect has one)
                entry["region_company_code"] = spec.region_company_code
            entry.update(
                {
                    "account_env": f"{env_id}_ACCOUNT",
                    "password_env": f"{env_id}_PASSWORD",
                    "max_connections": spec.max_connections,
                    # The regional API host is not public either: the client only talks to listed hosts.
                    "media_hosts": [self.cdn_host, *([state.regional_host] if state.regional_host else [])],
                }
            )
            entries.append(entry)
            wrong = spec.station_id in wrong_password_for
            env[f"{env_id}_ACCOUNT"] = spec.account
            env[f"{env_id}_PASSWORD"] = "wrong-" + spec.password if wrong else spec.password
        return entries, env


def write_registry(path: Path, entries: list[dict]) -> None:
    """A conf/stations.yaml for the simulated stations (their secrets stay in the environment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"stations": entries}, allow_unicode=True, sort_keys=False)
    path.write_text("# written by the station simulator; secrets are in the environment\n" + text, encoding="utf-8")

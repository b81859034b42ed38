"""Requests to a simulated station or the CDN: admission, scripted faults, the API and the media routes."""

from __future__ import annotations

import socket
import struct
import time
import traceback
from contextlib import nullcontext
from urllib.parse import unquote, urljoin, urlsplit

from .dialect import BAD_CREDENTIALS, LOCKED, TOKEN_EXPIRED, WRONG_HOST
from .file_ids import requested_url
from .http_base import BUSINESS_ERROR, CODE_MESSAGES, NGINX_502, STATS_PATH, Responses, Server, signature_matches
from .media_gen import html_login_page
from .state import RequestLogEntry, StationState
from .station_world import FileRoute, MediaFile, RedirectRoute, StatusRoute


class Handler(Responses):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.20.1"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    server: Server

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
            self._sleep_latency(state)
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
        elif route == "download":
            self._download(state, raw_query)
        else:
            self._cdn_media(state, raw_path, raw_query)

    def _sleep_latency(self, state: StationState | None = None) -> None:
        latency_ms = self.server.simulator.latency_ms + (state.spec.latency_ms if state is not None else 0.0)
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
            self._send_json(state.dialect.error(code, CODE_MESSAGES.get(code, "业务错误")))
        elif item == "echo":  # an error message that echoes the request, credentials and all
            request_body = self._body.decode(errors="replace")
            echoed = f"非法请求 Authorization: {self.headers.get('Authorization')} body: {request_body}"
            self._send_json(state.dialect.error(BAD_CREDENTIALS if route == "login" else BUSINESS_ERROR, echoed))
        elif item == "html":
            self._send_bytes(502, NGINX_502, "text/html")
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
        return state.use_token(state.dialect.request_token(self.headers, raw_query))

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
        wrong = state.dialect.station_param_error("records", raw_query, body, state.world.info["stationCode"])
        if wrong:
            self._send_json(state.dialect.error(400, f"参数错误: {wrong}"))
            return
        page = state.records_page(
            paging.page_no,
            paging.page_size,
            paging.updated_since,
            start=paging.start,
            repeat_last_page=state.dialect.iface.records.pages is not None,  # a PageHelper-style vendor
        )
        region = state.world.info["regionCompanyCode"]
        self._send_json(
            state.dialect.records_document(page, paging, region, state.world.canonical_urls()),
            headers=state.dialect.next_link_header(page, paging),
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
        if forced and envelope and forced in CODE_MESSAGES:
            self._send_json(state.dialect.error(forced, CODE_MESSAGES[forced]))
            return
        if forced:
            self._send_status_page(forced)
            return
        self._serve_route(state, state.world.station_routes.get(unquote(raw_path)), raw_path)

    def _download(self, state: StationState, raw_query: str) -> None:
        """A file fetched by id: what the world's URL behind the id serves, token trouble as an envelope."""
        if not self._credentials_ok(state, "", raw_query, b""):
            self._send_json(state.dialect.error(TOKEN_EXPIRED, "token已过期"))
            return
        url = requested_url(raw_query)
        if url is None:
            self._send_json(state.dialect.error(404, "文件不存在"))
            return
        host = self.headers.get("Host") or ""
        parts = urlsplit(urljoin(f"http://{host}/", url.strip()) if url.strip() else "")
        if parts.netloc == self.server.simulator.cdn_host:
            route = state.world.cdn_routes.get(unquote(parts.path))
            if not isinstance(route, FileRoute) or not signature_matches(route, parts.query):
                self._send_json(state.dialect.error(404, "文件不存在"))
                return
            self._send_file(state, route.file)
            return
        if not parts.netloc or parts.netloc != host:  # the vendor keeps its own files and the CDN's, no others
            self._send_json(state.dialect.error(404, "文件不存在"))
            return
        forced = state.forced_media_status(parts.path)
        if forced:
            self._send_status_page(forced)
            return
        self._serve_route(state, state.world.station_routes.get(unquote(parts.path)), parts.path)

    def _cdn_media(self, state: StationState, raw_path: str, raw_query: str) -> None:
        if self.headers.get("Authorization") is not None:  # as object storage does
            self._send_xml_error(400, "InvalidArgument", "Unsupported Authorization Type")
            return
        route = state.world.cdn_routes.get(unquote(raw_path))
        if not isinstance(route, FileRoute):
            self._send_xml_error(404, "NoSuchKey", "The specified key does not exist.")
            return
        if not signature_matches(route, raw_query):
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

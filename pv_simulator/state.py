"""Live state of one simulated station: tokens, scripted faults, politeness, records and counters.

Tests steer faults through `StationState` (scripts, token death, locking, paging trouble) while the
servers run (handler.py reads it on every request).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote

from .classic import inserted_record
from .dialect import Dialect
from .spec import ExpectedMedia, SimStationSpec
from .station_world import MediaFile, World

ROUTES = ("login", "info", "records", "media", "cdn", "download")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

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
        # The station as it was at this station time ("YYYY-MM-DD HH:MM:SS"): records updated later do not exist yet
        # (how the demo collects the stale station once, weeks back in the world's time).
        self.as_of: str | None = None
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

    def records_page(
        self,
        page_no: int,
        page_size: int,
        updated_since: str | None,
        start: int | None = None,
        *,
        repeat_last_page: bool = False,
    ) -> dict:
        """Page `page_no` (1-based) of the v1 records (or the page at `start`), as the dialect renders them later.
        `repeat_last_page`: a page past the end answers the last page again (PageHelper's reasonable mode)."""
        with self._lock:
            matching = [
                r
                for r in self.world.records
                if (updated_since is None or r["updatedAt"] >= updated_since)
                and (self.as_of is None or r["updatedAt"] <= self.as_of)
            ]
            start = (page_no - 1) * page_size if start is None else start
            if repeat_last_page and matching and start >= len(matching):
                start = (len(matching) - 1) // page_size * page_size
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

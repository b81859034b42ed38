"""The station cloud client: login, station info, paged records, streaming media downloads.

Handles everything station-api.md lists: envelope codes, 401 -> one re-login then replay,
429 with Retry-After, bounded exponential backoff for transient trouble, paging until an
empty page with de-duplication, redirects re-checked by the SSRF policy, the token sent to
the station's own host only, and media streamed to a staging file under a size cap with the
type decided from the first bytes.

Secrets (the password and the token) live only in this object's memory; no message, log
line or exception built here contains them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from pv_assets.media.sniff import SNIFF_BYTES, MediaType, NotMedia, sniff_media_type
from pv_assets.media.urls import InvalidMediaUrl, redirect_target
from resources.envelope import Reply, classify_reply, parse_retry_after
from resources.interface import StationInterface, dig, format_time
from resources.net_guard import ForbiddenTarget, GuardedAdapter, MediaUrlPolicy, Resolver, resolve_host

USER_AGENT = "pv-media/0.1 (+station media collector)"
T = TypeVar("T")
MAX_TOKEN_ROUNDS = 64


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    max_redirects: int = 5
    max_media_bytes: int = 2 * 1024**3
    chunk_bytes: int = 256 * 1024
    max_repeated_pages: int = 3
    # A body trickling in (a hostile or broken host) is cut off: the read timeout is per read only.
    slow_grace_s: float = 30.0
    min_bytes_per_s: float = 8 * 1024


@dataclass(frozen=True)
class StationEndpoint:
    """What the client needs to know of one station. The password never shows in repr."""

    station_id: str
    base_url: str
    account: str = field(repr=False)
    password: str = field(repr=False)
    max_connections: int = 4
    media_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionRecord:
    """The persisted trace of a login: no secret, only a short fingerprint of the token."""

    station_id: str
    logged_in_at: str
    expires_at: str | None
    token_fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str
    media_type: MediaType
    final_url: str
    content_type_header: str | None


class StationApiError(Exception):
    """A station call that failed; says which station, which call, and the station's code and message."""

    def __init__(self, station_id: str, call: str, detail: str, code: str | None = None):
        self.station_id, self.call, self.code, self.detail = station_id, call, code, detail
        code_text = f"code {code}: " if code is not None else ""
        super().__init__(f"station {station_id}: {call} failed: {code_text}{detail}")


class LoginFailed(StationApiError):
    """Wrong account or password, a locked account, or no token: fails this station only."""


class TransientStationError(StationApiError):
    def __init__(
        self, station_id: str, call: str, detail: str, code: str | None = None, retry_after: float | None = None
    ):
        super().__init__(station_id, call, detail, code)
        self.retry_after = retry_after


class MediaFailure(Exception):
    """One media item that could not be collected. `reason` is a short category for the manifest."""

    def __init__(self, reason: str, detail: str, *, transient: bool = False, retry_after: float | None = None):
        self.reason, self.detail, self.transient, self.retry_after = reason, detail, transient, retry_after
        super().__init__(f"{reason}: {detail}")


class _TokenRejected(Exception):
    """The station refused a token. The token is kept as an attribute, never in the message."""

    def __init__(self, token: str | None):
        super().__init__("token rejected")
        self.token = token


class _TokenRejectedAfterLogin(Exception):
    """A token obtained by this very call was rejected at once: logging in again would loop."""


def token_fingerprint(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


class StationClient:
    """One station's connection: a pooled HTTP session, its token, and its politeness limit."""

    def __init__(
        self,
        endpoint: StationEndpoint,
        interface: StationInterface,
        settings: ClientSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        resolver: Resolver = resolve_host,
        pool_size: int | None = None,
    ):
        self.endpoint = endpoint
        self.interface = interface
        self.settings = settings or ClientSettings()
        self.policy = MediaUrlPolicy.for_station(endpoint.base_url, endpoint.media_hosts, resolver)
        self._sleep = sleep
        self._token: str | None = None
        self._token_cond = threading.Condition(threading.RLock())
        self._trial_owner: int | None = None
        self._login_refused: LoginFailed | None = None
        self._api_base: str | None = None
        # Politeness: never more requests in flight toward the station than it allows.
        self._station_slots = threading.BoundedSemaphore(max(1, endpoint.max_connections))
        self.session = requests.Session()
        # No proxies or .netrc from the environment: a .netrc credential must never be sent to a media host.
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        size = max(pool_size or 0, endpoint.max_connections, 4)
        adapter = GuardedAdapter(lambda: self.policy, pool_connections=8, pool_maxsize=size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session_record: SessionRecord | None = None

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def station_id(self) -> str:
        return self.endpoint.station_id

    def close(self) -> None:
        self.session.close()

    def _url(self, path: str, *, login: bool = False) -> str:
        # After a login that names a regional host, every later call goes there.
        base = self.endpoint.base_url if login or self._api_base is None else self._api_base
        return base.rstrip("/") + path

    def _timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout_s, self.settings.read_timeout_s)

    def _auth_headers(self, url: str, token: str | None) -> dict[str, str]:
        # The token goes to the station's own host (scheme, host and port) and nowhere else.
        if token is None or not self.policy.is_station_host(url):
            return {}
        login = self.interface.login
        headers = {login.send_header: f"{login.send_prefix}{token}"} if login.send_header else {}
        if login.send_cookie:
            headers["Cookie"] = f"{login.send_cookie}={token}"
        return headers

    @contextlib.contextmanager
    def _slot(self, url: str) -> Iterator[None]:
        if self.policy.is_station_host(url):
            with self._station_slots:
                yield
        else:
            yield

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.settings.max_retry_after_s)
        # Jitter as large as the first wait spreads the retries of many workers apart.
        backoff = wait_exponential_jitter(
            multiplier=self.settings.backoff_initial_s,
            max=self.settings.backoff_max_s,
            jitter=self.settings.backoff_initial_s,
        )
        return backoff(state)

    def _retrying(self, exception_type: type[BaseException]) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(exception_type),
            sleep=self._sleep,
            reraise=True,
        )

    # -- JSON calls -------------------------------------------------------------------------

    def _send_json(
        self,
        call: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
        token: str | None = None,
        login: bool = False,
    ) -> Reply:
        url = self._url(path, login=login)
        try:
            with self._slot(url):
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=self._auth_headers(url, token),
                    timeout=self._timeout(),
                    allow_redirects=False,
                )
                content = response.content
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientStationError(self.station_id, call, f"network error ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise TransientStationError(self.station_id, call, f"HTTP error ({exc.__class__.__name__})") from None
        reply = classify_reply(self.interface, response.status_code, response.headers, content)
        return replace(reply, headers=response.headers, cookies=response.cookies) if login else reply

    def _call(self, call: str, method: str, path: str, params: dict | None = None, *, in_body: bool = False) -> Any:
        """An authorised call: retried when transient, logging in again when the token was rejected.

        `params` go in the query string, or with `in_body` as the JSON body (POST-style vendor APIs)."""
        query, body = (None, params or {}) if in_body else (params, None)

        def send(token: str) -> Reply:
            reply = self._send_json(call, method, path, params=query, body=body, token=token)
            if reply.kind == "token_expired":
                raise _TokenRejected(token)
            return reply

        def attempt() -> Any:
            try:
                return self._accept(call, self._with_token(send))
            except _TokenRejectedAfterLogin:
                raise StationApiError(
                    self.station_id, call, "token rejected again right after a fresh login", "401"
                ) from None

        try:
            return self._retrying(TransientStationError)(attempt)
        except TransientStationError as exc:
            raise StationApiError(
                self.station_id, call, f"gave up after {self.settings.max_attempts} attempts: {exc.detail}", exc.code
            ) from None

    def _with_token(self, use: Callable[[str], T]) -> T:
        """`use(token)`; when the token is rejected, log in again once and replay (lessons: never retry a
        401 with the same token). A token that this call logged in for and that is rejected on its first
        use is an error, not a loop."""
        token = self._current_token()
        # Each round without a login of our own means another worker logged in and used its fresh token:
        # progress, not a loop. The cap only guards against a station gone mad.
        for _ in range(MAX_TOKEN_ROUNDS):
            try:
                return use(token)
            except _TokenRejected:
                pass
            token, mine = self._relogin(token)
            if mine:
                try:
                    return use(token)
                except _TokenRejected:
                    raise _TokenRejectedAfterLogin from None
                finally:
                    self._end_trial()
        raise _TokenRejectedAfterLogin

    def _accept(self, call: str, reply: Reply) -> Any:
        if reply.kind == "ok":
            return reply.document
        if reply.kind in ("rate_limited", "transient"):
            raise TransientStationError(
                self.station_id, call, reply.message or reply.kind, reply.code, reply.retry_after
            )
        raise StationApiError(self.station_id, call, reply.message or "station error", reply.code)

    # -- S1: login --------------------------------------------------------------------------

    def login(self) -> SessionRecord:
        """Log in (S1). A wrong account or password raises LoginFailed with the station's code and message.

        A refusal sticks: this client never tries the same credentials again, since every retry of
        a wrong password brings the account closer to being locked (code 1002).
        """
        if self._login_refused is not None:
            raise self._login_refused
        try:
            return self._login()
        except LoginFailed as exc:
            if exc.code in self.interface.envelope.bad_credentials:
                self._login_refused = exc
            raise

    def _login(self) -> SessionRecord:
        login = self.interface.login
        secrets = {"account": self.endpoint.account, "password": self.endpoint.password}
        body = {key: _fill(value, secrets) for key, value in login.body.items()}

        def attempt() -> Any:
            reply = self._send_json("login", login.method, login.path, body=body, login=True)
            if reply.kind in ("bad_credentials", "token_expired"):
                raise LoginFailed(self.station_id, "login", reply.message or "login refused", reply.code)
            self._accept("login", reply)
            return reply

        try:
            reply = self._retrying(TransientStationError)(attempt)
        except TransientStationError as exc:
            raise LoginFailed(
                self.station_id,
                "login",
                f"station unreachable after {self.settings.max_attempts} attempts: {exc.detail}",
                exc.code,
            ) from None
        except LoginFailed:
            raise
        except StationApiError as exc:
            raise LoginFailed(self.station_id, "login", exc.detail, exc.code) from None
        document = reply.document
        token = _token_from(reply, login)
        if not token:
            raise LoginFailed(
                self.station_id, "login", f"no token ({login.token_from} '{login.token}') in the login response"
            )
        if login.api_base:
            self._use_api_base(dig(document, login.api_base))
        now = datetime.now(UTC)
        expires_in = dig(document, login.expires_in)
        try:
            expires_at = (now + timedelta(seconds=float(expires_in))).isoformat() if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        with self._token_cond:
            self._token = token
        self.session_record = SessionRecord(self.station_id, now.isoformat(), expires_at, token_fingerprint(token))
        return self.session_record

    def _use_api_base(self, value: Any) -> None:
        """The regional host a login names: checked like a media URL (it comes from outside), then used."""
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise LoginFailed(
                self.station_id, "login", f"no regional API base URL at '{self.interface.login.api_base}'"
            )
        try:
            self.policy.check(value)
        except ForbiddenTarget as exc:
            raise LoginFailed(self.station_id, "login", f"regional API host refused: {exc}") from None
        self.policy = self.policy.with_station_origin(value)
        self._api_base = value

    def _wait_for_trial(self) -> None:
        # Called with the condition held: a fresh token's first use belongs to the thread that logged in,
        # so a station whose tokens die after one use is not starved by the other workers.
        me = threading.get_ident()
        self._token_cond.wait_for(lambda: self._trial_owner in (None, me), timeout=self.settings.read_timeout_s)

    def _current_token(self) -> str:
        with self._token_cond:
            self._wait_for_trial()
            if self._token is None:
                self.login()
            assert self._token is not None
            return self._token

    def _relogin(self, stale_token: str | None) -> tuple[str, bool]:
        """Log in again unless another thread already replaced the stale token.

        Returns the token to use and whether this thread logged in for it (and so has its first use).
        """
        with self._token_cond:
            self._wait_for_trial()
            if self._token is not None and self._token != stale_token:
                return self._token, False
            self._token = None
            self.login()
            assert self._token is not None
            self._trial_owner = threading.get_ident()
            return self._token, True

    def _end_trial(self) -> None:
        with self._token_cond:
            if self._trial_owner == threading.get_ident():
                self._trial_owner = None
                self._token_cond.notify_all()

    # -- station info and records (S2 / b) ---------------------------------------------------

    def station_info(self) -> dict[str, Any]:
        info = self.interface.station_info
        document = self._call("station info", info.method, info.path, dict(info.params), in_body=info.method == "POST")
        return {
            "station_code": dig(document, info.station_code),
            "station_name": dig(document, info.station_name),
            "region_company_code": dig(document, info.region_company_code),
        }

    def _records_page(self, page: int, updated_since: datetime | None) -> tuple[list, int | None]:
        """One page of records and the station's `total` (a hint only)."""
        spec = self.interface.records
        params: dict[str, Any] = {spec.page_param: page, spec.page_size_param: spec.page_size}
        if updated_since is not None and spec.updated_since_param:
            params[spec.updated_since_param] = format_time(updated_since, spec.time_format)
        call = f"records page {page}"
        document = self._call(call, spec.method, spec.path, params, in_body=spec.params_in == "body")
        items = dig(document, spec.items)
        if items is None:
            items = []
            if dig(document, self.interface.envelope.data) is None and page == spec.first_page:
                raise StationApiError(self.station_id, call, f"response has no '{spec.items}'")
        if not isinstance(items, list):
            raise StationApiError(self.station_id, call, f"'{spec.items}' is not a list")
        try:
            total = int(dig(document, spec.total)) if spec.total else None
        except (TypeError, ValueError):
            total = None
        return items, total

    def _pages(self, updated_since: datetime | None) -> Iterator[tuple[int, list]]:
        """(page number, records) in order, up to and including the first empty page.

        After page 1, the pages its `total` announces are fetched concurrently, within the
        station's connection limit; `total` is only a hint (it changes while people edit), so
        paging then goes on one page at a time until a page is empty.
        """
        first = self.interface.records.first_page
        items, total = self._records_page(first, updated_since)
        yield first, items
        if not items:
            return
        page = first + 1
        if total is not None and total > len(items):
            last = first + math.ceil(total / len(items))  # one past the announced end: expected empty
            ahead = list(range(page, last + 1))
            workers = max(1, min(self.endpoint.max_connections, len(ahead)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pages") as pool:
                for number, (items, _total) in zip(
                    ahead, pool.map(lambda n: self._records_page(n, updated_since), ahead), strict=True
                ):
                    yield number, items
                    if not items:
                        return
            page = last + 1
        while True:
            items, _total = self._records_page(page, updated_since)
            yield page, items
            if not items:
                return
            page += 1

    def iter_records(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every record, until an empty page, each recordId once (a record can move between pages)."""
        spec = self.interface.records
        id_field = self.interface.fields.record_id
        seen: set[str] = set()
        pages_without_news = 0
        for page, items in self._pages(updated_since):
            call = f"records page {page}"
            news = 0
            for position, item in enumerate(items):
                if not isinstance(item, dict):
                    raise StationApiError(self.station_id, call, f"record {position} is not a JSON object")
                record_id = item.get(id_field)
                if record_id is None or str(record_id).strip() == "":
                    raise StationApiError(self.station_id, call, f"record {position} has no '{id_field}'")
                key = str(record_id).strip()
                if key in seen:
                    continue
                seen.add(key)
                news += 1
                yield item
            pages_without_news = 0 if news or not items else pages_without_news + 1
            if pages_without_news >= self.settings.max_repeated_pages:
                raise StationApiError(
                    self.station_id,
                    call,
                    f"{pages_without_news} pages in a row repeat records already seen; "
                    f"the station seems to ignore '{spec.page_param}'",
                )

    def probe_changes(self, updated_since: datetime | None) -> tuple[int | None, int]:
        """The cheapest look at a station: one record of page 1, (total, records returned).

        With `updated_since` (where the dialect has the parameter) a non-empty page means
        something changed since then; without it, the caller compares `total`.
        """
        spec = self.interface.records
        params: dict[str, Any] = {spec.page_param: spec.first_page, spec.page_size_param: 1}
        if updated_since is not None and spec.updated_since_param:
            params[spec.updated_since_param] = format_time(updated_since, spec.time_format)
        document = self._call("change probe", spec.method, spec.path, params, in_body=spec.params_in == "body")
        items = dig(document, spec.items) or []
        total = dig(document, spec.total) if spec.total else None
        try:
            total = int(total) if total is not None else None
        except (TypeError, ValueError):
            total = None
        return total, len(items) if isinstance(items, list) else 0

    # -- d1-d2 / S4-S5: media ---------------------------------------------------------------

    def download(self, url: str, staging_dir: Path, max_bytes: int | None = None) -> Downloaded:
        """Stream one media file into a new file in staging_dir; the caller deletes it.

        Raises MediaFailure with a short reason; transient trouble is retried first.
        """
        limit = self.settings.max_media_bytes if max_bytes is None else max_bytes
        try:
            return self._retrying(_TransientMedia)(lambda: self._download_once(url, staging_dir, limit))
        except _TransientMedia as exc:
            raise MediaFailure(
                "transient", f"gave up after {self.settings.max_attempts} attempts: {exc.detail}", transient=True
            ) from None
        except _TokenRejectedAfterLogin:
            raise MediaFailure("unauthorized", "station refused the token right after a fresh login") from None

    def _download_once(self, url: str, staging_dir: Path, limit: int) -> Downloaded:
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            try:
                self.policy.check(current)  # every hop: a redirect may point anywhere
            except ForbiddenTarget as exc:
                raise MediaFailure("forbidden_target", str(exc)) from None
            with self._media_response(current) as response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise MediaFailure("http_error", f"HTTP {status} redirect without Location")
                    try:
                        current = redirect_target(current, location)
                    except InvalidMediaUrl as exc:
                        raise MediaFailure("forbidden_target", f"redirect to an invalid URL: {exc}") from None
                    continue
                _raise_for_media_status(status, response.headers)
                return self._stream_to_staging(response, current, staging_dir, limit)
        raise MediaFailure("too_many_redirects", f"more than {self.settings.max_redirects} redirects")

    def _get_media(self, url: str, token: str | None) -> requests.Response:
        try:
            return self.session.get(
                url,
                headers=self._auth_headers(url, token),
                stream=True,
                timeout=self._timeout(),
                allow_redirects=False,
            )
        except ForbiddenTarget as exc:  # the connect-time check of the address reached (DNS rebinding)
            raise MediaFailure("forbidden_target", str(exc)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _TransientMedia(f"network error ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise MediaFailure("http_error", f"request failed ({exc.__class__.__name__})") from None

    @contextlib.contextmanager
    def _media_response(self, url: str) -> Iterator[requests.Response]:
        """The response for one hop, holding a station connection slot while it is open.

        Only the station's own host gets the token; a 401 there logs in again (per hop, since a
        redirect chain on the station host spends the token once per hop).
        """
        if not self.policy.is_station_host(url):
            with self._get_media(url, None) as response:
                yield response
            return

        def open_with(token: str) -> requests.Response:
            self._station_slots.acquire()  # after the token: a login inside a held slot could deadlock
            try:
                response = self._get_media(url, token)
            except BaseException:
                self._station_slots.release()
                raise
            if response.status_code == 401:
                response.close()
                self._station_slots.release()
                raise _TokenRejected(token)
            return response

        response = self._with_token(open_with)
        try:
            with response:
                yield response
        finally:
            self._station_slots.release()

    def _stream_to_staging(
        self, response: requests.Response, final_url: str, staging_dir: Path, limit: int
    ) -> Downloaded:
        declared = _declared_length(response.headers)
        if declared is not None and declared > limit:
            raise MediaFailure("too_large", f"Content-Length {declared} bytes is over the {limit}-byte cap")
        staging_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="dl-", suffix=".part", dir=staging_dir)
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        media_type: MediaType | None = None
        started = time.monotonic()
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in response.iter_content(self.settings.chunk_bytes):
                    elapsed = time.monotonic() - started
                    if elapsed > self.settings.slow_grace_s and size < self.settings.min_bytes_per_s * elapsed:
                        raise _TransientMedia(f"too slow: {size} bytes in {elapsed:.0f} s")
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > limit:
                        raise MediaFailure("too_large", f"body exceeds the {limit}-byte cap")
                    if media_type is None:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if len(head) >= SNIFF_BYTES:
                            media_type = _sniff(head)
                    digest.update(chunk)
                    out.write(chunk)
            if media_type is None:
                media_type = _sniff(head)
            if declared is not None and size != declared and not response.headers.get("Content-Encoding"):
                raise _TransientMedia(f"body ended after {size} of {declared} bytes")
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout) as exc:
            path.unlink(missing_ok=True)
            raise _TransientMedia(f"download cut off after {size} bytes ({exc.__class__.__name__})") from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Downloaded(path, size, digest.hexdigest(), media_type, final_url, response.headers.get("Content-Type"))


class _TransientMedia(Exception):
    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.detail, self.retry_after = detail, retry_after


def _sniff(head: bytes) -> MediaType:
    try:
        return sniff_media_type(head)
    except NotMedia as exc:
        raise MediaFailure("not_media", str(exc)) from None


def _declared_length(headers: Any) -> int | None:
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raise_for_media_status(status: int, headers: Any) -> None:
    if status == 200:
        return
    if status == 404:
        raise MediaFailure("not_found", "HTTP 404")
    if status == 410:
        raise MediaFailure("gone", "HTTP 410")
    if status == 429 or status in (500, 502, 503, 504):
        raise _TransientMedia(f"HTTP {status}", parse_retry_after(headers.get("Retry-After")))
    raise MediaFailure("http_error", f"HTTP {status}")


def _token_from(reply: Reply, login: Any) -> str | None:
    """The token where the dialect says it comes back; an object (SEMS) goes out JSON-encoded."""
    if login.token_from == "header":  # noqa: S105 - a location, not a secret
        value = reply.headers.get(login.token) if reply.headers is not None else None
    elif login.token_from == "cookie":  # noqa: S105
        value = reply.cookies.get(login.token) if reply.cookies is not None else None
    else:
        value = dig(reply.document, login.token)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value) if value not in (None, "") else None


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**values)
    return template

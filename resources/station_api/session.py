"""The session with one station and its token: authorised JSON calls with bounded retries, the token's one
re-login on expiry, and the station's connection limit (the login itself: login.py).

Secrets (the password and the token) live only in this object's memory; no message, log
line or exception built here contains them.
"""

from __future__ import annotations

import base64
import contextlib
import http.cookiejar
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from pv_model.dialect import StationInterface
from pv_model.scrub import scrub
from resources.deadline import total_deadline
from resources.envelope import Reply, classify_reply
from resources.net_guard import GuardedAdapter, MediaUrlPolicy, Resolver, resolve_host
from resources.station_api.auth import (
    OutgoingRequest,
    UnsendableToken,
    authorise,
    encode_body,
    token_delivery,
)
from resources.station_api.body import ACCEPT_ENCODING, BodyCutOff, BodyTooLarge, UnsupportedEncoding, iter_body
from resources.station_api.config import USER_AGENT, ClientSettings, StationEndpoint
from resources.station_api.errors import (
    LoginFailed,
    StationApiError,
    TokenRejected,
    TokenRejectedAfterLogin,
    TransientStationError,
)
from resources.station_api.login import LoginMixin, SessionRecord

T = TypeVar("T")


class _NoCookieJar(http.cookiejar.DefaultCookiePolicy):
    """Keeps nothing and sends nothing: tokens in cookies are written per request, for one origin."""

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False


MAX_TOKEN_ROUNDS = 64


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class StationSession(LoginMixin):
    """One station's connection: a pooled HTTP session, its token, and its politeness limit.

    It answers one question: how to make an authorised call to this station - login, the token
    and its one re-login on expiry, retries with backoff, and the connection limit."""

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
        # Every secret this session has held: a station message that echoes one is scrubbed of it.
        # A tuple, replaced whole: readers in other threads never see it change under them.
        self._known_secrets: tuple[str, ...] = (endpoint.password,)
        # Politeness: never more requests in flight toward the station than it allows.
        self.station_slots = threading.BoundedSemaphore(max(1, endpoint.max_connections))
        self.http = requests.Session()
        # No proxies or .netrc from the environment: a .netrc credential must never be sent to a media host.
        self.http.trust_env = False
        self.http.headers["User-Agent"] = USER_AGENT
        self.http.headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what body.py decodes and bounds
        # No cookie jar: a jar sends a cookie token to the host on any port. Cookies are written per
        # request by auth.authorise, for the station's exact origin only.
        self.http.cookies.set_policy(_NoCookieJar())
        size = max(pool_size or 0, endpoint.max_connections, 4)
        adapter = GuardedAdapter(lambda: self.policy, pool_connections=8, pool_maxsize=size, max_retries=0)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.session_record: SessionRecord | None = None

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def station_id(self) -> str:
        return self.endpoint.station_id

    def close(self) -> None:
        self.http.close()

    def scrub(self, text: str) -> str:
        """A station's message without any secret this session knows (nor the process's keys)."""
        return scrub(text, self._known_secrets)

    def url(self, path: str, *, login: bool = False) -> str:
        if path.startswith(("http://", "https://")):  # a next-page link: only ever on the station's own origin
            if not self.policy.is_station_host(path):
                raise StationApiError(self.station_id, "records", "a next-page link points off the station's origin")
            return path
        # After a login that names a regional host, every later call goes there.
        base = self.endpoint.base_url if login or self._api_base is None else self._api_base
        return base.rstrip("/") + path

    def timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout_s, self.settings.read_timeout_s)

    def auth_headers(self, url: str, token: str | None) -> dict[str, str]:
        """Credential headers of a GET (media) to `url`: none unless it is the station's own origin."""
        return self.authorised_request("GET", url, token).headers

    def authorised_request(
        self,
        method: str,
        url: str,
        token: str | None,
        *,
        params: dict | None = None,
        body: dict | None = None,
        form: bool = False,
    ) -> OutgoingRequest:
        """The request as it goes out; credentials only toward the station's own origin (scheme, host, port)."""
        data, content_type = encode_body(body, form)
        request = OutgoingRequest(
            method=method,
            url=url,
            headers={"Content-Type": content_type} if content_type else {},
            params=dict(params or {}),
            body=data,
            content_type=content_type,
            key_id=self.endpoint.account,
            secret=self.endpoint.password,
        )
        if self.policy.is_station_host(url):
            try:
                authorise(self.interface, request, token)
            except UnsendableToken as exc:
                raise LoginFailed(self.station_id, "login", str(exc)) from None
            if request.url != url and origin(request.url) != origin(url):
                # A hook may rewrite the path or query (the callers send request.url); never the host the
                # credentials it just added go to.
                raise StationApiError(
                    self.station_id,
                    "hook",
                    f"the dialect's hook {self.interface.hook!r} sent the request to another origin "
                    f"({origin(request.url)} instead of {origin(url)}); a hook may change the path and query only",
                )
        return request

    @contextlib.contextmanager
    def slot(self, url: str) -> Iterator[None]:
        if self.policy.is_station_host(url):
            with self.station_slots:
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

    def retrying(self, exception_type: type[BaseException]) -> Retrying:
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
        form: bool = False,
        interface: StationInterface | None = None,
        basic: bool = False,
    ) -> Reply:
        url = self.url(path, login=login)
        request = self.authorised_request(method, url, token, params=params, body=body, form=form)
        if basic and self.policy.is_station_host(url):  # OAuth2 client authentication, this one call only
            pair = f"{self.endpoint.account}:{self.endpoint.password}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        try:
            with self.slot(url), total_deadline(self.settings.call_deadline_s) as deadline:
                try:
                    response = self.http.request(
                        method,
                        request.url,  # as a hook may have rewritten it
                        params=request.params or None,
                        data=request.body,
                        headers=request.headers,
                        timeout=self.timeout(),
                        allow_redirects=False,
                        stream=True,
                    )
                    with response:
                        content = read_reply(response, self.settings)
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, BodyCutOff):
                    if deadline is not None and deadline.expired:
                        raise TransientStationError(
                            self.station_id, call, f"no complete reply within {deadline.seconds:g} s"
                        ) from None
                    raise
        except (BodyTooLarge, UnsupportedEncoding) as exc:
            raise StationApiError(self.station_id, call, str(exc)) from None
        except BodyCutOff as exc:
            raise TransientStationError(self.station_id, call, str(exc)) from None
        except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientStationError(self.station_id, call, f"network error ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise TransientStationError(self.station_id, call, f"HTTP error ({exc.__class__.__name__})") from None
        try:
            reply = classify_reply(interface or self.interface, response.status_code, response.headers, content)
        except RecursionError:
            # json's parser recurses per level: a 100,000-deep document is a broken reply, not a crash.
            raise StationApiError(self.station_id, call, "JSON reply nested too deeply") from None
        reply = replace(reply, message=self.scrub(reply.message))
        return replace(reply, headers=response.headers, cookies=response.cookies if login else None)

    def call(
        self,
        call: str,
        method: str,
        path: str,
        params: dict | None = None,
        *,
        in_body: bool = False,
        with_headers: bool = False,
    ) -> Any:
        """An authorised call: retried when transient, logging in again when the token was rejected.

        `params` go in the query string, or with `in_body` as the JSON body (POST-style vendor APIs).
        With `with_headers`, (document, response headers): a `Link` header may name the next page."""
        query, body = (None, params or {}) if in_body else (params, None)

        def send(token: str) -> Reply:
            reply = self._send_json(call, method, path, params=query, body=body, token=token)
            if reply.kind == "token_expired":
                raise TokenRejected(token, reply.code, reply.message)
            return reply

        def attempt() -> Any:
            try:
                reply = self.with_token(send)
                document = self._accept(call, reply)
                return (document, reply.headers) if with_headers else document
            except TokenRejectedAfterLogin as exc:
                if self.interface.auth_scheme not in ("login", "oauth2"):
                    # No login call to fail: refused credentials show on the first call, and are a failed login.
                    raise LoginFailed(
                        self.station_id, "login", f"the station refused the {self.interface.auth_scheme} credentials"
                    ) from None
                said = f" ({exc.message})" if exc.message else ""
                raise StationApiError(
                    self.station_id,
                    call,
                    f"token rejected again right after a fresh login{said}; this dialect sends the token "
                    f"{token_delivery(self.interface)} - check that against the vendor's API description",
                    exc.code or "HTTP 401",
                ) from None

        try:
            return self.retrying(TransientStationError)(attempt)
        except TransientStationError as exc:
            raise StationApiError(
                self.station_id, call, f"gave up after {self.settings.max_attempts} attempts: {exc.detail}", exc.code
            ) from None

    def with_token(self, use: Callable[[str], T]) -> T:
        """`use(token)`; when the token is rejected, log in again once and replay (lessons: never retry a
        401 with the same token). A token that this call logged in for and that is rejected on its first
        use is an error, not a loop."""
        token = self._current_token()
        # Each round without a login of our own means another worker logged in and used its fresh token:
        # progress, not a loop. The cap only guards against a station gone mad.
        for _ in range(MAX_TOKEN_ROUNDS):
            try:
                return use(token)
            except TokenRejected:
                pass
            token, mine = self._relogin(token)
            if mine:
                try:
                    return use(token)
                except TokenRejected as exc:
                    raise TokenRejectedAfterLogin(exc.code, exc.message) from None
                finally:
                    self.end_trial()
        raise TokenRejectedAfterLogin

    def _accept(self, call: str, reply: Reply) -> Any:
        if reply.kind == "ok":
            return reply.document
        if reply.kind in ("rate_limited", "transient"):
            raise TransientStationError(
                self.station_id, call, reply.message or reply.kind, reply.code, reply.retry_after
            )
        raise StationApiError(self.station_id, call, reply.message or "station error", reply.code)

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

    def end_trial(self) -> None:
        with self._token_cond:
            if self._trial_owner == threading.get_ident():
                self._trial_owner = None
                self._token_cond.notify_all()


def read_reply(response: requests.Response, settings: ClientSettings) -> bytes:
    """A whole API reply, decoded, within the decoded-size cap."""
    return b"".join(iter_body(response, chunk_bytes=64 * 1024, max_decoded=settings.max_reply_bytes))

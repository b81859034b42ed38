"""Who may look, and the headers every answer carries.

Access: a shared password (or token) from PV_GALLERY_PASSWORD, checked in constant time, with a
signed HttpOnly SameSite session cookie afterwards; or, for groups with single sign-on, a header
set by a trusted reverse proxy (PV_GALLERY_TRUSTED_USER_HEADER). Failed logins are rate-limited.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from resources.settings import settings

# Scripts, styles and media only from the gallery itself; nothing inline, no framing, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class GalleryConfigError(Exception):
    """The gallery cannot start as configured; the message says which variable to set."""


@dataclass(frozen=True)
class GalleryConfig:
    password: str | None = None
    trusted_user_header: str | None = None
    session_secret: str = ""
    secure_cookie: bool = False
    session_max_age_s: int = 12 * 3600
    max_failed_logins: int = 5
    failed_login_window_s: float = 300.0

    def __post_init__(self):
        if not self.password and not self.trusted_user_header:
            raise GalleryConfigError(
                "the gallery needs a login: set PV_GALLERY_PASSWORD (a password or long token), "
                "or PV_GALLERY_TRUSTED_USER_HEADER when a trusted reverse proxy signs users in"
            )
        if not self.session_secret:
            # One per process unless configured: sessions then end when the gallery restarts.
            object.__setattr__(self, "session_secret", secrets.token_urlsafe(32))

    @classmethod
    def from_env(cls) -> GalleryConfig:
        knobs = settings()
        password, secret = knobs.gallery_password, knobs.gallery_session_secret
        return cls(
            password=password.get_secret_value() if password else None,
            trusted_user_header=(knobs.gallery_trusted_user_header or "").strip().lower() or None,
            session_secret=secret.get_secret_value() if secret else "",
            secure_cookie=knobs.gallery_secure_cookie,
        )

    def password_ok(self, candidate: str) -> bool:
        if not self.password:
            return False
        return hmac.compare_digest(candidate.encode("utf-8"), self.password.encode("utf-8"))

    def __repr__(self) -> str:  # never the password or the session secret
        return f"GalleryConfig(password={'set' if self.password else 'unset'}, header={self.trusted_user_header!r})"


class LoginThrottle:
    """At most `limit` failed logins per client in `window_s`, and 10x that over all clients."""

    def __init__(self, limit: int, window_s: float, clock=time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, times: deque[float], now: float) -> deque[float]:
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int:
        """Seconds until the client may try again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            mine = self._trim(self._failures.get(client, deque()), now)
            everyone = self._trim(self._all, now)
            waits = [
                times[0] + self.window_s - now
                for times, limit in ((mine, self.limit), (everyone, self.limit * 10))
                if len(times) >= limit
            ]
            return int(max(waits)) + 1 if waits else 0

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            self._failures.setdefault(client, deque()).append(now)
            self._all.append(now)
            if len(self._failures) > 10_000:  # forget the oldest clients rather than grow without bound
                for stale in list(self._failures)[:1000]:
                    del self._failures[stale]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP answer, static files and errors included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Logging in to a station (S1): the dialect's login call, OAuth2 client credentials, or no login at all
(api_key, signing, hook), and what is kept of it - the token in memory, a record without the secret.
Mixed into StationSession, whose plumbing (calls, retries, the token lock) it uses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pv_model.dialect import Envelope, dig
from resources.envelope import Reply
from resources.net_guard import ForbiddenTarget
from resources.station_api.auth import UnsendableToken, header_value, transform_password
from resources.station_api.errors import LoginFailed, StationApiError, TransientStationError

SCHEME_MARKER = "(no login: credentials on every request)"  # the "token" of api_key / signing / hook
OAUTH2_ERRORS = Envelope(
    style="none",
    code="error",
    message="error_description",
    bad_credentials=["invalid_client", "unauthorized_client", "invalid_grant", "unsupported_grant_type"],
)


KNOWN_TOKENS = 64


@dataclass(frozen=True)
class SessionRecord:
    """The persisted trace of a login: no secret, only a short fingerprint of the token."""

    station_id: str
    logged_in_at: str
    expires_at: str | None
    token_fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def token_fingerprint(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


class LoginMixin:
    """StationSession's login: sets its token, its known secrets and its session record."""

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
            if exc.refused:
                self._login_refused = exc
            raise

    def _login_attempts(self, attempt: Callable[[], Any], refusal: str) -> Any:
        """`attempt()` with retries for transient trouble; a refused login or any station error is LoginFailed."""

        def checked() -> Any:
            reply = attempt()
            if reply.kind in ("bad_credentials", "token_expired"):
                raise LoginFailed(
                    self.station_id,
                    "login",
                    reply.message or refusal,
                    reply.code,
                    refused=reply.kind == "bad_credentials",
                )
            self._accept("login", reply)
            return reply

        try:
            return self.retrying(TransientStationError)(checked)
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

    def _login(self) -> SessionRecord:
        scheme = self.interface.auth_scheme
        if scheme != "login" and scheme != "oauth2":
            # api_key, signing, hook: no login call; the credentials go on every request instead. The record
            # fingerprints the account (key id), never anything derived from the secret.
            return self._keep_token(SCHEME_MARKER, None, f"{scheme}:{self.endpoint.account}")
        if scheme == "oauth2":
            return self._oauth2_login()
        login = self.interface.login
        secrets = {
            "account": self.endpoint.account,
            "password": transform_password(self.endpoint.password, login.password_transform),
        }
        body = {key: _fill(value, secrets) for key, value in login.body.items()}
        form = login.body_format == "form"

        reply = self._login_attempts(
            lambda: self._send_json("login", login.method, login.path, body=body, login=True, form=form),
            "login refused",
        )
        document = reply.document
        token = _token_from(reply, login)
        if not token:
            raise LoginFailed(
                self.station_id, "login", f"no token ({login.token_from} '{login.token}') in the login response"
            )
        if login.api_base:
            self._use_api_base(dig(document, login.api_base))
        return self._keep_token(token, dig(document, login.expires_in))

    def _oauth2_login(self) -> SessionRecord:
        """OAuth2 client credentials (RFC 6749 4.4): client id / secret from the registry's variables."""
        oauth = self.interface.oauth2
        body = {"grant_type": "client_credentials", **({"scope": oauth.scope} if oauth.scope else {})}
        headers_auth = oauth.client_auth == "basic"
        if not headers_auth:
            body |= {"client_id": self.endpoint.account, "client_secret": self.endpoint.password}
        plain = self.interface.model_copy(update={"envelope": OAUTH2_ERRORS})

        reply = self._login_attempts(
            lambda: self._send_json(
                "login", "POST", oauth.token_path, body=body, login=True, form=True, interface=plain, basic=headers_auth
            ),
            "credentials refused",
        )
        document = reply.document
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise LoginFailed(self.station_id, "login", "no access_token in the token response")
        return self._keep_token(token, document.get("expires_in"))

    def _keep_token(self, token: str, expires_in: Any, fingerprint_of: str | None = None) -> SessionRecord:
        if token is not SCHEME_MARKER:
            try:
                header_value(token)
            except UnsendableToken as exc:
                if self.interface.auth_scheme != "login" or self.interface.login.send_header:
                    raise LoginFailed(self.station_id, "login", str(exc)) from None
        now = datetime.now(UTC)
        try:
            expires_at = (now + timedelta(seconds=float(expires_in))).isoformat() if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        with self._token_cond:
            self._token = token
            if token is not SCHEME_MARKER:
                # The password and the recent tokens (an echo repeats the request's own); bounded, since a
                # station whose tokens die at every call issues thousands.
                recent = self._known_secrets[1:][-(KNOWN_TOKENS - 1) :]
                self._known_secrets = (self.endpoint.password, *recent, token)
        self.session_record = SessionRecord(
            self.station_id, now.isoformat(), expires_at, token_fingerprint(fingerprint_of or token)
        )
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


def _token_from(reply: Reply, login: Any) -> str | None:
    """The token where the dialect says it comes back; an object (SEMS) goes out JSON-encoded."""
    if login.token_from == "header":  # noqa: S105 - a location, not a secret
        value = reply.headers.get(login.token) if reply.headers is not None else None
    elif login.token_from == "cookie":  # noqa: S105
        value = reply.cookies.get(login.token) if reply.cookies is not None else None
    else:
        value = dig(reply.document, login.token)
    if isinstance(value, dict | list):
        # ASCII escapes: the same JSON, and a header can carry it whatever the station put inside.
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return str(value) if value not in (None, "") else None


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**values)
    return template

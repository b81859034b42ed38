"""Reading a station's reply: the envelope codes and HTTP statuses of station-api.md, pure."""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from pv_model.dialect import Envelope, StationInterface, dig
from resources.sniff import looks_like_html

ReplyKind = Literal["ok", "token_expired", "rate_limited", "transient", "bad_credentials", "error"]
TRANSIENT_HTTP = {500, 502, 503, 504}
MAX_MESSAGE_CHARS = 200


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    document: Any = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = None
    headers: Any = None  # the response's headers and cookies, for tokens that come back there
    cookies: Any = None

    def describe(self) -> str:
        code = f"code {self.code}: " if self.code is not None else ""
        return f"{code}{self.message}".strip()


def shorten(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A station message fit for an error: one line, bounded (stations send 1 MB messages too)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None


def classify_reply(interface: StationInterface, status: int, headers: Any, body: bytes) -> Reply:
    """Turn one HTTP response into what the client should do with it, in the dialect's envelope style."""
    envelope = interface.envelope
    retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
    if status == 401 or (status == 403 and envelope.style == "none"):
        return Reply("token_expired", code=f"HTTP {status}", message="token rejected")
    if status == 429:
        return Reply("rate_limited", code="HTTP 429", message="too many requests", retry_after=retry_after)
    if status in TRANSIENT_HTTP:
        return Reply("transient", code=f"HTTP {status}", message="station unavailable", retry_after=retry_after)
    if looks_like_html(body):
        # A gateway's error page where JSON was expected: transient by the interface's rules.
        return Reply("transient", code=f"HTTP {status}", message="HTML page where JSON was expected")
    try:
        document = json.loads(body.decode("utf-8-sig")) if body.strip() or envelope.style != "none" else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if status != 200:
            return Reply("error", code=f"HTTP {status}", message="unexpected HTTP status")
        return Reply("transient", code=f"HTTP {status}", message=f"malformed JSON ({exc.__class__.__name__})")
    if envelope.style == "none":
        return _plain_rest(envelope, status, document, retry_after)
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("list", "array").replace("dict", "object")
        return Reply("error", message=f"expected a JSON object, got {kind}")
    raw_code = dig(document, envelope.code)
    code = None if raw_code is None else str(raw_code).strip()
    message = shorten(dig(document, envelope.message) or "")
    if envelope.style in ("flag", "field"):
        if _says_success(envelope, document) and status == 200:
            return Reply("ok", document=document, code=code, message=message)
        if code is None:
            said = envelope.success_flag or envelope.success_field
            return Reply("error", message=message or f"'{said}' does not say success")
    if code is None:
        if status != 200:
            return Reply("error", code=f"HTTP {status}", message="unexpected HTTP status")
        return Reply("error", message=f"response has no '{envelope.code}' field")
    if envelope.style == "codes" and code in envelope.success and status == 200:
        return Reply("ok", document=document, code=code, message=message)
    kind = _failure_kind(envelope, code)
    if kind is not None:
        return Reply(kind, code=code, message=message, retry_after=retry_after)
    return Reply("error", document=document, code=code, message=message)


def _says_success(envelope: Envelope, document: dict) -> bool:
    if envelope.style == "flag":
        flag = dig(document, envelope.success_flag)
        return flag is True or str(flag).strip().lower() == "true"
    value = dig(document, envelope.success_field)
    if isinstance(value, bool):
        value = str(value).lower()
    return value is not None and str(value).strip() == envelope.success_value


def _failure_kind(envelope: Envelope, code: str) -> ReplyKind | None:
    for kind, codes in (
        ("token_expired", envelope.token_expired),
        ("rate_limited", envelope.rate_limited),
        ("transient", envelope.transient),
        ("bad_credentials", envelope.bad_credentials),
    ):
        if code in codes:
            return kind  # type: ignore[return-value]
    return None


def _plain_rest(envelope: Envelope, status: int, document: Any, retry_after: float | None) -> Reply:
    """No envelope: the HTTP status says it; an error code (if the dialect names one) refines it."""
    raw_code = dig(document, envelope.code) if envelope.code and isinstance(document, dict | list) else None
    code = None if raw_code is None or isinstance(raw_code, dict | list) else str(raw_code).strip()
    message_value = dig(document, envelope.message) if envelope.message and isinstance(document, dict | list) else None
    message = shorten(message_value) if message_value not in (None, "") else ""
    if 200 <= status < 300:
        kind = _failure_kind(envelope, code) if code is not None else None
        if kind is None:
            return Reply("ok", document=document, code=code, message=message)
        return Reply(kind, code=code, message=message, retry_after=retry_after)
    kind = _failure_kind(envelope, code) if code is not None else None
    return Reply(
        kind or "error",
        document=document,
        code=code if code is not None else f"HTTP {status}",
        message=message or "unexpected HTTP status",
        retry_after=retry_after,
    )

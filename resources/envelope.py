"""Reading a station's reply: the envelope codes and HTTP statuses of station-api.md, pure."""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from resources.interface import StationInterface, dig
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
    """Turn one HTTP response into what the client should do with it."""
    retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
    if status == 401:
        return Reply("token_expired", code="HTTP 401", message="token rejected")
    if status == 429:
        return Reply("rate_limited", code="HTTP 429", message="too many requests", retry_after=retry_after)
    if status in TRANSIENT_HTTP:
        return Reply("transient", code=f"HTTP {status}", message="station unavailable", retry_after=retry_after)
    if looks_like_html(body):
        # A gateway's error page where JSON was expected: transient by the interface's rules.
        return Reply("transient", code=f"HTTP {status}", message="HTML page where JSON was expected")
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if status != 200:
            return Reply("error", code=f"HTTP {status}", message="unexpected HTTP status")
        return Reply("transient", code=f"HTTP {status}", message=f"malformed JSON ({exc.__class__.__name__})")
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("list", "array").replace("dict", "object")
        return Reply("error", message=f"expected a JSON object, got {kind}")
    envelope = interface.envelope
    raw_code = dig(document, envelope.code)
    message = shorten(dig(document, envelope.message) or "")
    if envelope.success_flag is not None:
        flag = dig(document, envelope.success_flag)
        if (flag is True or str(flag).strip().lower() == "true") and status == 200:
            return Reply("ok", document=document, code=None if raw_code is None else str(raw_code), message=message)
        if raw_code is None:
            return Reply("error", message=message or f"'{envelope.success_flag}' is not true")
    if raw_code is None:
        if status != 200:
            return Reply("error", code=f"HTTP {status}", message="unexpected HTTP status")
        return Reply("error", message=f"response has no '{envelope.code}' field")
    code = str(raw_code).strip()
    if code in envelope.success and status == 200 and envelope.success_flag is None:
        return Reply("ok", document=document, code=code, message=message)
    for kind, codes in (
        ("token_expired", envelope.token_expired),
        ("rate_limited", envelope.rate_limited),
        ("transient", envelope.transient),
        ("bad_credentials", envelope.bad_credentials),
    ):
        if code in codes:
            return Reply(kind, code=code, message=message, retry_after=retry_after)
    return Reply("error", document=document, code=code, message=message)

"""Scrubbing what a station says before anyone sees it.

A station's error message may echo the request: its `Authorization` header, the password of a
login, a signed URL. Every message that comes from a station passes through `scrub` before it
is logged or raised: each secret pv-media knows is cut out, and ID-like numbers are masked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable

from pv_model.identity import mask_id_like

REDACTED = "[redacted]"
# Secrets shorter than this would cut ordinary words out of messages; none of ours are that short.
_MIN_SECRET_CHARS = 4
# The process's own secrets, by the variables that hold them (read at call time).
_SECRET_VARIABLES = ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "PV_ID_PSEUDONYM_KEY")
# A credential echoed in a header form, whatever its value: `Bearer xyz`, `Authorization: xyz`.
_ECHOED_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;]+")
# A credential as `name=value` / `"name": "value"`: in a message, a log line, or a media link's query string.
# Names ending in one of these words count too (`auth_token`, `accessToken`, `X-Amz-Signature`, `JSESSIONID`).
_ECHOED_FIELD = re.compile(
    r"(?i)\b("
    r"[\w-]*?(?:token|password|passwd|secret|api_?key|access_?key|secret_?key|signature|credential|session_?id)"
    r"|authorization|pwd|sign|sig"
    r")(\"?\s*[:=]\s*\"?)(?!(?:bearer|basic)\s)[^\s\"',;}&#]+"
)
# The tag that stands for a secret in the audit: the same secret, the same tag, so two links stay apart.
_TAG_HEX = 10
_TAG_KEY = b"pv-media link secret"  # used when PV_ID_PSEUDONYM_KEY is unset (tokens are long random strings)


def process_secrets() -> list[str]:
    return [value for name in _SECRET_VARIABLES if (value := os.environ.get(name))]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any of `secrets` (nor the process's own keys), with ID-like numbers masked."""
    if not text:
        return text
    for secret in sorted({*secrets, *process_secrets()}, key=len, reverse=True):
        if secret and len(secret) >= _MIN_SECRET_CHARS:
            text = text.replace(secret, REDACTED)
    for pattern in (_ECHOED_SCHEME, _ECHOED_FIELD):
        text = pattern.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return mask_id_like(text)


def redact_link_secrets(text: str) -> str:
    """`text` (a media link, or any text that holds links) with each credential parameter's value replaced by
    `[redacted:<tag>]`, the tag a keyed hash of the value (key: PV_ID_PSEUDONYM_KEY, else a fixed one).

    For what is kept - the audit tables, Dagster metadata: the download itself uses the whole link. The same
    names as `scrub` cuts from messages, so what `dialect check` shows and what the audit keeps agree."""
    if not text or "=" not in text and ":" not in text:
        return text
    key = os.environ.get("PV_ID_PSEUDONYM_KEY", "").encode() or _TAG_KEY

    def tagged(match: re.Match[str]) -> str:
        value = match.group(0)[len(match.group(1)) + len(match.group(2)) :]
        tag = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:_TAG_HEX]
        return f"{match.group(1)}{match.group(2)}{REDACTED[:-1]}:{tag}]"

    return _ECHOED_FIELD.sub(tagged, text)


def is_redacted_link(text: object) -> bool:
    """Whether `text` is a link whose credential was replaced by redact_link_secrets (so it cannot be fetched)."""
    return isinstance(text, str) and f"{REDACTED[:-1]}:" in text

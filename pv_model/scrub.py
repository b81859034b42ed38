"""Scrubbing what a station says before anyone sees it.

A station's error message may echo the request: its `Authorization` header, the password of a
login, a signed URL. Every message that comes from a station passes through `scrub` before it
is logged or raised: each secret pv-media knows is cut out, and ID-like numbers are masked.
"""

from __future__ import annotations

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
_ECHOED_FIELD = re.compile(
    r"(?i)\b(authorization|token|access_token|password|passwd|pwd|secret|client_secret|api_?key|signature|sign)"
    r"(\"?\s*[:=]\s*\"?)(?!(?:bearer|basic)\s)[^\s\"',;}&]+"
)


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

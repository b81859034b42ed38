"""Splitting and normalising the comma-separated media URL fields of a record (step d1)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from requests.utils import requote_uri

DEFAULT_SEPARATORS = (",", "，")
ALLOWED_SCHEMES = ("http", "https")

# Query parameters of the known object stores' signed URLs (Aliyun OSS, Tencent COS, AWS S3): they
# carry an expiring signature rather than identify the file, so a re-read record's fresh signature
# keeps the same object key. Generic names such as `token` or `sign` are NOT here: on a station's
# own download endpoint (`/attachment/download?token=a1`) they name the file, and dropping them
# merged distinct files into one. A station whose URLs sign with such names says so (signature_params).
SIGNING_PARAMS = frozenset(
    {
        "expires",
        "signature",
        "ossaccesskeyid",
        "security-token",
        "awsaccesskeyid",
        "q-sign-algorithm",
        "q-ak",
        "q-sign-time",
        "q-key-time",
        "q-header-list",
        "q-url-param-list",
        "q-signature",
    }
)
SIGNING_PARAM_PREFIXES = ("x-oss-", "x-amz-", "x-cos-")

_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_LONE_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")


class InvalidMediaUrl(ValueError):
    """A URL item that can never be downloaded; the message says why."""


@dataclass(frozen=True)
class UrlItem:
    """One item of a URL field: the raw text, and the absolute URL or the reason it is refused."""

    raw: str
    url: str | None
    problem: str | None


def split_url_field(value: object, separators: Sequence[str] = DEFAULT_SEPARATORS) -> list[str]:
    """Split a URL list field into its non-empty, stripped items, in order, duplicates kept.

    Handles both comma kinds, spaces around items, empty items and null fields.
    """
    if value is None:
        return []
    if isinstance(value, float) and value != value:  # NaN from pandas
        return []
    if isinstance(value, list | tuple):
        items: list[str] = [str(v) for v in value if v is not None]
    else:
        text = str(value)
        for sep in separators[1:]:
            text = text.replace(sep, separators[0])
        items = text.split(separators[0]) if separators else [text]
    return [item.strip() for item in items if item and item.strip()]


def _encode_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidMediaUrl(f"host {host!r} is not a valid host name") from exc


def _encode_component(text: str) -> str:
    """Percent-encode what must be (non-ASCII, spaces); keep valid escapes, upper-cased, as they are."""
    text = _LONE_PERCENT.sub("%25", text)
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), requote_uri(text))


def normalize_media_url(item: str, base_url: str) -> str:
    """Return the absolute, percent-encoded form of one URL item.

    Relative items resolve against the station's base URL. Non-ASCII paths are encoded as
    UTF-8; existing escapes are kept as they are (a signed URL's ``%2B`` must reach the server
    unchanged). Raises InvalidMediaUrl for anything that is not plain http(s).
    """
    text = item.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidMediaUrl("URL contains control characters")
    absolute = urljoin(base_url.rstrip("/") + "/", text) if not urlsplit(text).scheme else text
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise InvalidMediaUrl(f"scheme {scheme or '(none)'!r} is not http or https")
    if parts.username is not None or parts.password is not None:
        raise InvalidMediaUrl("URL carries credentials (user:password@host)")
    if not parts.hostname:
        raise InvalidMediaUrl("URL has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidMediaUrl("URL has an invalid port") from exc
    host = _encode_host(parts.hostname)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    path = _encode_component(parts.path or "/")
    query = _encode_component(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def redirect_target(current: str, location: str) -> str:
    """Where a redirect goes: Location resolved against the URL that answered (RFC 3986), normalised."""
    return normalize_media_url(urljoin(current, location.strip()), current)


def parse_url_items(value: object, base_url: str, separators: Sequence[str] = DEFAULT_SEPARATORS) -> list[UrlItem]:
    """Split a URL field and normalise each item, keeping refused items with their reason."""
    items = []
    for raw in split_url_field(value, separators):
        try:
            items.append(UrlItem(raw=raw, url=normalize_media_url(raw, base_url), problem=None))
        except InvalidMediaUrl as exc:
            items.append(UrlItem(raw=raw, url=None, problem=f"invalid URL: {exc}"))
    return items


def url_identity(url: str, signature_params: Iterable[str] = ()) -> str:
    """The part of a normalised URL that names the file: signing parameters removed.

    Used for the object key's URL hash, so that a fresh signature does not make a new key.
    `signature_params` adds a station's own signature names to the object stores' ones.
    """
    extra = {name.lower() for name in signature_params}
    parts = urlsplit(url)
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_signature_param(name) and name.lower() not in extra
    ]
    query = "&".join(f"{name}={value}" for name, value in sorted(kept))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def is_signature_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in SIGNING_PARAMS or lowered.startswith(SIGNING_PARAM_PREFIXES)

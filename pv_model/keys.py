"""Object keys: deterministic, so that a re-run finds what it stored (design: Object keys)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from pv_model.identity import mask_id
from pv_model.urls import url_identity

# Matched whole (fullmatch): `$` would let "RC-9\n" through, since it matches before a final newline.
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class InvalidKeySegment(ValueError):
    pass


def url_hash(url: str, signature_params: Iterable[str] = ()) -> str:
    """8 hex characters of the sha256 of the URL's identity (signature parameters removed)."""
    return hashlib.sha256(url_identity(url, signature_params).encode("utf-8")).hexdigest()[:8]


def safe_segment(value: str, what: str) -> str:
    """A station id or region code used as a key segment: no slashes, dots-only or odd bytes."""
    if not isinstance(value, str) or not _SAFE_SEGMENT.fullmatch(value) or set(value) == {"."}:
        raise InvalidKeySegment(f"{what} {value!r} cannot be used in an object key")
    return value


def pseudonymize_id(id_card_no: str, secret: bytes) -> str:
    """HMAC-SHA256 of the ID number (24 hex chars), for groups whose rules forbid raw IDs in keys."""
    return hmac.new(secret, id_card_no.encode("ascii"), hashlib.sha256).hexdigest()[:24]


def object_key_stem(
    region_company_code: str, station_id: str, id_part: str, source_url: str, signature_params: Iterable[str] = ()
) -> str:
    """`{region}/{station}/{id}_{urlhash8}` - the key without the suffix, which comes from the bytes."""
    region = safe_segment(region_company_code, "region company code")
    station = safe_segment(station_id, "station id")
    return f"{region}/{station}/{id_part}_{url_hash(source_url, signature_params)}"


def key_prefix(key: str) -> str:
    """The folder of a key or stem (`{region}/{station}/`): what one listing covers."""
    return key.rsplit("/", 1)[0] + "/"


def object_key(stem: str, extension: str) -> str:
    return f"{stem}{extension}"


def mask_key(key: str) -> str:
    """The key as shown to people: the ID part of the file name masked."""
    head, _, name = key.rpartition("/")
    id_part, sep, rest = name.partition("_")
    if not sep:
        return key
    return f"{head}/{mask_id(id_part)}{sep}{rest}" if head else f"{mask_id(id_part)}{sep}{rest}"


def stem_of(key: str) -> str:
    """The key without its file suffix (the part a manifest row knows before downloading)."""
    head, _, name = key.rpartition("/")
    base = name.split(".", 1)[0]
    return f"{head}/{base}" if head else base

"""Media given as file ids (a dialect with `fields.url_templates`): the station hands out opaque ids and
serves each file at its download call. The id encodes the world's URL of the file, so the download call
serves exactly what that URL serves (its failures too) with no table to keep."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from .documents import url_items

ID_FIELD = "fileId"  # the download call's query parameter in the shipped ruoyi dialect


def file_id(url: str) -> str:
    return "F" + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def url_of(identifier: str) -> str | None:
    """The world's URL behind a file id; None for anything that is not one."""
    if not identifier.startswith("F"):
        return None
    body = identifier[1:]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _ids(text: str | None, separators: tuple[str, ...], canonical: Mapping[str, str]) -> list[str]:
    """One id per file: an item written two ways (relative and absolute, say) is one file with one id."""
    ids = [file_id(canonical.get(url, url)) for url in url_items(text, separators) if url]
    return list(dict.fromkeys(ids))


def ids_text(text: str | None, separators: tuple[str, ...], canonical: Mapping[str, str]) -> str | None:
    """A v1 URL list as the ids a vendor writes: both comma kinds, alternating."""
    ids = _ids(text, separators, canonical)
    if not ids:
        return text
    out = ids[0]
    for position, identifier in enumerate(ids[1:]):
        out += ("，" if position % 2 and "，" in separators else ",") + identifier
    return out


def ids_list(text: str | None, separators: tuple[str, ...], canonical: Mapping[str, str]) -> list[str]:
    return _ids(text, separators, canonical)


def download_path(template: str) -> str:
    """The download call's path, from a URL template (`/api/file/download?fileId={item}`)."""
    return urlsplit(template).path


def requested_url(raw_query: str) -> str | None:
    values = parse_qs(raw_query).get(ID_FIELD)
    return url_of(values[0]) if values else None

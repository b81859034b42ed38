"""JSON documents as the simulated stations write them: dotted paths, URL lists, cursors, parameters.

Pure helpers shared by the dialect's envelope and records voices (dialect.py, records_voice.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from http.cookies import CookieError, SimpleCookie
from typing import Any

from pv_model.dialect import EPOCH_MS, StationInterface


def put(document: dict, dotted_path: str, value: Any) -> None:
    """Set a dotted path in a JSON document, creating objects (or lists, for digit segments) on the way."""
    parts = dotted_path.split(".")
    node: Any = document
    for part, following in zip(parts, parts[1:], strict=False):
        child = _get(node, part)
        if not isinstance(child, dict | list):
            child = [] if following.isdigit() else {}
            _set(node, part, child)
        node = child
    _set(node, parts[-1], value)


def sibling(dotted_path: str, name: str) -> str:
    """The path of a field next to `dotted_path` ("data.records", "pageNo" -> "data.pageNo")."""
    parent = dotted_path.rpartition(".")[0]
    return f"{parent}.{name}" if parent else name


def _get(node: Any, part: str) -> Any:
    if isinstance(node, list):
        index = int(part)
        return node[index] if index < len(node) else None
    return node.get(part)


def _set(node: Any, part: str, value: Any) -> None:
    if isinstance(node, list):
        index = int(part)
        node.extend([None] * (index + 1 - len(node)))
        node[index] = value
    else:
        node[part] = value


def json_code(code: str) -> int | str:
    """Digit-only codes without leading zeros go out as JSON numbers, the rest as strings."""
    return int(code) if code.isdigit() and (code == "0" or not code.startswith("0")) else code


def split_urls(text: str | None, fields: int, separators: tuple[str, ...]) -> list[str | None]:
    """Spread one URL list over `fields` fields, cutting at a middle separator; quirks are kept."""
    if fields <= 1:
        return [text]
    pattern = "|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True) if s)
    cuts = list(re.finditer(pattern, text)) if text and pattern else []
    if not cuts:
        return [text] + [None] * (fields - 1)
    cut = cuts[(len(cuts) + 1) // 2 - 1]
    return [text[: cut.start()], *split_urls(text[cut.end() :], fields - 1, separators)]


def get_path(document: dict, dotted_path: str) -> Any:
    node: Any = document
    for part in dotted_path.split("."):
        node = _get(node, part) if isinstance(node, dict | list) else None
    return node


def video_type_value(video_types: frozenset[str]) -> str:
    return "video" if "video" in video_types or not video_types else sorted(video_types)[0]


def url_items(text: str | None, separators: tuple[str, ...]) -> list[str]:
    """The URL items of a v1 URL field, stripped, empties dropped (as every client reads them)."""
    if not text:
        return []
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [item.strip() for item in text.split(separators[0])] if separators else [text.strip()]


def encode_cursor(start: int) -> str:
    return base64.urlsafe_b64encode(f"after:{start}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> int:
    if cursor in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        return max(0, int(text.removeprefix("after:")))
    except ValueError:
        raise ValueError("cursor 无效") from None


def business_code(iface: StationInterface) -> str:
    """A business error code that is in none of the dialect's lists, shaped like its codes."""
    envelope = iface.envelope
    listed = (
        envelope.success
        | envelope.token_expired
        | envelope.rate_limited
        | envelope.transient
        | envelope.bad_credentials
    )
    model = min(envelope.bad_credentials, default="1001")
    if envelope.style == "none":
        return "9999"
    prefix = re.match(r"\D*", model).group()
    code = prefix + "9999".rjust(len(model) - len(prefix), "0") if prefix else "9999"
    while code in listed:
        code += "9"
    return code


def sometimes(record: dict, field: str) -> bool:
    digest = hashlib.sha256(f"{record.get('recordId')}:{field}".encode()).digest()
    return digest[0] % 3 == 0


def cookie_value(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def int_param(params: dict, name: str, default: int, *, minimum: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} 必须是整数")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} 必须是整数") from None
    if number < minimum:
        raise ValueError(f"{name} 必须大于{minimum - 1}")
    return number


def readable_format(time_format: str) -> str:
    if time_format == EPOCH_MS:
        return "毫秒时间戳"
    for strftime, java in (("%Y", "yyyy"), ("%m", "MM"), ("%d", "dd"), ("%H", "HH"), ("%M", "mm"), ("%S", "ss")):
        time_format = time_format.replace(strftime, java)
    return time_format

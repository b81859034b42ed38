"""The declarative description of a station cloud interface (a "dialect").

The station client reads every path, field name, envelope code and paging parameter from
here; `dialects/default.yaml` declares station-api.md v1. Loading validates the file and
names the file and the key of anything wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# Dialect files: $PV_DIALECTS_DIR, else conf/dialects in the working directory, else the project's own.
PROJECT_DIALECTS = Path(__file__).resolve().parents[1] / "conf" / "dialects"


def dialect_dirs() -> list[Path]:
    dirs = [Path(os.environ["PV_DIALECTS_DIR"])] if os.environ.get("PV_DIALECTS_DIR") else []
    return [*dirs, Path("conf/dialects").absolute(), PROJECT_DIALECTS]


class InterfaceError(ValueError):
    """A dialect file that cannot be used; the message names the file and the key."""


TOKEN_SOURCES = ("json", "header", "cookie")
PARAMS_IN = ("query", "body")
EPOCH_MS = "epoch_ms"


@dataclass(frozen=True)
class Envelope:
    code: str
    message: str
    data: str
    success_flag: str | None  # a boolean field that says success (FusionSolar's `success`), if any
    success: frozenset[str]
    token_expired: frozenset[str]
    rate_limited: frozenset[str]
    transient: frozenset[str]
    bad_credentials: frozenset[str]


@dataclass(frozen=True)
class Login:
    method: str
    path: str
    body: dict[str, Any]
    token_from: str  # json | header | cookie: where the token comes back
    token: str  # its JSON path, or the header / cookie name; a JSON object is sent JSON-encoded
    expires_in: str | None
    send_header: str | None  # how it goes out: a header (with a prefix) ...
    send_prefix: str
    send_cookie: str | None  # ... and/or a cookie
    api_base: str | None  # JSON path of the base URL that all later calls must use (regional hosts)


@dataclass(frozen=True)
class StationInfoCall:
    method: str
    path: str
    params: dict[str, Any]
    station_code: str
    station_name: str
    region_company_code: str


@dataclass(frozen=True)
class RecordsCall:
    method: str
    path: str
    params_in: str  # query | body: where paging parameters go
    page_param: str
    page_size_param: str
    first_page: int
    page_size: int
    items: str
    total: str | None
    updated_since_param: str | None
    time_format: str


@dataclass(frozen=True)
class FieldMap:
    record_id: str
    id_card_no: str
    pickup_status: str
    updated_at: str | None
    photo_urls: tuple[str, ...]
    video_urls: tuple[str, ...]


@dataclass(frozen=True)
class StationInterface:
    name: str
    source: str
    envelope: Envelope
    login: Login
    station_info: StationInfoCall
    records: RecordsCall
    fields: FieldMap
    pickup_status: dict[str, str]
    placeholders: frozenset[str]
    url_separators: tuple[str, ...]
    timezone: str


def dig(document: Any, dotted_path: str | None) -> Any:
    """Value at a dotted path ("data.records", "data.list.0.code") of a decoded JSON document, or None."""
    if not dotted_path:
        return None
    value = document
    for part in dotted_path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def format_time(when: Any, time_format: str) -> str:
    """A datetime as the station wants it: a strftime pattern, or epoch milliseconds."""
    if time_format == EPOCH_MS:
        return str(int(when.timestamp() * 1000))
    return when.strftime(time_format)


class _Reader:
    """Reads one section of a dialect file, with errors that name the file and the key."""

    def __init__(self, source: str, section: str, mapping: Any):
        self.source, self.section = source, section
        if not isinstance(mapping, dict):
            raise self.error("", "must be a mapping")
        self.mapping = mapping

    def error(self, key: str, problem: str) -> InterfaceError:
        where = f"{self.section}.{key}" if key else self.section
        return InterfaceError(f"{self.source}: key '{where}' {problem}")

    def text(self, key: str, default: str | None = None, *, optional: bool = False) -> Any:
        value = self.mapping.get(key, default)
        if value is None:
            if optional:
                return None
            raise self.error(key, "is missing")
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.mapping.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(key, f"must be a whole number, got {value!r}")
        return value

    def codes(self, key: str) -> frozenset[str]:
        value = self.mapping.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be a list of codes")
        return frozenset(str(v).strip() for v in value)

    def names(self, key: str) -> tuple[str, ...]:
        value = self.mapping.get(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, "must be a field name or a list of field names")
        return tuple(value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.mapping.get(key, default)
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def method(self, key: str = "method") -> str:
        value = self.text(key, "GET").upper()
        if value not in ("GET", "POST"):
            raise self.error(key, f"must be GET or POST, got {value!r}")
        return value

    def path(self, key: str = "path") -> str:
        value = self.text(key)
        if not value.startswith("/"):
            raise self.error(key, f"must start with '/', got {value!r}")
        return value


def parse_interface(document: Any, source: str) -> StationInterface:
    """Validate a decoded dialect document into a StationInterface."""
    root = _Reader(source, "(top level)", document)
    env = _Reader(source, "envelope", document.get("envelope"))
    login = _Reader(source, "login", document.get("login"))
    info = _Reader(source, "station_info", document.get("station_info"))
    rec = _Reader(source, "records", document.get("records"))
    fields = _Reader(source, "fields", document.get("fields"))
    body = login.mapping.get("body")
    if not isinstance(body, dict):
        raise login.error("body", "must be a mapping of JSON body fields")
    pickup = document.get("pickup_status")
    if not isinstance(pickup, dict) or not pickup:
        raise root.error("pickup_status", "must map station values to canonical statuses")
    page_size = rec.integer("page_size", 100)
    if page_size == 0:
        raise rec.error("page_size", "must be at least 1")
    send_header = login.text("send_header", optional=True)
    send_cookie = login.text("send_cookie", optional=True)
    if "send_header" not in login.mapping and send_cookie is None:
        send_header = "Authorization"
    if not send_header and not send_cookie:
        raise login.error("send_header", "or send_cookie must say how the token goes out")
    info_params = info.mapping.get("params") or {}
    if not isinstance(info_params, dict):
        raise info.error("params", "must be a mapping of request parameters")
    return StationInterface(
        name=root.text("name"),
        source=source,
        envelope=Envelope(
            code=env.text("code"),
            message=env.text("message"),
            data=env.text("data"),
            success_flag=env.text("success_flag", optional=True),
            success=env.codes("success"),
            token_expired=env.codes("token_expired"),
            rate_limited=env.codes("rate_limited"),
            transient=env.codes("transient"),
            bad_credentials=env.codes("bad_credentials"),
        ),
        login=Login(
            method=login.method(),
            path=login.path(),
            body=body,
            token_from=login.choice("token_from", TOKEN_SOURCES, "json"),
            token=login.text("token"),
            expires_in=login.text("expires_in", optional=True),
            send_header=send_header,
            send_prefix=str(login.mapping.get("send_prefix") or ""),
            send_cookie=send_cookie,
            api_base=login.text("api_base", optional=True),
        ),
        station_info=StationInfoCall(
            method=info.method(),
            path=info.path(),
            params=info_params,
            station_code=info.text("station_code"),
            station_name=info.text("station_name"),
            region_company_code=info.text("region_company_code"),
        ),
        records=RecordsCall(
            method=rec.method(),
            path=rec.path(),
            params_in=rec.choice("params_in", PARAMS_IN, "query" if rec.method() == "GET" else "body"),
            page_param=rec.text("page_param"),
            page_size_param=rec.text("page_size_param"),
            first_page=rec.integer("first_page", 1),
            page_size=page_size,
            items=rec.text("items"),
            total=rec.text("total", optional=True),
            updated_since_param=rec.text("updated_since_param", optional=True),
            time_format=rec.text("time_format", "%Y-%m-%d %H:%M:%S"),
        ),
        fields=FieldMap(
            record_id=fields.text("record_id"),
            id_card_no=fields.text("id_card_no"),
            pickup_status=fields.text("pickup_status"),
            updated_at=fields.text("updated_at", optional=True),
            photo_urls=fields.names("photo_urls"),
            video_urls=fields.names("video_urls"),
        ),
        pickup_status={str(k): str(v) for k, v in pickup.items()},
        placeholders=frozenset(str(v) for v in document.get("placeholders", [])),
        url_separators=tuple(document.get("url_separators", [",", "，"])),
        timezone=str(document.get("timezone", "Asia/Shanghai")),
    )


def load_interface_file(path: Path) -> StationInterface:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InterfaceError(f"{path}: cannot read dialect file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InterfaceError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InterfaceError(f"{path}: a dialect file must be a mapping")
    return parse_interface(document, str(path))


def known_dialects() -> list[str]:
    return sorted({p.stem for d in dialect_dirs() if d.is_dir() for p in d.glob("*.yaml")})


def load_interface(name: str = "default") -> StationInterface:
    """A dialect by name, from the first dialect directory that has it."""
    for directory in dialect_dirs():
        path = directory / f"{name}.yaml"
        if path.is_file():
            return _load_cached(path.resolve(), path.stat().st_mtime_ns)
    raise InterfaceError(f"unknown dialect {name!r} (known: {', '.join(known_dialects())})")


@cache
def _load_cached(path: Path, _mtime: int) -> StationInterface:
    return load_interface_file(path)

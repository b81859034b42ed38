"""The declarative description of a station cloud interface (a "dialect").

The station client reads every path, field name, envelope code and paging parameter from
here; `dialects/default.yaml` declares station-api.md v1. Loading validates the file and
names the file and the key of anything wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

BUILTIN_DIALECTS = Path(__file__).parent / "dialects"


class InterfaceError(ValueError):
    """A dialect file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Envelope:
    code: str
    message: str
    data: str
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
    token: str
    expires_in: str | None
    send_header: str
    send_prefix: str


@dataclass(frozen=True)
class StationInfoCall:
    method: str
    path: str
    station_code: str
    station_name: str
    region_company_code: str


@dataclass(frozen=True)
class RecordsCall:
    method: str
    path: str
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
    """Value at a dotted path ("data.records") of a decoded JSON document, or None."""
    if not dotted_path:
        return None
    value = document
    for part in dotted_path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


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
    return StationInterface(
        name=root.text("name"),
        source=source,
        envelope=Envelope(
            code=env.text("code"),
            message=env.text("message"),
            data=env.text("data"),
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
            token=login.text("token"),
            expires_in=login.text("expires_in", optional=True),
            send_header=login.text("send_header", "Authorization"),
            send_prefix=str(login.mapping.get("send_prefix", "")),
        ),
        station_info=StationInfoCall(
            method=info.method(),
            path=info.path(),
            station_code=info.text("station_code"),
            station_name=info.text("station_name"),
            region_company_code=info.text("region_company_code"),
        ),
        records=RecordsCall(
            method=rec.method(),
            path=rec.path(),
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


@cache
def load_interface(name: str = "default") -> StationInterface:
    """A built-in dialect by name."""
    path = BUILTIN_DIALECTS / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUILTIN_DIALECTS.glob("*.yaml")))
        raise InterfaceError(f"unknown dialect {name!r} (known: {known})")
    return load_interface_file(path)

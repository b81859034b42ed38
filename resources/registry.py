"""The station registry (conf/stations.yaml): load, validate, and explain what is wrong.

Every error names the file, the line, the station and the field. Secrets are never kept
here: the registry names the environment variables that hold them.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from resources.interface import InterfaceError, load_interface
from resources.keys import InvalidKeySegment, safe_segment
from resources.settings import stations_file
from resources.station_api.config import StationEndpoint

# 已提货 as the v1 interface writes it, and the canonical status every dialect maps its own value to.
DEFAULT_ACCEPTED_PICKUP = ("已提货", "picked_up")
STATION_FIELDS = {
    "id",
    "station_code",
    "poll_interval_s",
    "name",
    "base_url",
    "region_company_code",
    "account_env",
    "password_env",
    "max_connections",
    "media_hosts",
    "dialect",
    "accepted_pickup_status",
}
SECRET_FIELDS = {"password", "account", "token", "secret", "passwd", "pwd"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RegistryError(ValueError):
    """A registry that cannot be used; the message says which file, line, station and field."""


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    base_url: str
    region_company_code: str | None
    account_env: str
    password_env: str
    max_connections: int = 4
    media_hosts: tuple[str, ...] = ()
    dialect: str = "default"
    accepted_pickup_status: tuple[str, ...] = DEFAULT_ACCEPTED_PICKUP
    poll_interval_s: int = 900  # the change sensor looks at this station at most this often
    station_code: str | None = None  # the station cloud's own code, when it differs from `id`

    @property
    def expected_station_code(self) -> str:
        return self.station_code or self.id

    source: str = ""  # "file:line", for messages

    def endpoint(self, max_connections: int | None = None) -> StationEndpoint:
        """What the station client needs, credentials read from the environment now."""
        account, password = self.credentials()
        connections = self.max_connections if max_connections is None else max_connections
        return StationEndpoint(self.id, self.base_url, account, password, connections, self.media_hosts)

    def credentials(self) -> tuple[str, str]:
        """(account, password) from the environment, at run time; errors name the variable, not its value."""
        values = []
        for field_name, env_name in (("account_env", self.account_env), ("password_env", self.password_env)):
            value = os.environ.get(env_name)
            if not value:
                raise RegistryError(
                    f"{self.source}: station {self.id}: field '{field_name}': environment variable "
                    f"{env_name} is not set"
                )
            values.append(value)
        return values[0], values[1]


@dataclass(frozen=True)
class Registry:
    path: Path
    stations: tuple[Station, ...]

    def ids(self) -> list[str]:
        return [s.id for s in self.stations]

    def get(self, station_id: str) -> Station:
        station = self._by_id.get(station_id)
        if station is None:
            raise RegistryError(f"{self.path}: station {station_id} is not in the registry")
        return station

    @functools.cached_property
    def _by_id(self) -> dict[str, Station]:
        return {station.id: station for station in self.stations}


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of each mapping, so errors can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key {sorted(map(str, duplicates))[0]!r}", node.start_mark
        )
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_registry(text: str, source: str) -> tuple[Station, ...]:
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise RegistryError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("stations"), list):
        raise RegistryError(f"{source}: expected a mapping with a 'stations' list")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RegistryError(f"{source}: 'defaults' must be a mapping")
    stations: list[Station] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(document["stations"]):
        station = _parse_station(entry, index, defaults, source)
        if station.id in seen:
            raise RegistryError(
                f"{station.source}: station {station.id}: field 'id': duplicate station id "
                f"(first defined at line {seen[station.id]})"
            )
        seen[station.id] = int(station.source.rsplit(":", 1)[1])
        stations.append(station)
    return tuple(stations)


def _parse_station(entry: Any, index: int, defaults: dict[str, Any], source: str) -> Station:
    if not isinstance(entry, dict):
        raise RegistryError(f"{source}: stations[{index}] must be a mapping")
    line = entry.pop("__line__", "?")
    where = f"{source}:{line}"
    raw_id = entry.get("id")
    label = f"station {raw_id}" if raw_id is not None else f"stations[{index}]"

    def fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"{where}: {label}: field '{field_name}': {problem}")

    for key in entry:
        if str(key).lower() in SECRET_FIELDS:
            # Never echo the value: it is probably the secret itself.
            raise fail(
                str(key),
                "secrets are not kept in the registry; put the value in an environment "
                f"variable and name it with '{key}_env'",
            )
        if key not in STATION_FIELDS:
            raise fail(str(key), f"unknown field (known: {', '.join(sorted(STATION_FIELDS))})")
    merged = {**{k: v for k, v in defaults.items() if k != "__line__"}, **entry}

    def text(field_name: str, *, required: bool = True) -> str | None:
        value = merged.get(field_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise fail(field_name, "is missing")
            return None
        if not isinstance(value, str | int):
            raise fail(field_name, f"must be text, got {type(value).__name__}")
        return str(value).strip()

    station_id = text("id")
    assert station_id is not None
    try:
        safe_segment(station_id, "station id")
    except InvalidKeySegment:
        raise fail("id", "must be letters, digits, '.', '_' or '-' (it is a partition key and a key segment)") from None
    base_url = text("base_url")
    assert base_url is not None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail("base_url", f"must be an http(s) URL with a host, got {base_url!r}")
    if parts.username or parts.password:
        raise fail("base_url", "must not carry credentials")
    region = text("region_company_code", required=False)
    if region is not None:
        try:
            safe_segment(region, "region company code")
        except InvalidKeySegment:
            raise fail("region_company_code", "must be letters, digits, '.', '_' or '-'") from None
    env_names = {}
    for field_name in ("account_env", "password_env"):
        value = text(field_name)
        assert value is not None
        if not _ENV_NAME.match(value):
            raise fail(
                field_name, "must be the NAME of an environment variable (letters, digits, '_'), not the secret itself"
            )
        env_names[field_name] = value
    max_connections = merged.get("max_connections", 4)
    if not isinstance(max_connections, int) or isinstance(max_connections, bool) or not 1 <= max_connections <= 64:
        raise fail("max_connections", f"must be a whole number from 1 to 64, got {max_connections!r}")
    media_hosts = merged.get("media_hosts") or []
    if not isinstance(media_hosts, list) or not all(isinstance(h, str) and h.strip() for h in media_hosts):
        raise fail("media_hosts", "must be a list of host names (host or host:port)")
    accepted = merged.get("accepted_pickup_status", list(DEFAULT_ACCEPTED_PICKUP))
    if isinstance(accepted, str):
        accepted = [accepted]
    if not isinstance(accepted, list) or not accepted or not all(isinstance(v, str) for v in accepted):
        raise fail("accepted_pickup_status", "must be a list of pickup status values")
    dialect = text("dialect", required=False) or "default"
    try:
        load_interface(dialect)  # a broken or unknown dialect is refused here, naming its file and key
    except InterfaceError as exc:
        raise fail("dialect", str(exc)) from None
    poll_interval_s = merged.get("poll_interval_s", 900)
    if not isinstance(poll_interval_s, int) or isinstance(poll_interval_s, bool) or poll_interval_s < 60:
        raise fail("poll_interval_s", f"must be a whole number of seconds, at least 60, got {poll_interval_s!r}")
    return Station(
        id=station_id,
        name=text("name", required=False) or station_id,
        base_url=base_url.rstrip("/"),
        region_company_code=region,
        account_env=env_names["account_env"],
        password_env=env_names["password_env"],
        max_connections=max_connections,
        media_hosts=tuple(h.strip() for h in media_hosts),
        dialect=dialect,
        accepted_pickup_status=tuple(accepted),
        poll_interval_s=poll_interval_s,
        station_code=text("station_code", required=False),
        source=where,
    )


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the registry from `path`, else PV_STATIONS_FILE, else conf/stations.yaml.

    Parsed once per version of the file: sensors and every step look stations up often, and a
    group's registry can hold thousands of them.
    """
    file = Path(path) if path else stations_file()
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise RegistryError(f"{file}: station registry not found (set PV_STATIONS_FILE or pass --stations)") from None
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry: {exc.strerror}") from None
    return _load_version(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_version(file: Path, _mtime_ns: int, _size: int) -> Registry:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry: {exc.strerror}") from None
    return Registry(file, parse_registry(text, str(file)))

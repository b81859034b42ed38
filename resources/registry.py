"""The station registry (conf/stations.yaml): load, validate, and explain what is wrong.

The registry is typed models (pydantic): `defaults:` and every station are validated alike,
unknown keys are refused with a "did you mean", and every error names the file, the line, the
station and the field, with the reason - never the value, which may be a secret written in
the wrong place. Secrets are never kept here: the registry names the environment variables
that hold them.

A group's registry holds thousands of stations and every run process reads it: the YAML is
read by ryaml (Rust, YAML 1.2) without line numbers, which a second parse finds only when a
message needs one; and the parsed document is kept in a small cache keyed by the file's
sha256, so a process that finds it there skips the parse.

YAML 1.2, not PyYAML's 1.1: `yes`/`on` stay strings, and a code with a leading zero (`0012`)
stays `0012` instead of becoming the octal number 10. A code YAML reads as a float (`1e5`,
`1.50`) is refused: it must be quoted. `<<: *anchor` merge keys work as in YAML 1.1.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import ryaml
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from resources.interface import InterfaceError, load_interface, yaml_error_text
from resources.keys import InvalidKeySegment, safe_segment
from resources.photo_types import check_photo_types, region_photo_types, required_for
from resources.settings import settings, stations_file
from resources.station_api.config import StationEndpoint

# 已提货 as the v1 interface writes it, and the canonical status every dialect maps its own value to.
DEFAULT_ACCEPTED_PICKUP = ("已提货", "picked_up")
SECRET_FIELDS = {"password", "account", "token", "secret", "passwd", "pwd", "access_key", "secret_key", "api_key"}
# Environment variable names as people write them: capitals, digits, '_'. A value in lower case
# where a NAME belongs is most likely the secret itself, so it is refused without being shown.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_RYAML_VERSION = importlib.metadata.version("ryaml")  # another parser version may read a file differently
CACHE_VERSION = 2  # 2: read as YAML 1.2 (ryaml), no line numbers in the document


class RegistryError(ValueError):
    """A registry that cannot be used; the message says which file, line, station and field."""


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class StationSettings(BaseModel):
    """What a station entry and the `defaults:` section may say (all optional in `defaults:`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: Text | None = None
    base_url: Text | None = None
    region_company_code: Text | None = None
    account_env: Text | None = None
    password_env: Text | None = None
    max_connections: int = Field(4, ge=1, le=64, strict=True)
    media_hosts: list[Text] = Field(default_factory=list)
    dialect: Text = "default"
    accepted_pickup_status: list[Text] = Field(default_factory=lambda: list(DEFAULT_ACCEPTED_PICKUP), min_length=1)
    poll_interval_s: int = Field(900, ge=60, strict=True)
    station_code: Text | None = None
    # Query parameters of this station's media URLs that carry a signature, not the file's name: dropped from
    # the object key's URL hash so a re-signed link keeps its key. Object stores' own (Expires, X-Amz-...) always are.
    signature_params: list[Text] = Field(default_factory=list)
    # Bounds of one station run's paging (issue 9.4), over the dialect's own records.max_* / deadline_s.
    max_pages: int | None = Field(None, ge=1, strict=True)
    max_records: int | None = Field(None, ge=1, strict=True)
    records_deadline_s: float | None = Field(None, gt=0)
    # Photo types every picked-up installation needs (resources.photo_types); unset: the group's six.
    required_photo_types: list[Text] | None = None

    @field_validator("required_photo_types")
    @classmethod
    def _known_photo_types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(check_photo_types(value, "required_photo_types"))

    @field_validator("id", "name", "region_company_code", "station_code", mode="before", check_fields=False)
    @classmethod
    def _not_a_float(cls, value: Any) -> Any:
        # 1e5 or 1.50 as YAML reads it is the float 100000.0 or 1.5: the code as written would be lost.
        if isinstance(value, float):
            raise ValueError("is read as a number, not as written: put it in quotes")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        # No value in these messages: a URL may carry user:password.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials")
        try:
            parts.port  # noqa: B018 - urlsplit checks the range only when asked
        except ValueError:
            raise ValueError("has an invalid port (a number from 1 to 65535)") from None
        if parts.port == 0:
            raise ValueError("has an invalid port (a number from 1 to 65535)")
        return value.rstrip("/")

    @field_validator("account_env", "password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(
                "must be the NAME of an environment variable (capitals, digits, '_'), not the secret itself"
            )
        return value

    @field_validator("region_company_code")
    @classmethod
    def _key_segment(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                safe_segment(value, "region company code")
            except InvalidKeySegment:
                raise ValueError("must be letters, digits, '.', '_' or '-'") from None
        return value

    @field_validator("accepted_pickup_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, value: str) -> str:
        try:
            load_interface(value)  # a broken or unknown dialect is refused here, naming its file and key
        except InterfaceError as exc:
            raise ValueError(str(exc)) from None
        return value


class StationEntry(StationSettings):
    id: Text
    base_url: Text
    account_env: Text
    password_env: Text

    @model_validator(mode="after")
    def _region_somewhere(self) -> StationEntry:
        if self.region_company_code is None:
            interface = load_interface(self.dialect)
            if not interface.region_from_station_info and not interface.region_from_records:
                raise ValueError(
                    f"region_company_code is required: dialect '{self.dialect}' has no station-info call "
                    "that names it and no record field for it"
                )
        return self

    @field_validator("id")
    @classmethod
    def _partition_key(cls, value: str) -> str:
        try:
            safe_segment(value, "station id")
        except InvalidKeySegment:
            raise ValueError(
                "must be letters, digits, '.', '_' or '-' (it is a partition key and a key segment)"
            ) from None
        return value


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
    signature_params: tuple[str, ...] = ()  # the station's own URL signature parameters (object keys ignore them)
    max_pages: int | None = None
    max_records: int | None = None
    records_deadline_s: float | None = None
    required_photo_types: tuple[str, ...] | None = None  # the station's own setting, not the defaults'
    # Where the entry is, for messages: its line is looked up only when a message needs it.
    entry_lines: EntryLines | None = field(default=None, compare=False, repr=False)
    index: int = field(default=0, compare=False)

    @property
    def source(self) -> str:
        """'file:line' where this station's entry starts."""
        return self.entry_lines.station(self.index) if self.entry_lines else "(no registry file)"

    @property
    def expected_station_code(self) -> str:
        return self.station_code or self.id

    def credentials(self) -> tuple[str, str]:
        """(account, password) from the environment, at run time; errors name the variable, not its value."""
        values = []
        for field_name, env_name in (("account_env", self.account_env), ("password_env", self.password_env)):
            value = os.environ.get(env_name)
            if not value:
                # The password's variable is not named: a password in capitals written where its NAME belongs
                # passes as a name, and would be printed here.
                variable = f"{env_name} " if field_name == "account_env" else "it names "
                raise RegistryError(
                    f"{self.source}: station {self.id}: field '{field_name}': the environment variable "
                    f"{variable}is not set"
                )
            values.append(value)
        return values[0], values[1]

    def endpoint(self, max_connections: int | None = None) -> StationEndpoint:
        """What the station client needs, credentials read from the environment now."""
        account, password = self.credentials()
        connections = self.max_connections if max_connections is None else max_connections
        return StationEndpoint(
            self.id,
            self.base_url,
            account,
            password,
            connections,
            self.media_hosts,
            max_pages=self.max_pages,
            max_records=self.max_records,
            records_deadline_s=self.records_deadline_s,
        )


@dataclass(frozen=True)
class Registry:
    path: Path
    stations: tuple[Station, ...]
    # Regional companies' names by code (`regions:` in the file): what people read instead of RC-320100.
    region_names: dict[str, str] = field(default_factory=dict, compare=False)
    # Required photo types: `defaults:` for the group, `region_photo_types:` per region code.
    default_photo_types: tuple[str, ...] | None = field(default=None, compare=False)
    region_photo_types: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def required_photo_types(self, station: Station) -> tuple[str, ...]:
        """The station's own setting, else its region's, else the group's (resources.photo_types)."""
        region = self.region_photo_types.get(station.region_company_code or "")
        return required_for(station.required_photo_types, region, self.default_photo_types)

    def ids(self) -> list[str]:
        return [s.id for s in self.stations]

    def region_name(self, code: str | None) -> str | None:
        return self.region_names.get(code) if code else None

    def get(self, station_id: str) -> Station:
        station = self._by_id.get(station_id)
        if station is None:
            raise RegistryError(f"{self.path}: station {station_id} is not in the registry")
        return station

    @functools.cached_property
    def _by_id(self) -> dict[str, Station]:
        return {station.id: station for station in self.stations}


# -- reading the YAML --------------------------------------------------------------------------
# The document is read by ryaml (a Rust YAML 1.2 parser, about 10x faster than PyYAML's libyaml
# binding, whose Python-level node graph costs over a second at 10,000 stations). Line numbers
# are only needed to explain an error, so they come from a second, slower parse (PyYAML, which
# keeps each node's line) made only then.

MERGE_KEY = "<<"
MERGE_TAG = "tag:yaml.org,2002:merge"


def parse_yaml(text: str, source: str) -> Any:
    """The document, without line numbers; a file that is not YAML is explained with its line."""
    try:
        document = ryaml.loads(text)
    except (ryaml.InvalidYamlError, ValueError, TypeError) as exc:
        # ryaml names no line for some errors (a duplicate key): the line-keeping parse explains them.
        EntryLines(text, source).explain_yaml_error()
        raise RegistryError(f"{source}: not valid YAML: {without_values(str(exc))}") from None
    return apply_merge_keys(document) if MERGE_KEY in text else document


def without_values(message: str) -> str:
    """ryaml's message with the values it quotes left out: a value may be a secret written in the wrong place."""
    return re.sub(r"`[^`]*`", "(a value)", message)


def apply_merge_keys(node: Any) -> Any:
    """YAML 1.1's `<<: *anchor` merge keys (ryaml reads YAML 1.2, which has none): a mapping's own
    keys win over merged ones, and of several merged mappings the first wins, as in PyYAML."""
    if isinstance(node, list):
        return [apply_merge_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    merged: dict[Any, Any] = {}
    if MERGE_KEY in node:
        sources = node[MERGE_KEY] if isinstance(node[MERGE_KEY], list) else [node[MERGE_KEY]]
        for source in reversed(sources):
            if isinstance(source, dict):
                merged.update(apply_merge_keys(source))
    merged.update({key: apply_merge_keys(value) for key, value in node.items() if key != MERGE_KEY})
    return merged


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's C parser where installed
    """Refuses duplicate keys, naming the line (the node graph keeps every line)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a key must be text", key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
    # A mapping's own keys win over `<<: *anchor` merged ones, as PyYAML's own constructor has it.
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=True)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class EntryLines:
    """Where the registry's entries start, found by a second parse the first time a message asks."""

    def __init__(self, text: str | bytes, source: str):
        self._text = text
        self.source = source

    def explain_yaml_error(self) -> None:
        """Raise the YAML error of this text with its line, if PyYAML sees one."""
        try:
            yaml.load(self._text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise RegistryError(yaml_error_text(self.source, exc)) from None

    @functools.cached_property
    def _lines(self) -> tuple[int | None, list[int]]:
        try:
            root = yaml.compose(self._text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
        except (yaml.YAMLError, UnicodeDecodeError):
            return None, []
        if not isinstance(root, yaml.MappingNode):
            return None, []
        found = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
        defaults = found.get("defaults")
        stations = found.get("stations")
        entries = stations.value if isinstance(stations, yaml.SequenceNode) else []
        return (defaults.start_mark.line + 1 if defaults else None), [entry.start_mark.line + 1 for entry in entries]

    def defaults(self) -> str:
        line = self._lines[0]
        return f"{self.source}:{line}" if line else self.source

    def station(self, index: int) -> str:
        lines = self._lines[1]
        return f"{self.source}:{lines[index]}" if index < len(lines) else f"{self.source} (stations[{index}])"


def _cached_document(data: bytes, source: str) -> Any:
    """The parsed document, from the parse cache when this exact file was parsed before."""
    digest = hashlib.sha256(data).hexdigest()
    cache_dir = settings().cache_dir.expanduser().absolute()
    cached = cache_dir / f"registry-v{CACHE_VERSION}-ryaml{_RYAML_VERSION}-{digest[:32]}.json"
    try:
        return json.loads(cached.read_text("utf-8"))
    except (OSError, ValueError):
        pass
    document = parse_yaml(_text(data, source), source)
    try:  # best effort: a read-only disk only costs the next process a parse
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".registry-", dir=cache_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(document, ensure_ascii=False))  # json.dumps has the C encoder, json.dump not
        os.replace(tmp, cached)
    except (OSError, TypeError, ValueError):
        pass
    return document


def _text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")  # Windows editors (Notepad) start the file with a BOM
    except UnicodeDecodeError:
        raise RegistryError(f"{source}: not UTF-8 text") from None


# -- validating ---------------------------------------------------------------------------------


def _did_you_mean(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(sorted(known))})"


def _refuse_odd_keys(mapping: dict[str, Any], known: set[str], fail) -> None:
    for key in mapping:
        name = str(key)
        if name.lower() in SECRET_FIELDS:
            # Never echo the value: it is probably the secret itself.
            raise fail(
                name,
                "secrets are not kept in the registry; put the value in an environment variable and name it "
                f"with '{name}_env'",
            )
        if name not in known:
            raise fail(name, "unknown field" + _did_you_mean(name, known))


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    """(field, reason) of a validation error, without the input value."""
    error = exc.errors(include_input=False, include_url=False)[0]
    location = [str(part) for part in error["loc"]]
    field_name = location[0] if location else "(entry)"
    if len(location) > 1:
        field_name += f"[{location[1]}]"
    reason = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        reason = "is missing"
    elif error["type"] in ("int_type", "int_parsing", "int_from_float"):
        reason = "must be a whole number"
    elif error["type"] in ("greater_than_equal", "less_than_equal"):
        reason = "must be a whole number " + reason.removeprefix("Input should be ").replace(
            "greater than or equal to", "of at least"
        ).replace("less than or equal to", "of at most")
    return field_name, reason


TOP_LEVEL_KEYS = {"stations", "defaults", "regions", "region_photo_types"}
STATION_KEYS = set(StationEntry.model_fields)
DEFAULT_KEYS = set(StationSettings.model_fields)


def _stations(document: Any, lines: EntryLines) -> tuple[Station, ...]:
    source = lines.source
    if isinstance(document, dict):
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                raise RegistryError(
                    f"{source}: unknown top-level key '{key}'" + _did_you_mean(str(key), TOP_LEVEL_KEYS)
                )
    if not isinstance(document, dict) or not isinstance(document.get("stations"), list):
        raise RegistryError(f"{source}: expected a mapping with a 'stations' list")
    if not isinstance(document.get("defaults") or {}, dict):
        raise RegistryError(f"{lines.defaults()}: 'defaults' must be a mapping")
    defaults = dict(document.get("defaults") or {})

    def defaults_fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"{lines.defaults()}: defaults: field '{field_name}': {problem}")

    _refuse_odd_keys(defaults, DEFAULT_KEYS, defaults_fail)
    try:
        StationSettings.model_validate(defaults)
    except ValidationError as exc:
        raise defaults_fail(*_first_problem(exc)) from None
    stations: list[Station] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(document["stations"]):
        station = _station(entry, index, defaults, lines)
        if station.id in seen:
            first = lines.station(seen[station.id]).removeprefix(f"{source}:")
            raise RegistryError(
                f"{station.source}: station {station.id}: field 'id': duplicate station id "
                f"(first defined at line {first})"
            )
        seen[station.id] = index
        stations.append(station)
    return tuple(stations)


def _station(entry: Any, index: int, defaults: dict[str, Any], lines: EntryLines) -> Station:
    if not isinstance(entry, dict):
        raise RegistryError(f"{lines.station(index)}: stations[{index}] must be a mapping")
    raw_id = entry.get("id")
    label = f"station {raw_id}" if isinstance(raw_id, str | int) else f"stations[{index}]"

    def fail(field_name: str, problem: str) -> RegistryError:
        return RegistryError(f"{lines.station(index)}: {label}: field '{field_name}': {problem}")

    _refuse_odd_keys(entry, STATION_KEYS, fail)
    try:
        model = StationEntry.model_validate({**defaults, **entry})
    except ValidationError as exc:
        raise fail(*_first_problem(exc)) from None
    return Station(
        id=model.id,
        name=model.name or model.id,
        base_url=model.base_url,
        region_company_code=model.region_company_code,
        account_env=model.account_env,
        password_env=model.password_env,
        max_connections=model.max_connections,
        media_hosts=tuple(model.media_hosts),
        dialect=model.dialect,
        accepted_pickup_status=tuple(model.accepted_pickup_status),
        poll_interval_s=model.poll_interval_s,
        station_code=model.station_code,
        signature_params=tuple(model.signature_params),
        max_pages=model.max_pages,
        max_records=model.max_records,
        records_deadline_s=model.records_deadline_s,
        required_photo_types=tuple(model.required_photo_types) if "required_photo_types" in entry else None,
        entry_lines=lines,
        index=index,
    )


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the registry from `path`, else PV_STATIONS_FILE, else conf/stations.yaml.

    Parsed once per version of the file and process: sensors and every step look stations up often.
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
        data = file.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry: {exc.strerror}") from None
    document = _cached_document(data, str(file))
    stations = _stations(document, EntryLines(data, str(file)))
    default_types = (document.get("defaults") or {}).get("required_photo_types")  # validated with the defaults
    return Registry(
        file,
        stations,
        _region_names(document, str(file)),
        default_photo_types=tuple(check_photo_types(default_types, "defaults")) if default_types is not None else None,
        region_photo_types=_checked(region_photo_types, document.get("region_photo_types"), str(file)),
    )


def _checked(parse, value: Any, source: str) -> Any:
    try:
        return parse(value, source)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None


def _region_names(document: dict[str, Any], source: str) -> dict[str, str]:
    """`regions: {RC-320100: 南京区域公司}`: names by code, both non-empty text."""
    regions = document.get("regions") or {}
    if not isinstance(regions, dict):
        raise RegistryError(f"{source}: 'regions' must map region company codes to names (RC-320100: 南京区域公司)")
    names = {}
    for code, name in regions.items():
        if not isinstance(code, str) or not code.strip() or not isinstance(name, str) or not name.strip():
            raise RegistryError(
                f"{source}: regions: entry {code!r}: a region company code and its name, both text "
                "(quote a code YAML reads as a number)"
            )
        names[code.strip()] = name.strip()
    return names

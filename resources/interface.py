"""The declarative description of a station cloud interface (a "dialect"), as typed models.

The station client and the simulator read every path, field, envelope rule, paging rule and
authentication scheme from here; `conf/dialects/default.yaml` declares station-api.md v1.
Loading validates the file with pydantic (unknown keys are errors, with a "did you mean"), and
an error names the file, the line and the key of anything wrong. `conf/schema/dialect.schema.json`
is generated from these models (`python -m resources.schemas`).

Field paths, one syntax for the whole file: dotted names into the JSON document
(`owner.idNumber`), a number indexes a list (`attachments.0.url`, also `attachments[0].url`),
`[*]` takes every item of a list (`attachments[*].url`), and `$` is the document itself.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import importlib
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from resources.settings import env_name

# Dialect files: $PV_DIALECTS_DIR, else conf/dialects in the working directory, else the project's own.
PROJECT_DIALECTS = Path(__file__).resolve().parents[1] / "conf" / "dialects"
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "conf" / "schema"


def dialect_dirs() -> list[Path]:
    # Read at call time, never at import; the variable alone, not all settings: the registry asks once per station.
    configured = os.environ.get(env_name("dialects_dir"))
    return [*([Path(configured)] if configured else []), Path("conf/dialects").absolute(), PROJECT_DIALECTS]


class InterfaceError(ValueError):
    """A dialect file that cannot be used; the message names the file, the line and the key."""


TOKEN_SOURCES = ("json", "header", "cookie")
# What a photo shows, whatever the vendor calls it: a dialect maps its photo fields or attachment type values here.
PHOTO_TYPES = ("roof_panorama", "modules", "inverter", "meter_box", "grid_connection", "nameplate", "other")
PhotoType = Literal["roof_panorama", "modules", "inverter", "meter_box", "grid_connection", "nameplate", "other"]
EPOCH_MS = "epoch_ms"
EPOCH_S = "epoch_s"
ROOT_PATH = "$"

# ----------------------------------------------------------------------------- field paths

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]|\.")


@cache
def parse_path(path: str) -> tuple[str, ...]:
    """A field path as its segments: names, list indexes (digits) and `*` (every item)."""
    if path == ROOT_PATH:
        return ()
    parts: list[str] = []
    position = 0
    for match in _PATH_PART.finditer(path):
        if match.start() != position:
            raise ValueError(f"field path {path!r} cannot be read at position {position}")
        position = match.end()
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(match.group(2))
    if position != len(path) or not parts or path.startswith(".") or path.endswith(".") or ".." in path:
        raise ValueError(f"{path!r} is not a field path (names joined by '.', [N] or [*] for lists, '$' for all)")
    return tuple(parts)


def _check_field_path(path: str) -> str:
    parse_path(path)
    return path


def _check_api_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"must start with '/', got {path!r}")
    return path


def _codes(value: Any) -> Any:
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("must be a list of codes")
    return frozenset(str(v).strip() for v in value)


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _text(value: Any) -> Any:
    """Scalars compared as text: a YAML 2 and "2" are the same station value."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


FieldPath = Annotated[str, Field(min_length=1), AfterValidator(_check_field_path)]
ApiPath = Annotated[str, Field(min_length=1), AfterValidator(_check_api_path)]
Codes = Annotated[frozenset[str], BeforeValidator(_codes)]
Method = Annotated[Literal["GET", "POST"], BeforeValidator(_upper)]
NonEmpty = Annotated[str, Field(min_length=1)]
TextValue = Annotated[str, BeforeValidator(_text)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------- envelope


class Envelope(_Section):
    """How the vendor says success and failure. Four styles:

    - `codes`: a business code at `code`, success when it is in `success` (v1);
    - `flag`: a boolean at `success_flag` says success, `code` explains failures (FusionSolar);
    - `field`: success when `success_field` equals `success_value` (`status: OK`);
    - `none`: plain REST, no envelope: 2xx success, 401/403 token trouble, 429 rate limited,
      5xx transient; the error text from `message`, an error code (if any) from `code`.

    In every style the code lists below name token-expired, rate-limited, transient and
    bad-credential answers, compared as text (`0` and `"0"` are the same).
    """

    style: Literal["codes", "flag", "field", "none"] | None = Field(
        None, description="codes | flag | field | none; inferred from the keys given when left out"
    )
    code: FieldPath | None = Field(None, description="path of the business code")
    message: FieldPath | None = Field(None, description="path of the message / error text")
    data: FieldPath = Field(ROOT_PATH, description="path of the payload; '$' is the whole answer")
    success_flag: FieldPath | None = Field(None, description="style flag: a boolean field that says success")
    success_field: FieldPath | None = Field(None, description="style field: the field compared with success_value")
    success_value: TextValue | None = None
    success: Codes = frozenset()
    token_expired: Codes = frozenset()
    rate_limited: Codes = frozenset()
    transient: Codes = frozenset()
    bad_credentials: Codes = frozenset()

    @model_validator(mode="after")
    def _style(self) -> Envelope:
        style = self.style or (
            "flag" if self.success_flag else "field" if self.success_field else "codes" if self.code else "none"
        )
        object.__setattr__(self, "style", style)
        if style == "codes" and (not self.code or not self.success):
            raise ValueError("style 'codes' needs 'code' and the 'success' codes")
        if style == "flag" and not self.success_flag:
            raise ValueError("style 'flag' needs 'success_flag'")
        if style == "field" and (not self.success_field or self.success_value is None):
            raise ValueError("style 'field' needs 'success_field' and 'success_value'")
        return self


# ----------------------------------------------------------------------------- authentication

PasswordTransform = Literal["none", "md5_lower", "md5_upper", "sha256_lower", "sha256_upper", "base64"]


class Login(_Section):
    """Scheme `login`: a login call whose answer carries a token for the later calls."""

    method: Method = "POST"
    path: ApiPath
    body: dict[str, Any] = Field(
        default_factory=dict, description="{account} and {password} in values are filled from the registry's env vars"
    )
    body_format: Literal["json", "form"] = "json"
    password_transform: PasswordTransform = Field(
        "none", description="how {password} is written: as is, md5/sha256 hex (lower or upper case), base64"
    )
    token_from: Literal["json", "header", "cookie"] = "json"  # noqa: S105 - a location, not a secret
    token: NonEmpty = Field(description="the token's JSON path, or the header / cookie name")
    expires_in: FieldPath | None = Field(None, description="JSON path of the token lifetime in seconds")
    send_header: NonEmpty | None = None
    send_prefix: str = ""
    send_cookie: NonEmpty | None = None
    api_base: FieldPath | None = Field(None, description="JSON path of the base URL all later calls use")

    @model_validator(mode="before")
    @classmethod
    def _default_header(cls, data: Any) -> Any:
        if isinstance(data, dict) and "send_header" not in data and not data.get("send_cookie"):
            data = {**data, "send_header": "Authorization"}
        return data

    @model_validator(mode="after")
    def _goes_out(self) -> Login:
        if not self.send_header and not self.send_cookie:
            raise ValueError("'send_header' or 'send_cookie' must say how the token goes out")
        if self.token_from == "json":  # noqa: S105
            _check_field_path(self.token)
        return self


class ApiKey(_Section):
    """Scheme `api_key`: no login; the key (the registry's password variable) on every call."""

    send_header: NonEmpty | None = None
    send_prefix: str = ""
    send_query: NonEmpty | None = Field(None, description="a query parameter that carries the key")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKey:
        if bool(self.send_header) == bool(self.send_query):
            raise ValueError("exactly one of 'send_header' or 'send_query' says where the key goes")
        return self


class OAuth2(_Section):
    """Scheme `oauth2`: client credentials (RFC 6749 4.4). The registry's account variable holds
    the client id, its password variable the client secret."""

    token_path: ApiPath
    scope: str | None = None
    client_auth: Literal["body", "basic"] = Field("body", description="client id/secret in the form body or Basic")
    send_header: NonEmpty = "Authorization"
    send_prefix: str = "Bearer "


class Signing(_Section):
    """Scheme `signing`: every call signed with an HMAC over a declared canonical string
    (Solis-style). The registry's account variable holds the key id, its password variable the secret."""

    algorithm: Literal["hmac-sha1", "hmac-sha256"]
    canonical: str = Field(
        "{method}\n{content_md5}\n{content_type}\n{date}\n{path}",
        description="placeholders: method, content_md5, content_type, date, path, query, key_id",
    )
    signature_encoding: Literal["base64", "hex"] = "base64"
    header: NonEmpty = "Authorization"
    value: str = Field("API {key_id}:{signature}", description="the header value: {key_id} and {signature}")
    date_header: NonEmpty = "Date"
    content_md5_header: NonEmpty | None = "Content-MD5"


class StationInfoCall(_Section):
    method: Method = "GET"
    path: ApiPath
    params: dict[str, Any] = Field(default_factory=dict)
    station_code: FieldPath
    station_name: FieldPath | None = None
    region_company_code: FieldPath | None = None
    # the regional company's name as the station gives it; the registry's region_names win over it
    region_company_name: FieldPath | None = None


# ----------------------------------------------------------------------------- records

StopRule = Literal["empty_page", "short_page", "total_reached", "no_cursor"]
PagingStyle = Literal["page", "offset", "cursor", "next_link", "none"]


class RecordsCall(_Section):
    """The records call and its paging. Styles:

    - `page`: `page_param` counts pages from `first_page` (v1);
    - `offset`: `offset_param` counts records from 0;
    - `cursor`: the next cursor comes at `cursor_path` and goes out as `cursor_param`;
    - `next_link`: the next page's URL comes at `next_link_path`, or in a `Link: <...>; rel="next"` header;
    - `none`: one call answers everything.

    `total` is a hint only: it may open a bounded window of pages fetched ahead, never a plan.
    """

    method: Method = "GET"
    path: ApiPath
    params_in: Literal["query", "body"] | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters sent with every page")
    paging: PagingStyle = "page"
    page_param: NonEmpty | None = None
    page_size_param: NonEmpty | None = None
    first_page: int = Field(1, ge=0)
    page_size: int = Field(100, ge=1, description="records asked for per page (the station's cap)")
    offset_param: NonEmpty | None = None
    cursor_param: NonEmpty | None = None
    cursor_path: FieldPath | None = None
    next_link_path: FieldPath | None = None
    items: FieldPath
    total: FieldPath | None = Field(None, description="path of the total, a hint only")
    stop_on: tuple[StopRule, ...] | None = Field(None, description="stop rules; by default the style's own")
    updated_since_param: NonEmpty | None = None
    time_format: NonEmpty = Field("%Y-%m-%d %H:%M:%S", description="a strftime pattern, epoch_s or epoch_ms")
    max_pages: int | None = Field(None, ge=1, description="pages per station run before it stops with an error")
    max_records: int | None = Field(None, ge=1, description="records per station run before it stops with an error")
    deadline_s: float | None = Field(None, gt=0, description="seconds the records of one station may take")

    @model_validator(mode="after")
    def _paging(self) -> RecordsCall:
        if self.params_in is None:
            object.__setattr__(self, "params_in", "query" if self.method == "GET" else "body")
        needs = {
            "page": ("page_param",),
            "offset": ("offset_param",),
            "cursor": ("cursor_param", "cursor_path"),
            "next_link": (),
            "none": (),
        }[self.paging]
        missing = [key for key in needs if getattr(self, key) is None]
        if missing:
            raise ValueError(f"paging '{self.paging}' needs {' and '.join(repr(k) for k in missing)}")
        if self.stop_on is None:
            default: tuple[StopRule, ...] = {
                "page": ("empty_page",),
                "offset": ("empty_page",),
                "cursor": ("no_cursor", "empty_page"),
                "next_link": ("empty_page",),
                "none": (),
            }[self.paging]
            object.__setattr__(self, "stop_on", default)
        return self


class FieldMap(_Section):
    """pv-media's record <- the station's fields, each a field path."""

    record_id: FieldPath
    id_card_no: FieldPath
    pickup_status: FieldPath
    updated_at: FieldPath | None = None
    region_company_code: FieldPath | None = Field(None, description="the region code of each record, if it has one")
    photo_urls: Annotated[tuple[FieldPath, ...], BeforeValidator(_names)] = ()
    video_urls: Annotated[tuple[FieldPath, ...], BeforeValidator(_names)] = ()
    url_key: NonEmpty = Field("url", description="the URL key of attachment objects")
    type_key: NonEmpty | None = Field("type", description="the key that says photo or video in attachment objects")
    video_types: Annotated[frozenset[str], BeforeValidator(_codes)] = Field(
        frozenset({"video", "movie", "mp4", "2"}), description="type values that mean video (others: photo)"
    )
    keep: dict[str, FieldPath] = Field(default_factory=dict, description="extra columns: name -> field path")
    photo_types: dict[FieldPath, PhotoType] = Field(
        default_factory=dict, description="photo field (one of photo_urls) -> what its photos show"
    )
    photo_type_values: dict[TextValue, PhotoType] = Field(
        default_factory=dict, description="type value of attachment objects (at type_key) -> what the photo shows"
    )

    @model_validator(mode="after")
    def _some_media(self) -> FieldMap:
        if not self.photo_urls and not self.video_urls:
            raise ValueError("'photo_urls' or 'video_urls' must name at least one field")
        unknown = sorted(set(self.photo_types) - set(self.photo_urls))
        if unknown:
            raise ValueError(f"photo_types names {', '.join(map(repr, unknown))}, which is not one of photo_urls")
        if self.photo_type_values and not self.type_key:
            raise ValueError("photo_type_values needs type_key (the key of attachment objects that holds the value)")
        clash = sorted({v.lower() for v in self.photo_type_values} & {v.lower() for v in self.video_types})
        if clash:
            raise ValueError(f"photo_type_values {', '.join(map(repr, clash))} is also one of video_types")
        return self

    def photo_type_of(self, field: str, type_value: str | None = None) -> str:
        """What a photo shows: by its attachment type value (compared like video_types, without case), else by
        its field; `other` when neither says."""
        if type_value is not None:
            wanted = type_value.strip().lower()
            for value, photo_type in self.photo_type_values.items():
                if value.lower() == wanted:
                    return photo_type
        return self.photo_types.get(field, "other")


class StationInterface(_Section):
    """One dialect file. Exactly one of `login`, `api_key`, `oauth2`, `signing` says how calls
    are authorised; `hook` (a `module:function`, or a name in the entry point group
    `pv_media.dialect_hooks`) may sign or authorise each request on top, or alone."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="pv-media station dialect")

    name: NonEmpty
    description: str = ""
    source: str = Field("", exclude=True, description="where it was read from (set by the loader)")
    envelope: Envelope = Field(default_factory=Envelope)
    login: Login | None = None
    api_key: ApiKey | None = None
    oauth2: OAuth2 | None = None
    signing: Signing | None = None
    hook: NonEmpty | None = Field(None, description="module:function, or an entry point in pv_media.dialect_hooks")
    station_info: StationInfoCall | None = Field(
        None, description="optional: without it the region code comes from the registry or each record"
    )
    records: RecordsCall
    fields: FieldMap
    pickup_status: Annotated[
        dict[TextValue, Literal["picked_up", "not_picked_up", "partly_picked_up"]], Field(min_length=1)
    ]
    placeholders: Annotated[frozenset[str], BeforeValidator(_codes)] = frozenset()
    url_separators: tuple[str, ...] = (",", "，")
    timezone: NonEmpty = "Asia/Shanghai"

    @model_validator(mode="after")
    def _one_scheme(self) -> StationInterface:
        schemes = [name for name in ("login", "api_key", "oauth2", "signing") if getattr(self, name) is not None]
        if len(schemes) > 1:
            raise ValueError(f"only one authentication scheme, got {' and '.join(schemes)}")
        if not schemes and not self.hook:
            raise ValueError("an authentication scheme is missing: one of login, api_key, oauth2, signing or hook")
        return self

    @property
    def auth_scheme(self) -> str:
        for name in ("login", "api_key", "oauth2", "signing"):
            if getattr(self, name) is not None:
                return name
        return "hook"

    @property
    def region_from_records(self) -> bool:
        return self.fields.region_company_code is not None

    @property
    def region_from_station_info(self) -> bool:
        return self.station_info is not None and self.station_info.region_company_code is not None


# ----------------------------------------------------------------------------- reading documents


def dig(document: Any, path: str | None) -> Any:
    """The value at a field path of a decoded JSON document, or None. A `[*]` gives a list."""
    if not path:
        return None
    values = dig_all(document, path)
    if "*" in parse_path(path):
        return values
    return values[0] if values else None


def dig_all(document: Any, path: str) -> list[Any]:
    """Every value a field path reaches (one at most without `[*]`); missing parts give nothing."""
    nodes = [document]
    for part in parse_path(path):
        following: list[Any] = []
        for node in nodes:
            if part == "*":
                if isinstance(node, list):
                    following.extend(node)
            elif isinstance(node, dict):
                if part in node:
                    following.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                following.append(node[int(part)])
        nodes = following
    return [node for node in nodes if node is not None]


def top_field(path: str) -> str:
    """The record's top-level field a path starts at (for the columns kept as they are)."""
    parts = parse_path(path)
    return parts[0] if parts else path


def format_time(when: datetime, time_format: str) -> str:
    """A datetime as the station wants it: a strftime pattern, epoch seconds or epoch milliseconds."""
    if time_format == EPOCH_MS:
        return str(int(when.timestamp() * 1000))
    if time_format == EPOCH_S:
        return str(int(when.timestamp()))
    return when.strftime(time_format)


def parse_time(value: Any, time_format: str, tz: Any = UTC) -> datetime | None:
    """A station's time as an aware datetime (None when it does not read), the inverse of format_time."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if time_format in (EPOCH_MS, EPOCH_S):
            number = float(value)
            return datetime.fromtimestamp(number / 1000 if time_format == EPOCH_MS else number, tz)
        return datetime.strptime(str(value).strip(), time_format).replace(tzinfo=tz)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# ----------------------------------------------------------------------------- what a dialect declares, applied

HOOK_GROUP = "pv_media.dialect_hooks"


def transform_password(password: str, transform: str) -> str:
    """The password as the vendor wants it sent: as is, md5 / sha256 hex (lower or upper), base64."""
    raw = password.encode("utf-8")
    if transform == "none":
        return password
    if transform == "base64":
        return base64.b64encode(raw).decode("ascii")
    algorithm, case = transform.split("_")
    digest = hashlib.new(algorithm, raw).hexdigest()
    return digest.upper() if case == "upper" else digest


@cache
def load_hook(reference: str) -> Callable[..., Any]:
    """A dialect hook: `package.module:function`, or the name of an entry point in pv_media.dialect_hooks."""
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target
    matches = [ep for ep in entry_points(group=HOOK_GROUP) if ep.name == reference]
    if not matches:
        raise LookupError(f"no dialect hook {reference!r} (module:function, or an entry point in {HOOK_GROUP})")
    return matches[0].load()


# ----------------------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """Remembers the line of every key, so errors can point at it."""


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """(key path) -> 1-based line, for every mapping key and list item of a YAML document."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = (*path, str(index))
                lines[child] = value.start_mark.line + 1
                walk(value, child)

    if root is not None:
        walk(root, ())
    return lines


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that a location inside the document points into (for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return current if current is not None and isinstance(part, int) else None
        annotation = current.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return current


def _describe(error: dict[str, Any], model: type[BaseModel]) -> tuple[tuple[str, ...], str]:
    loc = tuple(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    loc = tuple(p for p in loc if p not in ("literal['GET', 'POST']",))
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, tuple(error["loc"][:-1]))
        known = [name for name in (parent.model_fields if parent else {}) if name != "source"]
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(known)})"
        return loc, f"is not a known key{hint}"
    if kind == "missing":
        return loc, "is missing"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    shown = f", got {value!r}" if isinstance(value, str | int | float | bool) and "got" not in message else ""
    return loc, f"{message}{shown}"


def _interface_error(exc: ValidationError, source: str, text: str | None) -> InterfaceError:
    lines = _key_lines(text) if text is not None else {}
    messages = []
    for error in exc.errors():
        loc, problem = _describe(error, StationInterface)
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        where = f"{source}:{line}" if line else source
        key = ".".join(loc) or "(top level)"
        messages.append(f"{where}: key '{key}' {problem}")
    return InterfaceError("; ".join(messages))


def parse_interface(document: Any, source: str, text: str | None = None) -> StationInterface:
    """Validate a decoded dialect document into a StationInterface."""
    if not isinstance(document, dict):
        raise InterfaceError(f"{source}: a dialect file must be a mapping")
    try:
        return StationInterface.model_validate({**document, "source": source})
    except ValidationError as exc:
        raise _interface_error(exc, source, text) from None


def yaml_error_text(source: str, exc: yaml.YAMLError) -> str:
    """'file:line: not valid YAML: what' for a PyYAML error (the line when PyYAML marks one)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        return f"{source}{line}: not valid YAML: {exc.problem or exc}"
    return f"{source}: not valid YAML: {exc}"


def load_interface_file(path: Path) -> StationInterface:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InterfaceError(f"{path}: cannot read dialect file: {exc.strerror}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InterfaceError(yaml_error_text(str(path), exc)) from None
    if isinstance(document, dict) and "source" in document:
        raise InterfaceError(f"{path}: key 'source' is not a known key (it is set by the loader)")
    return parse_interface(document, str(path), text)


def known_dialects() -> list[str]:
    return sorted({p.stem for d in dialect_dirs() if d.is_dir() for p in d.glob("*.yaml")})


def load_interface(name: str = "default") -> StationInterface:
    """A dialect by name, from the first dialect directory that has it."""
    for directory in dialect_dirs():
        path = directory / f"{name}.yaml"
        if path.is_file():
            return _load_cached(path.resolve(), path.stat().st_mtime_ns)
    known = known_dialects()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InterfaceError(f"unknown dialect {name!r}{hint} (known: {', '.join(known)})")


@cache
def _load_cached(path: Path, _mtime: int) -> StationInterface:
    return load_interface_file(path)


# ----------------------------------------------------------------------------- JSON Schema


def dialect_schema() -> dict[str, Any]:
    """The JSON Schema of a dialect file, for editors (conf/schema/dialect.schema.json)."""
    schema = StationInterface.model_json_schema(mode="validation")
    schema["properties"].pop("source", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

"""The station registry as typed models: what `defaults:` and each station may say, validated alike."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pv_model.dialect import STATION_PLACEHOLDERS, InterfaceError, load_interface, station_names
from pv_model.keys import InvalidKeySegment, safe_segment
from pv_model.photo_types import check_photo_types, required_for

if TYPE_CHECKING:
    from pv_model.registry.lines import EntryLines

# 已提货 as the v1 interface writes it, and the canonical status every dialect maps its own value to.
DEFAULT_ACCEPTED_PICKUP = ("已提货", "picked_up")
SECRET_FIELDS = {"password", "account", "token", "secret", "passwd", "pwd", "access_key", "secret_key", "api_key"}
# Environment variable names as people write them: capitals, digits, '_'. A value in lower case
# where a NAME belongs is most likely the secret itself, so it is refused without being shown.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    # Photo types every picked-up installation needs (pv_model.photo_types); unset: the group's six.
    required_photo_types: list[Text] | None = None
    # Values the station's dialect writes as {name} in its calls and URL templates (pv_model.dialect.placeholders):
    # plain identifiers, never secrets (those go in environment variables).
    dialect_params: dict[str, Text] = Field(default_factory=dict)

    @field_validator("dialect_params")
    @classmethod
    def _plain_params(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _PARAM_NAME.fullmatch(name) or name in STATION_PLACEHOLDERS or name == "item":
                raise ValueError(f"'{name}' is not a parameter name (letters, digits, '_'; not a built-in one)")
            if any(word in name.lower() for word in ("password", "secret", "token", "key", "pwd")):
                raise ValueError(f"'{name}' looks like a secret: secrets go in environment variables")
        return value

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
        missing = sorted(station_names(load_interface(self.dialect)) - STATION_PLACEHOLDERS - set(self.dialect_params))
        if missing:
            written = ", ".join("{" + name + "}" for name in missing)
            raise ValueError(
                f"dialect '{self.dialect}' writes {written} in its calls or URL templates: give the value under "
                f"dialect_params (e.g. dialect_params: {{{missing[0]}: ...}})"
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
    dialect_params: dict[str, str] = field(default_factory=dict, compare=False)
    # Where the entry is, for messages: its line is looked up only when a message needs it.
    entry_lines: EntryLines | None = field(default=None, compare=False, repr=False)
    index: int = field(default=0, compare=False)

    @property
    def placeholders(self) -> dict[str, str]:
        """What the station's dialect may write as {name}: the built-in values, then its dialect_params."""
        built_in = {"station_id": self.id, "station_code": self.expected_station_code}
        return {**built_in, "region_company_code": self.region_company_code or "", **self.dialect_params}

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
        """The station's own setting, else its region's, else the group's (pv_model.photo_types)."""
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

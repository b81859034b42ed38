"""One dialect file as a typed model: the station client and the simulator read everything from it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from pv_model.dialect.auth import ApiKey, Login, OAuth2, Signing
from pv_model.dialect.base import NonEmpty, TextValue, _codes, _Section
from pv_model.dialect.calls import RecordsCall, StationInfoCall
from pv_model.dialect.envelope import Envelope
from pv_model.dialect.fields import FieldMap
from pv_model.dialect.hooks import check_hook_reference
from pv_model.dialect.planner import PlannerFields

# `undetermined`: the station itself says it does not know (未知, UNKNOWN) - neither collected nor warned about,
# unlike a value the dialect does not map at all, which the known_pickup_statuses check reports every run.
PickupStatus = Literal["picked_up", "not_picked_up", "partly_picked_up", "undetermined"]


def _status_keys(value: Any) -> Any:
    """Keys as the station's values are compared: stripped text. Two keys that become one are refused."""
    if not isinstance(value, dict):
        return value
    keys: dict[str, Any] = {}
    for key, status in value.items():
        text = (str(key).lower() if isinstance(key, bool) else str(key)).strip()
        if text in keys:
            raise ValueError(f"keys {text!r} are written twice (compared without surrounding spaces)")
        keys[text] = status
    return keys


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
    hook: Annotated[str, Field(min_length=1), AfterValidator(check_hook_reference)] | None = Field(
        None, description="an entry point in pv_media.dialect_hooks, or an allowed module:function"
    )
    station_info: StationInfoCall | None = Field(
        None, description="optional: without it the region code comes from the registry or each record"
    )
    records: RecordsCall
    fields: FieldMap
    planner: PlannerFields = Field(default_factory=PlannerFields, description="a planner's typed fields")
    pickup_status: Annotated[dict[TextValue, PickupStatus], BeforeValidator(_status_keys), Field(min_length=1)] = Field(
        description="station value (compared stripped, as text) -> canonical status"
    )
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

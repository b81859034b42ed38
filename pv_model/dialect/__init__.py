"""The declarative description of a station cloud interface (a "dialect"), as typed models.

The station client and the simulator read every path, field, envelope rule, paging rule and authentication
scheme from here; `conf/dialects/default.yaml` declares station-api.md v1. Loading validates the file with
pydantic (unknown keys are errors, with a "did you mean"), and an error names the file, the line and the key
of anything wrong. `conf/schema/dialect.schema.json` is generated from these models
(`python -m resources.schemas`).

Modules by role: `paths` (the field path language), `times`, `base` (value types), `envelope`, `auth`,
`calls` (station info, records and paging), `fields`, `model` (the whole file), `hooks`, `loading`, `schema`.
"""

from pv_model.dialect.auth import TOKEN_SOURCES, ApiKey, Login, OAuth2, Signing, transform_password
from pv_model.dialect.calls import RecordsCall, StationInfoCall
from pv_model.dialect.envelope import Envelope
from pv_model.dialect.fields import PHOTO_TYPES, FieldMap
from pv_model.dialect.hooks import HOOK_GROUP, load_hook
from pv_model.dialect.loading import (
    DIALECTS_DIR_ENV,
    PROJECT_DIALECTS,
    InterfaceError,
    dialect_dirs,
    known_dialects,
    load_interface,
    load_interface_file,
    parse_interface,
)
from pv_model.dialect.model import StationInterface
from pv_model.dialect.paths import ROOT_PATH, dig, dig_all, list_paths, parse_path, top_field
from pv_model.dialect.placeholders import BUILT_IN as STATION_PLACEHOLDERS
from pv_model.dialect.placeholders import fill, fill_url_template, station_names
from pv_model.dialect.planner import PLANNER_COLUMNS, PlannerFields, read_planner
from pv_model.dialect.schema import SCHEMA_DIR, dialect_schema, schema_text
from pv_model.dialect.times import EPOCH_MS, EPOCH_S, format_time, parse_time

__all__ = [
    "DIALECTS_DIR_ENV",
    "EPOCH_MS",
    "EPOCH_S",
    "HOOK_GROUP",
    "PHOTO_TYPES",
    "PLANNER_COLUMNS",
    "PROJECT_DIALECTS",
    "ROOT_PATH",
    "SCHEMA_DIR",
    "STATION_PLACEHOLDERS",
    "TOKEN_SOURCES",
    "ApiKey",
    "Envelope",
    "FieldMap",
    "InterfaceError",
    "Login",
    "OAuth2",
    "PlannerFields",
    "RecordsCall",
    "Signing",
    "StationInfoCall",
    "StationInterface",
    "dialect_dirs",
    "dialect_schema",
    "dig",
    "dig_all",
    "fill",
    "fill_url_template",
    "format_time",
    "known_dialects",
    "list_paths",
    "load_hook",
    "load_interface",
    "load_interface_file",
    "parse_interface",
    "parse_path",
    "parse_time",
    "read_planner",
    "schema_text",
    "station_names",
    "top_field",
    "transform_password",
]

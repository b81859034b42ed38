"""A parsed registry document checked into a Registry: unknown keys refused with a "did you mean", every
error naming the file, the line, the station and the field - never the value, which may be a secret."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pv_model.photo_types import check_photo_types, region_photo_types
from pv_model.registry.lines import EntryLines
from pv_model.registry.models import SECRET_FIELDS, Registry, RegistryError, Station, StationEntry, StationSettings


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
        dialect_params=dict(model.dialect_params),
        required_photo_types=tuple(model.required_photo_types) if "required_photo_types" in entry else None,
        entry_lines=lines,
        index=index,
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


def build_registry(document: Any, data: str | bytes, file: Path) -> Registry:
    """The Registry of a parsed document; `data` is the file's text, parsed again for line numbers only when a
    message needs one."""
    stations = _stations(document, EntryLines(data, str(file)))
    default_types = (document.get("defaults") or {}).get("required_photo_types")  # validated with the defaults
    return Registry(
        file,
        stations,
        _region_names(document, str(file)),
        default_photo_types=tuple(check_photo_types(default_types, "defaults")) if default_types is not None else None,
        region_photo_types=_checked(region_photo_types, document.get("region_photo_types"), str(file)),
    )

"""Station records -> pv-media's record table, pure: the dialect's field map applied.

Every field of the map is a field path into the record (see pv_model.dialect). URL fields
come in every shape stations use: a comma string (both commas), a JSON array of strings, an
array of objects with a URL key (and maybe a type key saying photo or video), a string that
holds a JSON array, or null / empty / a placeholder. Each URL keeps the field it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pv_assets.collection.manifest_rows import none_for_missing
from pv_assets.collection.typed_columns import RECORD_TYPES, typed
from pv_model.dialect import (
    PLANNER_COLUMNS,
    FieldMap,
    StationInterface,
    dig,
    fill_url_template,
    parse_time,
    read_planner,
    top_field,
)

if TYPE_CHECKING:
    import pandas as pd

RECORD_COLUMNS = [
    "station_id",
    "region_company_code",
    "region_company_name",
    "record_id",
    "id_card_no",
    "pickup_status_raw",
    "pickup_status",
    "updated_at",  # a timestamp (UTC) read with the dialect's time_format and zone
    "updated_at_raw",  # as the station wrote it
    "photo_urls",
    "video_urls",
    "media_items",
    "text_problem",
    *PLANNER_COLUMNS,
    "field_warnings",  # a value that did not read, per field: the row keeps going with it empty
]
TEXT_PROBLEM = "text_problem"
# Lone surrogates are valid JSON ("\\ud83d") but no UTF-8 encoder takes them: one in one field failed
# every Parquet write of the station. They are the only characters of a str that UTF-8 cannot carry.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
MediaKind = Literal["photo", "video"]
MAX_URL_DEPTH = 4  # a list of lists of objects is as deep as a station's URL field gets


@dataclass(frozen=True)
class RecordMediaUrl:
    """One media URL found in a record, the field path it came from, and whether it is a photo or a video."""

    kind: MediaKind
    field: str  # the dialect's field path it came from
    url: str
    photo_type: str | None = None  # what a photo shows (the dialect's photo_types / photo_type_values); None for videos


def as_text(value: Any) -> str | None:
    """A scalar as the text a station means: 2, 2.0 and "2" are all "2"; true is "true"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def clean_value(value: Any, placeholders: frozenset[str]) -> str | None:
    """Every field as text or None: stations mix numbers and strings ("12.6" and 12.6) and use "--"."""
    text = as_text(value)
    return None if text is None or text.strip() in placeholders else text


def _encodable(value: Any) -> tuple[Any, bool]:
    """`value` with every lone surrogate replaced by U+FFFD (in keys too), and whether any was."""
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value, False
        return _SURROGATE.sub(REPLACEMENT, value), True
    if isinstance(value, list):
        pairs = [_encodable(item) for item in value]
        return [item for item, _ in pairs], any(changed for _, changed in pairs)
    if isinstance(value, dict):
        out, changed = {}, False
        for key, item in value.items():
            clean_key, key_changed = _encodable(key)
            out[clean_key], item_changed = _encodable(item)
            changed = changed or key_changed or item_changed
        return out, changed
    return value, False


def encodable_record(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The record with text UTF-8 cannot carry replaced, and the top fields where it was (for the row's flag)."""
    cleaned, fields = {}, []
    for name, value in record.items():
        clean_name, name_changed = _encodable(name)
        cleaned[clean_name], value_changed = _encodable(value)
        if name_changed or value_changed:
            fields.append(clean_name)
    return cleaned, fields


def media_refs(
    record: dict[str, Any], interface: StationInterface, station_values: Mapping[str, str] | None = None
) -> list[RecordMediaUrl]:
    """Every media URL of a record, in field order, each with its kind and source field. The items of a field
    with a URL template are ids: their URL is the template filled with the item, the record and the station's
    values (pv_model.dialect.placeholders)."""
    fields = interface.fields
    refs: list[RecordMediaUrl] = []
    for kind, paths in (("photo", fields.photo_urls), ("video", fields.video_urls)):
        for path in paths:
            parent, star, key = path.rpartition("[*].")
            if star and "." not in key and "[" not in key:
                # `attachments[*].url`: read the objects themselves, so their type key still counts.
                found = _urls(dig(record, parent + "[*]"), kind, fields, interface, 0, url_key=key)
            else:
                found = _urls(dig(record, path), kind, fields, interface, 0, split=True)
            template = fields.url_templates.get(path)
            refs.extend(
                RecordMediaUrl(
                    item_kind,
                    path,
                    fill_url_template(template, url, record, station_values or {}) if template else url,
                    fields.photo_type_of(path, type_value) if item_kind == "photo" else None,
                )
                for item_kind, url, type_value in found
            )
    return refs


def _urls(
    value: Any,
    kind: MediaKind,
    fields: FieldMap,
    interface: StationInterface,
    depth: int,
    *,
    split: bool = False,
    url_key: str | None = None,
) -> list[tuple[MediaKind, str, str | None]]:
    """(kind, URL, the attachment's type value) of one field value; a string is a list of URLs only where
    it is the field itself (an item of a JSON array is one URL, commas and all)."""
    if value is None or depth > MAX_URL_DEPTH:
        return []
    if isinstance(value, list):
        return [found for item in value for found in _urls(item, kind, fields, interface, depth + 1, url_key=url_key)]
    if isinstance(value, dict):
        item_kind, declared = kind, None
        if fields.type_key and value.get(fields.type_key) is not None:
            declared = as_text(value.get(fields.type_key)).strip()
            item_kind = "video" if declared.lower() in fields.video_types else "photo"
        found = _urls(value.get(url_key or fields.url_key), item_kind, fields, interface, depth + 1)
        return [(k, url, declared if declared is not None else type_value) for k, url, type_value in found]
    text = as_text(value).strip()
    if not text or text in interface.placeholders:
        return []
    if text.startswith("[") and text.endswith("]"):
        try:
            return _urls(json.loads(text), kind, fields, interface, depth + 1)
        except ValueError:
            pass  # not JSON after all: split it like any other text
    if not split:
        return [(kind, text, None)]
    return [(kind, part, None) for part in _split(text, interface.url_separators, interface.placeholders)]


def _split(text: str, separators: Sequence[str], placeholders: frozenset[str]) -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    parts = text.split(separators[0]) if separators else [text]
    return [part.strip() for part in parts if part.strip() and part.strip() not in placeholders]


def records_frame(
    records: Iterable[dict[str, Any]],
    interface: StationInterface,
    station_id: str,
    region_company_code: str | None,
    region_company_name: str | None = None,
    station_values: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The records as a table (the infrastructure_records asset)."""
    import pandas as pd  # only the table needs pandas; the rows below do not

    rows = record_rows(records, interface, station_id, region_company_code, region_company_name, station_values)
    frame = pd.DataFrame(rows, columns=None if rows else RECORD_COLUMNS)
    return typed(none_for_missing(frame) if rows else frame, RECORD_TYPES)


def record_rows(
    records: Iterable[dict[str, Any]],
    interface: StationInterface,
    station_id: str,
    region_company_code: str | None,
    region_company_name: str | None = None,
    station_values: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per record: canonical columns first, then the station's other fields as text.
    region_company_name is the name the station gives for region_company_code (its station-info call); a
    record whose own region field names another region gets no name from it."""
    fields = interface.fields
    ph = interface.placeholders
    mapped_paths = [
        fields.record_id,
        fields.id_card_no,
        fields.pickup_status,
        fields.updated_at,
        fields.region_company_code,
        *interface.planner.paths(),
        *fields.photo_urls,
        *fields.video_urls,
    ]
    # The planner's raw fields stay as text columns too (the audit keeps what the station said).
    mapped = {top_field(path) for path in mapped_paths if path} - {top_field(p) for p in interface.planner.paths()}
    tz = ZoneInfo(interface.timezone)
    rows = []
    for record in records:
        record, replaced = encodable_record(record)
        raw_status = clean_value(dig(record, fields.pickup_status), ph)
        status_key = raw_status.strip() if raw_status is not None else None
        region = region_company_code
        if fields.region_company_code:
            region = clean_value(dig(record, fields.region_company_code), ph) or region_company_code
        refs = media_refs(record, interface, station_values)
        planner, warnings = read_planner(record, interface.planner, ph, tz)
        raw_time = clean_value(dig(record, fields.updated_at), ph) if fields.updated_at else None
        updated_at = _time(raw_time, interface, tz, warnings, fields.updated_at)
        row = {
            "station_id": station_id,
            "region_company_code": region,
            "region_company_name": region_company_name if region == region_company_code else None,
            "record_id": str(as_text(dig(record, fields.record_id))).strip(),
            "id_card_no": clean_value(dig(record, fields.id_card_no), ph),
            "pickup_status_raw": raw_status,
            "pickup_status": interface.pickup_status.get(status_key, "unknown") if status_key else "missing",
            "updated_at": updated_at,
            "updated_at_raw": raw_time,
            "photo_urls": ",".join(r.url for r in refs if r.kind == "photo") or None,
            "video_urls": ",".join(r.url for r in refs if r.kind == "video") or None,
            # The exact items with their source field: URLs may hold commas, and the audit names the field.
            "media_items": json.dumps([[r.kind, r.field, r.url, r.photo_type] for r in refs], ensure_ascii=False)
            if refs
            else None,
            TEXT_PROBLEM: f"text that UTF-8 cannot carry replaced with U+FFFD in: {', '.join(replaced)}"
            if replaced
            else None,
            **planner,
            "field_warnings": "; ".join(warnings) or None,
        }
        for name, path in fields.keep.items():
            row.setdefault(name, clean_value(dig(record, path), ph))
        for name, value in record.items():
            if name not in mapped and name not in row:
                row[name] = clean_value(value, ph)
        rows.append(row)
    return rows


def _time(raw: str | None, interface: StationInterface, tz: ZoneInfo, warnings: list[str], path: str | None):
    """The record's time in UTC, or None with a warning when the station's text does not read."""
    if raw is None:
        return None
    moment = parse_time(raw, interface.records.time_format, tz)
    if moment is None:
        warnings.append(f"{path}: {raw[:40]!r} does not read as {interface.records.time_format!r}; left empty")
        return None
    return moment.astimezone(UTC)

"""The gallery index: one row per media item of a picked-up record (plus one per picked-up record
without media), for the viewer. Rows are made here, pure; gallery_store.py reads and writes them.

Privacy: a row carries the opaque item id and the masked ID number, never the raw number; of the
record's other fields only those the gallery contract allows are kept (descriptive ones, values masked). `object_key`
is there for the audit only - the viewer never shows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pv_assets.collection.manifest_rows import is_accepted
from pv_assets.collection.record_table import RECORD_COLUMNS
from pv_assets.gallery.previews.plan import STORED_OUTCOMES, content_type_of, item_id, media_kind_of, record_item_id
from pv_model.dialect.planner import PLANNER_COLUMNS, TEXT_FIELDS
from pv_model.gallery_contract import INDEX_COLUMN_NAMES, personal_values, shown_fields
from pv_model.identity import InvalidIdCardNumber, mask_id, normalize_id_card
from pv_model.personal_data import mask_personal_text
from pv_model.photo_types import DEFAULT_REQUIRED_PHOTO_TYPES, join_types

# The planner's text columns (project_name, province...) are descriptive; its typed ones repeat raw fields.
_NOT_DESCRIPTIVE = set(RECORD_COLUMNS) - set(TEXT_FIELDS)


def record_fields(record: dict[str, Any]) -> str:
    """The record's descriptive fields a page may show, as a JSON object (the gallery contract's allow-list:
    pv_model.gallery_contract.shown_fields): values masked by what they look like (ID, phone, e-mail, bank
    numbers), and the record's personal values (its owner's name) masked wherever they appear - stations
    write the owner's name into a project name ("张三户用分布式光伏项目")."""
    descriptive = {name: value for name, value in record.items() if name not in _NOT_DESCRIPTIVE}
    return json.dumps(shown_fields(descriptive, personal_values(record)), ensure_ascii=False, sort_keys=True)


def _masked_id(raw: Any) -> str | None:
    """The masked number, from its normal form when it is one (lowercase x, full-width digits, spaces)."""
    try:
        return mask_id(normalize_id_card(raw))
    except InvalidIdCardNumber:
        return mask_id(str(raw or "").strip()) or None


def photo_types_by_url(record: dict[str, Any]) -> dict[str, str]:
    """URL -> what the photo shows, from the record's exact media items (pv_assets.collection.record_table)."""
    try:
        items = json.loads(record.get("media_items") or "[]")
    except ValueError:
        return {}
    return {str(item[2]): str(item[3]) for item in items if len(item) >= 4 and item[0] == "photo" and item[3]}


def planner_part(record: dict[str, Any]) -> dict[str, Any]:
    """The record's typed planner columns for the index: numbers and dates as they are, text masked like
    record_fields (a project name often holds the owner's name)."""
    part = {name: record.get(name) for name in PLANNER_COLUMNS if name not in TEXT_FIELDS}
    texts = {name: record[name] for name in TEXT_FIELDS if record.get(name) is not None}
    masked = shown_fields(texts, personal_values(record)) if texts else {}
    return {**part, **{name: masked.get(name) for name in TEXT_FIELDS}}


def _record_part(record: dict[str, Any], station_name: str | None, region_names: dict[str, str]) -> dict[str, Any]:
    return {
        **planner_part(record),
        "region_company_code": record.get("region_company_code"),
        "region_company_name": region_names.get(record.get("region_company_code") or "")
        or record.get("region_company_name"),
        "station_id": record["station_id"],
        "station_name": station_name,
        "record_id": record["record_id"],
        "pickup_status": record.get("pickup_status"),
        "pickup_status_raw": record.get("pickup_status_raw"),
        "id_card_masked": _masked_id(record.get("id_card_no")),
        "record_fields": record_fields(record),
    }


def gallery_rows(
    records: Iterable[dict[str, Any]],
    outcomes: Iterable[dict[str, Any]],
    previews: Iterable[dict[str, Any]],
    *,
    station_name: str | None,
    accepted_statuses: Sequence[str],
    previous_collected_at: dict[str, str] | None = None,
    region_names: dict[str, str] | None = None,
    required_photo_types: Sequence[str] = DEFAULT_REQUIRED_PHOTO_TYPES,
) -> list[dict[str, Any]]:
    """The station's piece of the gallery index.

    `outcomes`: uploaded_media rows; `previews`: media_previews rows; `previous_collected_at`:
    item id -> when the original was stored, from the station's previous piece (a skipped item
    was stored by an earlier run)."""
    previous_collected_at = previous_collected_at or {}
    required = join_types(required_photo_types)
    by_item = {row["item_id"]: row for row in previews}
    items_of: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        items_of.setdefault(str(outcome["record_id"]), []).append(outcome)
    rows: list[dict[str, Any]] = []
    for record in records:
        if not is_accepted(record.get("pickup_status_raw"), record.get("pickup_status"), accepted_statuses):
            continue
        base = {**_record_part(record, station_name, region_names or {}), "required_photo_types": required}
        types = photo_types_by_url(record)
        items = items_of.get(str(record["record_id"]), [])
        if not items:
            rows.append(
                {
                    **dict.fromkeys(INDEX_COLUMN_NAMES),
                    **base,
                    "item_id": record_item_id(record["station_id"], record["record_id"]),
                    "status": "none",
                }
            )
            continue
        for outcome in items:
            rows.append(
                {**dict.fromkeys(INDEX_COLUMN_NAMES), **base, **_item_part(outcome, by_item, previous_collected_at)}
            )
            if rows[-1]["media_kind"] == "photo":
                rows[-1]["photo_type"] = types.get(str(outcome.get("raw_url")), "other")
    return rows


def _item_part(outcome: dict[str, Any], by_item: dict[str, dict], previous_collected_at: dict[str, str]) -> dict:
    item = item_id(outcome["station_id"], outcome.get("url_hash"), outcome["record_id"], outcome.get("raw_url"))
    key = outcome.get("object_key")
    stored = outcome.get("outcome") in STORED_OUTCOMES and bool(key)
    preview = by_item.get(item, {})
    collected_at = _iso(outcome.get("finished_at")) if outcome.get("outcome") == "uploaded" else None
    return {
        "item_id": item,
        "media_kind": (media_kind_of(key) if key else None) or outcome.get("media_field"),
        "media_field": outcome.get("media_field"),
        "status": "stored" if stored else "failed",
        "failure_reason": None if stored else mask_personal_text(str(outcome.get("reason") or "unknown")),
        "object_key": key if stored else None,
        "content_type": (outcome.get("media_type") or content_type_of(key)) if stored else None,
        "thumb_key": preview.get("thumb_key"),
        "medium_key": preview.get("medium_key"),
        "poster_key": preview.get("poster_key"),
        "preview_problem": preview.get("preview_problem") if stored else None,
        "size": _whole(outcome.get("size")) if stored else None,
        "width": _whole(preview.get("width")),
        "height": _whole(preview.get("height")),
        "duration_s": float(preview["duration_s"]) if preview.get("duration_s") is not None else None,
        "collected_at": (collected_at or previous_collected_at.get(item)) if stored else None,
    }


def _iso(value: Any) -> str | None:
    """The index keeps UTC ISO 8601 text (the viewer's contract); the audit table has a timestamp."""
    return value.isoformat() if isinstance(value, datetime) else value


def _whole(value: Any) -> int | None:
    """Counts come back from Parquet as floats when a column has gaps: 278.0 -> 278."""
    return None if value is None else int(value)

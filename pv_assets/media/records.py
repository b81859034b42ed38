"""Station records -> pv-media's record table (step b), pure: the dialect's field map applied."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pv_assets.media.manifest import none_for_missing
from resources.interface import StationInterface

if TYPE_CHECKING:
    import pandas as pd

RECORD_COLUMNS = [
    "station_id",
    "region_company_code",
    "record_id",
    "id_card_no",
    "pickup_status_raw",
    "pickup_status",
    "updated_at",
    "photo_urls",
    "video_urls",
]


def clean_value(value: Any, placeholders: frozenset[str]) -> str | None:
    """Every field as text or None: stations mix numbers and strings ("12.6" and 12.6) and use "--"."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return None if text.strip() in placeholders else text


def _joined(record: dict[str, Any], names: Iterable[str], placeholders: frozenset[str]) -> str | None:
    parts = [clean_value(record.get(name), placeholders) for name in names]
    parts = [p for p in parts if p]
    return ",".join(parts) if parts else None


def records_frame(
    records: list[dict[str, Any]], interface: StationInterface, station_id: str, region_company_code: str | None
) -> pd.DataFrame:
    """The records as a table (the infrastructure_records asset)."""
    import pandas as pd  # only the table needs pandas; the rows below do not

    rows = record_rows(records, interface, station_id, region_company_code)
    frame = pd.DataFrame(rows, columns=None if rows else RECORD_COLUMNS)
    return none_for_missing(frame) if rows else frame


def record_rows(
    records: list[dict[str, Any]], interface: StationInterface, station_id: str, region_company_code: str | None
) -> list[dict[str, Any]]:
    """One row per record: canonical columns first, then the station's other fields as text."""
    fields = interface.fields
    ph = interface.placeholders
    mapped = {
        fields.record_id,
        fields.id_card_no,
        fields.pickup_status,
        fields.updated_at,
        *fields.photo_urls,
        *fields.video_urls,
    }
    rows = []
    for record in records:
        raw_status = clean_value(record.get(fields.pickup_status), ph)
        status_key = raw_status.strip() if raw_status is not None else None
        row = {
            "station_id": station_id,
            "region_company_code": region_company_code,
            "record_id": str(record.get(fields.record_id)).strip(),
            "id_card_no": clean_value(record.get(fields.id_card_no), ph),
            "pickup_status_raw": raw_status,
            "pickup_status": interface.pickup_status.get(status_key, "unknown") if status_key else "missing",
            "updated_at": clean_value(record.get(fields.updated_at), ph) if fields.updated_at else None,
            "photo_urls": _joined(record, fields.photo_urls, ph),
            "video_urls": _joined(record, fields.video_urls, ph),
        }
        for name, value in record.items():
            if name not in mapped and name not in row:
                row[name] = clean_value(value, ph)
        rows.append(row)
    return rows

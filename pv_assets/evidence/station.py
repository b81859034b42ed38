"""Per station: photo_facts' output (made in uploaded_media's step, from staging) and evidence_piece.

photo_facts is a table per station of what each stored photo's original says (pHash, EXIF camera facts),
computed once per object. evidence_piece puts each photo's facts beside its installation's coordinates and
dates (from infrastructure_records) and writes the station's piece for photo_evidence to merge.
"""

from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, Output, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.evidence.photo_facts import FACTS_COLUMNS, FactsTally
from pv_assets.gallery.previews.gallery_store import write_piece
from pv_assets.gallery.previews.plan import preview_keys
from pv_assets.io_manager import audit_key, parquet_to_frame
from pv_assets.metadata import frame_metadata
from pv_model.evidence_contract import EVIDENCE_PIECES_PREFIX, FACT_COLUMNS, arrow_schema
from resources.dagster_resources import ObjectStoreResource
from resources.object_store import ObjectStore

PHOTO_FACTS_DESCRIPTION = (
    "For every stored photo, once: its perceptual hash (pHash of the upright picture, robust to resizing, "
    "recompression, small crops and EXIF rotation) and the camera facts of the original's EXIF - capture time, GPS, "
    "make, model, software - read while the bytes are in staging (no read of the store; previews strip EXIF). A "
    "re-run keeps the facts of unchanged objects and decodes nothing. Bounded like the previews "
    "(PV_PREVIEW_MAX_PIXELS)."
)
SHOWN_COLUMNS = ["record_id", "item_id", "phash", "has_camera_data", "facts_outcome", "facts_problem"]
# Where a station's records keep the installation's place and dates: the world's field names, or columns a
# dialect names in `fields.keep` (docs/evidence.md).
INSTALLATION_FIELDS = {
    "installation_lat": ("latitude", "lat"),
    "installation_lon": ("longitude", "lon", "lng"),
    "install_date": ("installDate", "install_date"),
    "pickup_time": ("pickupTime", "pickup_time"),
}
FACTS_SCHEMA = arrow_schema(FACT_COLUMNS)


def previous_facts(store: ObjectStore, station_id: str) -> dict[str, dict[str, Any]]:
    """The station's last photo_facts rows by object key (a re-run keeps them); none on a first run."""
    try:
        frame = parquet_to_frame(store.get_bytes(audit_key("photo_facts", station_id, ".parquet")))
    except KeyError:
        return {}
    return {row["object_key"]: row for row in plain_rows(frame)}


def facts_output(rows: list[dict[str, Any]], tally: FactsTally) -> Output:
    frame = pd.DataFrame(rows, columns=FACTS_COLUMNS)
    measured = tally.computed + tally.read
    return Output(
        frame,
        output_name="photo_facts",
        metadata={
            "photos": len(rows),
            "computed_from_staging": tally.computed,
            "read_from_store": tally.read,
            "kept": tally.kept,
            "failed": tally.failed,
            "without_camera_data": int((frame["has_camera_data"] == False).sum()),  # noqa: E712 - None is not False
            "original_bytes_read": tally.original_bytes_read,
            "cpu_s_per_photo": round(tally.cpu_s / measured, 4) if measured else 0.0,
            **frame_metadata(frame, SHOWN_COLUMNS),
        },
    )


def _field(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((record[name] for name in names if record.get(name) not in (None, "")), None)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def piece_rows(facts: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each photo's facts beside its installation's place and dates (pure)."""
    by_record = {str(r["record_id"]): r for r in records}
    rows = []
    for fact in facts:
        record = by_record.get(str(fact["record_id"]), {})
        place = {column: _field(record, names) for column, names in INSTALLATION_FIELDS.items()}
        place["installation_lat"] = _number(place["installation_lat"])
        place["installation_lon"] = _number(place["installation_lon"])
        row = {name: fact.get(name) for name in FACTS_SCHEMA.names} | place
        row["region_code"] = fact["object_key"].split("/", 1)[0]
        keys = preview_keys(fact["object_key"], fact["item_id"], fact.get("media_kind") or "photo")
        row["thumb_key"] = keys.get("thumb_key") or keys.get("poster_key")  # a video shows its poster frame
        row["has_camera_data"] = None if fact.get("has_camera_data") is None else bool(fact["has_camera_data"])
        rows.append(row)
    return rows


@asset(
    **collection_asset(
        group_name="evidence",
        kinds={"minio", "parquet"},
        description=(
            "The station's photo facts beside each installation's coordinates, install and pickup dates (from the "
            f"records), written to {EVIDENCE_PIECES_PREFIX}{{station}}.parquet for photo_evidence to merge."
        ),
    )
)
def evidence_piece(
    context: AssetExecutionContext,
    photo_facts: pd.DataFrame,
    infrastructure_records: pd.DataFrame,
    object_store: ObjectStoreResource,
) -> MaterializeResult:
    station_id = context.partition_key
    rows = piece_rows(plain_rows(photo_facts), plain_rows(infrastructure_records))
    key, size = write_piece(
        object_store.open(), station_id, rows, key=f"{EVIDENCE_PIECES_PREFIX}{station_id}.parquet", schema=FACTS_SCHEMA
    )
    located = sum(row["installation_lat"] is not None for row in rows)
    return MaterializeResult(
        metadata={"photos": len(rows), "with_installation_place": located, "piece_key": key, "piece_bytes": size}
    )

"""Completeness of the required photo types as an asset check on the gallery index, so the Dagster UI
shows it beside the index: how many picked-up installations have every required type, and which types
and stations fall short (pv_model.completeness computes it, as the gallery's pages do)."""

import io

import pyarrow.parquet as pq
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from pv_model.completeness import station_completeness
from pv_model.gallery_contract import INDEX_KEY
from pv_model.photo_types import completeness
from resources.dagster_resources import ObjectStoreResource

COLUMNS = ["station_id", "record_id", "status", "media_kind", "photo_type", "required_photo_types"]
SHOWN_STATIONS = 20  # the least complete stations named in the check's metadata


def completeness_result(table) -> AssetCheckResult:
    """WARN while any picked-up installation lacks a required photo type; the figures either way."""
    if not set(COLUMNS) <= set(table.column_names):
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.WARN,
            metadata={"problem": "the index has no photo types: it was written before they existed; collect again"},
        )
    stations = station_completeness(table)
    picked = table.group_by("station_id").aggregate([("record_id", "count_distinct")])
    records = dict(zip(picked["station_id"].to_pylist(), picked["record_id_count_distinct"].to_pylist(), strict=True))
    complete = sum(s.complete for s in stations.values())
    total = sum(records.values())
    missing: dict[str, int] = {}
    for figures in stations.values():
        for name, count in figures.missing.items():
            missing[name] = missing.get(name, 0) + count
    shares = {sid: completeness(stations[sid].complete, records[sid]) for sid in stations if records.get(sid)}
    worst = sorted(shares, key=lambda sid: (shares[sid], sid))[:SHOWN_STATIONS]
    return AssetCheckResult(
        passed=complete == total,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "picked_up": total,
            "complete": complete,
            "completeness_pct": completeness(complete, total) or 0.0,
            "missing_by_type": MetadataValue.json(missing),
            "least_complete_stations": MetadataValue.json({sid: shares[sid] for sid in worst}),
        },
        description=f"{complete} of {total} picked-up installations have every required photo type",
    )


@asset_check(
    asset="gallery_index",
    name="required_photos_complete",
    description="Every picked-up installation has a stored photo of each required type (the registry's "
    "required_photo_types); WARN with the count missing per type and the least complete stations.",
)
def required_photos_complete(object_store: ObjectStoreResource) -> AssetCheckResult:
    store = object_store.open()
    table = pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY)))
    return completeness_result(table.select([c for c in COLUMNS if c in table.column_names]))

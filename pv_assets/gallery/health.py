"""Every registry station's health - last attempt, outcome, last success, reason - as one table in the store.

The viewer reads only the store: this asset turns the Dagster run history into
_pv-media/gallery/station-health.parquet (pv_model.gallery_contract.HEALTH_COLUMNS). A station whose
login fails never writes a gallery piece; here it is a row with its reason all the same.
"""

import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import AssetExecutionContext, MaterializeResult, asset

from pv_assets.gallery.health_history import update_history
from pv_assets.gallery.run_history import Attempts, station_attempts
from pv_model.failure_categories import category_of
from pv_model.gallery_contract import HEALTH_COLUMNS, HEALTH_HISTORY_KEY, HEALTH_KEY
from pv_model.personal_data import mask_personal_text
from resources.dagster_resources import ObjectStoreResource, StationApiResource

SCHEMA = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in HEALTH_COLUMNS])
MAX_REASON_CHARS = 500


def health_rows(stations: Iterable, attempts: Mapping[str, Attempts], region_names: Mapping[str, str]) -> list[dict]:
    """One row per registry station, in registry order; pure."""
    rows = []
    for station in stations:
        seen = attempts.get(station.id, Attempts())
        outcome = "never" if seen.last_attempt_at is None else ("succeeded" if seen.last_succeeded else "failed")
        reason = None
        if outcome == "failed":
            reason = mask_personal_text(seen.failure_reason or "run failed")[:MAX_REASON_CHARS]
        code = station.region_company_code
        rows.append(
            {
                "station_id": station.id,
                "station_name": station.name,
                "region_company_code": code,
                "region_company_name": region_names.get(code or ""),
                "last_attempt_at": seen.last_attempt_at,
                "last_outcome": outcome,
                "last_success_at": seen.last_success_at,
                "failure_reason": reason,
                "failure_category": category_of(reason) if reason else None,
                "run_id": seen.run_id,
            }
        )
    return rows


def health_bytes(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), sink, compression="zstd")
    return sink.getvalue()


@asset(
    group_name="gallery",
    code_version="1",
    owners=["team:pv-media"],
    kinds={"minio", "parquet"},
    description=(
        "Every station of the registry with its last collection attempt, outcome, last success and the reason of "
        "a failure (technical, and in a manager's category): _pv-media/gallery/station-health.parquet, read by the "
        "gallery's overview."
    ),
)
def station_health(
    context: AssetExecutionContext, station_api: StationApiResource, object_store: ObjectStoreResource
) -> MaterializeResult:
    registry = station_api.registry()
    attempts = station_attempts(context.instance, registry.ids())
    rows = health_rows(registry.stations, attempts, registry.region_names)
    store = object_store.open()
    store.put_bytes(HEALTH_KEY, health_bytes(rows), "application/vnd.apache.parquet")
    history_rows = update_history(store, rows, datetime.now(UTC).strftime("%Y-%m"))
    outcomes = [r["last_outcome"] for r in rows]
    return MaterializeResult(
        metadata={
            "health_key": HEALTH_KEY,
            "stations": len(rows),
            "failing": outcomes.count("failed"),
            "never_attempted": outcomes.count("never"),
            "history_key": HEALTH_HISTORY_KEY,
            "history_rows": history_rows,
        }
    )

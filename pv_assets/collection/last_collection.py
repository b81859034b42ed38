"""A station's last infrastructure_records materialization, as the daily pass and the records checks need it."""

from __future__ import annotations

import dataclasses
from typing import Any

from pv_assets.collection.fingerprint import REFRESH_FINGERPRINT


@dataclasses.dataclass(frozen=True)
class LastCollection:
    run_id: str
    fingerprint: str | None
    records: int | None = None  # how many records it fetched


def last_collection(instance: Any, station_id: str) -> LastCollection | None:
    """The run of the station's last infrastructure_records materialization, and the fingerprint it recorded."""
    from dagster import AssetKey, AssetRecordsFilter

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("infrastructure_records"), asset_partitions=[station_id]), limit=1
    ).records
    if not records:
        return None
    materialization = records[0].asset_materialization
    metadata = materialization.metadata if materialization else {}
    value, count = metadata.get(REFRESH_FINGERPRINT), metadata.get("records")
    return LastCollection(records[0].run_id, getattr(value, "value", None), getattr(count, "value", None))

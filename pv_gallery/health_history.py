"""Collection health over time (the station_health asset's history file), read when it changes, and its
monthly series: the share of the stations whose latest collection had succeeded, as each month ended."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pv_gallery.stored_file import StoredFile
from pv_model.gallery_contract import HEALTH_HISTORY_KEY
from resources.object_store import ObjectStore


class HealthHistory:
    """The history file as of its last change (one stat per request); None before a health run wrote it."""

    def __init__(self, store: ObjectStore, key: str = HEALTH_HISTORY_KEY):
        self._file = StoredFile(store, key, _readable_table)

    def table(self) -> pa.Table | None:
        return self._file.get()


def _readable_table(data: bytes) -> pa.Table | None:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, KeyError):
        return None  # unreadable: the dashboard shows no health series, the rest as always


def healthy_share(history: pa.Table | None, region: str | None, station: str | None) -> dict[str, float]:
    """month -> share of the (region's, station's) stations whose latest collection had succeeded; pure."""
    if history is None or history.num_rows == 0:
        return {}
    if region is not None:
        history = history.filter(pc.equal(history["region_company_code"], region))
    if station is not None:
        history = history.filter(pc.equal(history["station_id"], station))
    if history.num_rows == 0:
        return {}
    ok = pc.cast(pc.equal(history["last_outcome"], "succeeded"), pa.int64())
    counted = pa.table({"month": history["month"], "ok": ok})
    grouped = counted.group_by("month").aggregate([("ok", "sum"), ("ok", "count")]).to_pylist()
    return {row["month"]: round(row["ok_sum"] / row["ok_count"], 4) for row in grouped if row["ok_count"]}

"""Collection health over time: the health table's states kept month by month (the current month replaced
by each health run), so the dashboard can show how collection went, not only how it stands."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pv_model.gallery_contract import HEALTH_HISTORY_COLUMNS, HEALTH_HISTORY_KEY
from resources.object_store import ObjectStore

SCHEMA = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in HEALTH_HISTORY_COLUMNS])
KEEP_MONTHS = 36


def merged_history(previous: pa.Table | None, rows: list[dict], month: str, keep: int = KEEP_MONTHS) -> pa.Table:
    """`previous` with this month's rows replaced by `rows` (health_rows), and months beyond `keep` dropped; pure."""
    kept_keys = ("station_id", "region_company_code", "last_outcome")
    current = pa.Table.from_pylist([{"month": month, **{k: row[k] for k in kept_keys}} for row in rows], schema=SCHEMA)
    if previous is None:
        return current
    kept = previous.cast(SCHEMA).filter(pc.not_equal(previous["month"], month))
    merged = pa.concat_tables([kept, current])
    months = sorted(set(merged["month"].to_pylist()))[-keep:]
    merged = merged.filter(pc.is_in(merged["month"], value_set=pa.array(months, pa.string())))
    return merged.sort_by([("month", "ascending"), ("station_id", "ascending")])


def update_history(store: ObjectStore, rows: list[dict], month: str) -> int:
    """Write this month's states into the history file; the rows it now holds. An unreadable file starts over."""
    previous = None
    if store.stat(HEALTH_HISTORY_KEY) is not None:
        try:
            previous = pq.read_table(io.BytesIO(store.get_bytes(HEALTH_HISTORY_KEY)))
        except (pa.ArrowException, OSError, KeyError):
            previous = None
    merged = merged_history(previous, rows, month)
    sink = io.BytesIO()
    pq.write_table(merged, sink, compression="zstd")
    store.put_bytes(HEALTH_HISTORY_KEY, sink.getvalue(), "application/vnd.apache.parquet")
    return merged.num_rows

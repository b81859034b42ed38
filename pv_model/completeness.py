"""Which required photo types each installation has, vectorized over the whole index (once per version).

A record is complete when every type its station requires (the index's `required_photo_types`) has a
stored photo. Indexes written before photo types existed have neither column: nothing is required then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pv_model.photo_types import DEFAULT_REQUIRED_PHOTO_TYPES

TYPES = DEFAULT_REQUIRED_PHOTO_TYPES  # the types a registry may require ("other" never is)


@dataclass(frozen=True)
class Completeness:
    complete: int = 0  # records with every required type
    missing: dict[str, int] = field(default_factory=dict)  # type -> records without it


def per_record(t: pa.Table) -> pa.Table:
    """(station_id, record_id, needs_<type>, has_<type>) per record, as 0/1."""
    stored_photo = pc.fill_null(pc.and_(pc.equal(t["status"], "stored"), pc.equal(t["media_kind"], "photo")), False)
    columns = {"station_id": t["station_id"], "record_id": t["record_id"]}
    for name in TYPES:
        needs = pc.fill_null(pc.match_substring(t["required_photo_types"], name), False)
        has = pc.and_(stored_photo, pc.fill_null(pc.equal(t["photo_type"], name), False))
        columns[f"needs_{name}"] = pc.cast(needs, pa.int8())
        columns[f"has_{name}"] = pc.cast(has, pa.int8())
    aggregations = [(f"{kind}_{name}", "max") for name in TYPES for kind in ("needs", "has")]
    grouped = pa.table(columns).group_by(["station_id", "record_id"]).aggregate(aggregations)
    return grouped.rename_columns([c.removesuffix("_max") for c in grouped.column_names])


def missing_columns(records: pa.Table) -> dict[str, pa.ChunkedArray]:
    """type -> 0/1 per record: required and without a photo."""
    return {
        name: pc.cast(pc.and_(pc.equal(records[f"needs_{name}"], 1), pc.equal(records[f"has_{name}"], 0)), pa.int64())
        for name in TYPES
    }


def station_completeness(t: pa.Table) -> dict[str, Completeness]:
    if "photo_type" not in t.column_names or "required_photo_types" not in t.column_names:
        return {}
    records = per_record(t)
    missing = missing_columns(records)
    any_missing = pc.cast(pc.greater(_sum(missing), 0), pa.int64())
    ones = pa.nulls(records.num_rows, pa.int8()).fill_null(1)
    table = pa.table({"station_id": records["station_id"], "record": ones, "incomplete": any_missing, **missing})
    grouped = table.group_by("station_id").aggregate(
        [("incomplete", "sum"), ("record", "count"), *[(name, "sum") for name in TYPES]]
    )
    result = {}
    for row in grouped.to_pylist():
        result[row["station_id"]] = Completeness(
            complete=row["record_count"] - row["incomplete_sum"],
            missing={name: row[f"{name}_sum"] for name in TYPES if row[f"{name}_sum"]},
        )
    return result


def _sum(columns: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
    total = None
    for column in columns.values():
        total = column if total is None else pc.add(total, column)
    return total

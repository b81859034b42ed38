"""The dashboard's figures: per installation once per index version, then per request a filter and a grouping.

An installation is a picked-up record of the index. It counts in the month it was picked up (`pickup_date`)
for "picked up" and coverage, and in the month it was installed (`install_date`) for capacity added - the
months a planner plans in. Coverage: the share of installations with a stored photo of every required type
(pv_model.completeness). Indexes written before the planner's columns have none: their installations are
"undated" and count only in the totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pv_model.completeness import TYPES, missing_columns

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PLANNER_NUMBERS = ("capacity_kw", "latitude", "longitude")
PLANNER_DATES = ("install_date", "pickup_date")


@dataclass(frozen=True)
class Filter:
    start: str | None = None  # first month, YYYY-MM
    end: str | None = None  # last month
    region: str | None = None
    station: str | None = None


def month_param(value: str | None) -> str | None:
    """A month from a query parameter, or None (anything else is ignored, never an error page)."""
    return value if value and MONTH.match(value) else None


def installation_table(t: pa.Table) -> pa.Table:
    """One row per installation: station, region, months, capacity, coordinates, complete (0/1, null when
    the index does not say what photos show). One grouping pass over the index."""
    columns = {name: _column(t, name, pa.float64()) for name in PLANNER_NUMBERS}
    columns.update({name: _column(t, name, pa.date32()) for name in PLANNER_DATES})
    aggregations = [("region", "min"), *[(name, "min") for name in (*PLANNER_NUMBERS, *PLANNER_DATES)]]
    typed = "photo_type" in t.column_names and "required_photo_types" in t.column_names
    if typed:
        stored_photo = pc.fill_null(pc.and_(pc.equal(t["status"], "stored"), pc.equal(t["media_kind"], "photo")), False)
        for name in TYPES:
            needs = pc.fill_null(pc.match_substring(t["required_photo_types"], name), False)
            has = pc.and_(stored_photo, pc.fill_null(pc.equal(t["photo_type"], name), False))
            columns[f"needs_{name}"], columns[f"has_{name}"] = pc.cast(needs, pa.int8()), pc.cast(has, pa.int8())
            aggregations += [(f"needs_{name}", "max"), (f"has_{name}", "max")]
    region = pc.fill_null(t["region_company_code"], "")
    base = pa.table({"station_id": t["station_id"], "record_id": t["record_id"], "region": region, **columns})
    grouped = base.group_by(["station_id", "record_id"]).aggregate(aggregations)
    grouped = grouped.rename_columns([c.removesuffix("_min").removesuffix("_max") for c in grouped.column_names])
    missing = missing_columns(grouped) if typed else {n: pa.nulls(grouped.num_rows, pa.int64()) for n in TYPES}
    if typed:
        complete = pc.cast(pc.invert(pc.greater(_sum(list(missing.values())), 0)), pa.int64())
    else:
        complete = pa.nulls(grouped.num_rows, pa.int64())
    keep = ["station_id", "record_id", "region", *PLANNER_NUMBERS, *PLANNER_DATES]
    table = grouped.select(keep)
    for name in TYPES:
        table = table.append_column(f"missing_{name}", missing[name])
    return (
        table.append_column("complete", complete)
        .append_column("pickup_month", _month(grouped["pickup_date"]))
        .append_column("install_month", _month(grouped["install_date"]))
    )


def collection_table(t: pa.Table) -> pa.Table:
    """Media items stored per station, region and month of collection (`collected_at`, UTC): when the
    collection ran and how much it brought, the part of collection health the index remembers over time."""
    stored = pc.fill_null(pc.and_(pc.equal(t["status"], "stored"), pc.is_valid(t["collected_at"])), False)
    # Only the three columns are filtered (filtering the index would copy its thirty).
    table = pa.table(
        {
            "station_id": t["station_id"],
            "region": pc.fill_null(t["region_company_code"], ""),
            "month": pc.utf8_slice_codeunits(t["collected_at"], 0, 7),
        }
    ).filter(stored)
    grouped = table.group_by(["station_id", "region", "month"]).aggregate([("month", "count")])
    return grouped.rename_columns(["station_id", "region", "month", "items"])


def _column(t: pa.Table, name: str, kind: pa.DataType) -> pa.ChunkedArray | pa.Array:
    return t[name].cast(kind) if name in t.column_names else pa.nulls(t.num_rows, kind)


def _month(dates) -> pa.ChunkedArray:
    return pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y-%m")


def _sum(columns: list) -> Any:
    total = columns[0]
    for column in columns[1:]:
        total = pc.add(total, column)
    return total


def narrowed(installations: pa.Table, f: Filter) -> pa.Table:
    """The installations of the region / station asked for (the date range applies per figure)."""
    mask = None
    if f.region is not None:
        mask = pc.equal(installations["region"], f.region)
    if f.station is not None:
        by_station = pc.equal(installations["station_id"], f.station)
        mask = by_station if mask is None else pc.and_(mask, by_station)
    return installations if mask is None else installations.filter(mask)


def _in_range(months: pa.ChunkedArray, f: Filter):
    """The installations dated within the range (without a range every one counts, undated ones too)."""
    mask = pc.is_valid(months)
    if f.start:
        mask = pc.and_(mask, pc.greater_equal(months, f.start))
    if f.end:
        mask = pc.and_(mask, pc.less_equal(months, f.end))
    return pc.fill_null(mask, False)


def _by(table: pa.Table, keys: list[str], aggregations: list) -> list[dict[str, Any]]:
    if table.num_rows == 0:
        return []
    return table.group_by(keys).aggregate(aggregations).to_pylist()


def figures(
    installations: pa.Table, f: Filter, collected: pa.Table | None = None, health: dict[str, float] | None = None
) -> dict[str, Any]:
    """Everything the dashboard shows for a filter: monthly series, and per region and per station.
    `collected` (collection_table) adds the media items stored per month of collection; `health`
    (pv_gallery.health_history.healthy_share) the share of stations collecting successfully per month."""
    chosen = narrowed(installations, f)
    ranged = bool(f.start or f.end)
    picked = chosen.filter(_in_range(chosen["pickup_month"], f)) if ranged else chosen
    installed = chosen.filter(_in_range(chosen["install_month"], f)) if ranged else chosen
    aggregations = [("record_id", "count"), ("complete", "sum"), ("complete", "count")]
    dated_picked = picked.filter(pc.is_valid(picked["pickup_month"]))
    dated_installed = installed.filter(pc.is_valid(installed["install_month"]))
    monthly_picked = {r["pickup_month"]: r for r in _by(dated_picked, ["pickup_month"], aggregations)}
    monthly_installed = {
        r["install_month"]: r for r in _by(dated_installed, ["install_month"], [("capacity_kw", "sum")])
    }
    stored = {}
    if collected is not None:
        chosen_items = narrowed(collected, f)
        chosen_items = chosen_items.filter(_in_range(chosen_items["month"], f)) if ranged else chosen_items
        stored = {r["month"]: r["items_sum"] for r in _by(chosen_items, ["month"], [("items", "sum")])}
    health = {m: share for m, share in (health or {}).items() if not ranged or (f.start or m) <= m <= (f.end or m)}
    months = sorted(set(monthly_picked) | set(monthly_installed) | set(stored) | set(health))
    series = {
        "picked_up": [monthly_picked.get(m, {}).get("record_id_count", 0) for m in months],
        "capacity_kw": [round(monthly_installed.get(m, {}).get("capacity_kw_sum") or 0.0, 2) for m in months],
        "coverage": [_share(monthly_picked.get(m)) for m in months],
        "collected": [stored.get(m, 0) for m in months],
        "healthy": [health.get(m) for m in months],
    }
    return {
        "months": months,
        "series": series,
        "regions": _groups(picked, installed, "region"),
        # A region's stations (10,000 of them for the whole group would make the answer slow and unreadable).
        "stations": _groups(picked, installed, "station_id") if f.region or f.station else [],
        "totals": {
            "installations": chosen.num_rows,
            "picked_up": picked.num_rows,
            "capacity_kw": round(pc.sum(installed["capacity_kw"]).as_py() or 0.0, 2),
            "complete": pc.sum(picked["complete"]).as_py() or 0,
            "undated": 0 if ranged else chosen.num_rows - dated_picked.num_rows,
        },
        # Installations without a stored photo of each required type (missing, or every file of it failed).
        "missing": {name: pc.sum(picked[f"missing_{name}"]).as_py() or 0 for name in TYPES},
    }


def _share(row: dict[str, Any] | None) -> float | None:
    if not row or not row.get("complete_count"):
        return None
    return round(row["complete_sum"] / row["complete_count"], 4)


def _groups(picked: pa.Table, installed: pa.Table, key: str) -> list[dict[str, Any]]:
    aggregations = [("record_id", "count"), ("complete", "sum"), ("complete", "count")]
    found: dict[str, dict[str, Any]] = {}
    for row in _by(picked, [key], aggregations):
        found[row[key]] = {
            "id": row[key],
            "picked_up": row["record_id_count"],
            "complete": row["complete_sum"] or 0,
            "coverage": _share(row),
            "capacity_kw": 0.0,
        }
    for row in _by(installed, [key], [("capacity_kw", "sum")]):
        entry = found.setdefault(row[key], {"id": row[key], "picked_up": 0, "complete": 0, "coverage": None})
        entry["capacity_kw"] = round(row["capacity_kw_sum"] or 0.0, 2)
    return [found[k] for k in sorted(found)]

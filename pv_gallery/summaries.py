"""The overview's figures: per station and per region, computed once per index version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pv_model.completeness import Completeness, station_completeness
from pv_model.failure_categories import category_of
from pv_model.photo_types import completeness


@dataclass(frozen=True)
class StationOverview:
    """One station's line on the gallery's overview page: what was picked up, what has media, what failed."""

    region: str
    station_id: str
    station_name: str
    picked_up: int
    with_photo: int
    with_video: int
    media_items: int
    failed: int
    last_collected: str
    region_name: str = ""  # from the registry's regions; empty when it names none
    complete: int = 0  # picked-up installations with every required photo type
    missing: dict[str, int] = field(default_factory=dict)  # photo type -> installations without it
    typed: bool = False  # the index says what each photo shows (written since photo types exist)
    health: Any = None  # pv_gallery.health.StationHealth, when the health table has the station
    reasons: dict[str, int] = field(default_factory=dict)  # failed media items by manager's category

    @property
    def completeness(self) -> float | None:
        return completeness(self.complete, self.picked_up) if self.typed else None

    @property
    def region_label(self) -> str:
        """What a person reads: the region's name, its code where no name is known."""
        return self.region_name or self.region

    @property
    def gap(self) -> int:
        """Picked-up installations with no photo at all: the number a supervisor looks for first."""
        return self.picked_up - self.with_photo


@dataclass
class RegionSummary:
    region: str
    stations: list[StationOverview] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stations)

    @property
    def label(self) -> str:
        return next((s.region_name for s in self.stations if s.region_name), "") or self.region

    @property
    def picked_up(self) -> int:
        return self.total("picked_up")

    @property
    def with_photo(self) -> int:
        return self.total("with_photo")

    @property
    def with_video(self) -> int:
        return self.total("with_video")

    @property
    def media_items(self) -> int:
        return self.total("media_items")

    @property
    def failed(self) -> int:
        return self.total("failed")

    @property
    def gap(self) -> int:
        return self.total("gap")

    @property
    def last_collected(self) -> str:
        return max((s.last_collected for s in self.stations), default="")

    @property
    def complete(self) -> int:
        return self.total("complete")

    @property
    def completeness(self) -> float | None:
        if not any(s.typed for s in self.stations):
            return None
        return completeness(self.complete, sum(s.picked_up for s in self.stations if s.typed))

    @property
    def missing(self) -> dict[str, int]:
        return _added(s.missing for s in self.stations)

    @property
    def reasons(self) -> dict[str, int]:
        """Failed media items by category, and stations whose latest collection failed by theirs."""
        counts = _added(s.reasons for s in self.stations)
        for s in self.stations:
            if s.health is not None and s.health.failing and s.health.failure_category:
                counts[s.health.failure_category] = counts.get(s.health.failure_category, 0) + 1
        return counts


def _added(dicts) -> dict[str, int]:
    found: dict[str, int] = {}
    for counts in dicts:
        for name, count in counts.items():
            found[name] = found.get(name, 0) + count
    return found


def item_reasons(t: pa.Table) -> dict[str, dict[str, int]]:
    """station -> category -> failed media items; only the failed rows are looked at."""
    failed = t.filter(pc.fill_null(pc.equal(t["status"], "failed"), False)).select(["station_id", "failure_reason"])
    found: dict[str, dict[str, int]] = {}
    for station_id, reason in zip(*(failed.column(c).to_pylist() for c in failed.column_names), strict=True):
        counts = found.setdefault(station_id, {})
        category = category_of(reason)
        counts[category] = counts.get(category, 0) + 1
    return found


def station_summaries(t: pa.Table) -> tuple[dict[str, StationOverview], dict[str, int]]:
    """Every station's figures and its number of rows, in one grouping pass: per condition, a record id
    column that is null where it fails."""
    no_record = pa.nulls(t.num_rows, pa.string())
    stored = pc.fill_null(pc.equal(t["status"], "stored"), False)

    def records_where(mask) -> pa.ChunkedArray:
        return pc.if_else(pc.fill_null(mask, False), t["record_id"], no_record)

    kind = t["media_kind"]
    figures = pa.table(
        {
            "station_id": t["station_id"],
            "region": t["region_company_code"],
            # Indexes written before region names existed have no such column: codes are shown.
            "region_name": t["region_company_name"]
            if "region_company_name" in t.column_names
            else pa.nulls(t.num_rows, pa.string()),
            "name": t["station_name"],
            "collected_at": t["collected_at"],
            "row": pa.nulls(t.num_rows, pa.int8()).fill_null(1),
            # Every record in the index is one the station's accepted pickup statuses let through.
            "picked": t["record_id"],
            "photo": records_where(pc.and_(stored, pc.equal(kind, "photo"))),
            "video": records_where(pc.and_(stored, pc.equal(kind, "video"))),
            "item": kind,
            "failed": pc.cast(pc.fill_null(pc.equal(t["status"], "failed"), False), pa.int64()),
        }
    )
    valid = pc.CountOptions(mode="only_valid")
    grouped = figures.group_by("station_id").aggregate(
        [
            ("region", "min"),
            ("region_name", "min"),
            ("name", "min"),
            ("collected_at", "max"),
            ("row", "count"),
            ("picked", "count_distinct", valid),
            ("photo", "count_distinct", valid),
            ("video", "count_distinct", valid),
            ("item", "count", valid),
            ("failed", "sum"),
        ]
    )
    summaries, rows = {}, {}
    types = station_completeness(t)
    reasons = item_reasons(t)
    for row in grouped.to_pylist():
        sid = row["station_id"]
        rows[sid] = row["row_count"]
        summaries[sid] = StationOverview(
            region=row["region_min"] or "",
            station_id=sid,
            station_name=row["name_min"] or sid,
            picked_up=row["picked_count_distinct"],
            with_photo=row["photo_count_distinct"],
            with_video=row["video_count_distinct"],
            media_items=row["item_count"],
            failed=row["failed_sum"] or 0,
            last_collected=row["collected_at_max"] or "",
            region_name=row["region_name_min"] or "",
            complete=types.get(sid, Completeness()).complete,
            missing=types.get(sid, Completeness()).missing,
            reasons=reasons.get(sid, {}),
            typed=sid in types,
        )
    return summaries, rows


def region_summaries(stations: dict[str, StationOverview]) -> dict[str, RegionSummary]:
    regions: dict[str, RegionSummary] = {}
    for summary in stations.values():
        regions.setdefault(summary.region, RegionSummary(summary.region)).stations.append(summary)
    return regions

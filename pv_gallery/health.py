"""Station health as the overview shows it: every registry station, its last attempt and outcome,
a stale flag, and the reason in a manager's category. Read from the health table the station_health
asset writes (pv_model.gallery_contract.HEALTH_KEY); stations it lists but the index does not get a
row of zeros, so a station whose login fails is on the overview all the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from pv_gallery.summaries import StationOverview
from pv_model.personal_data import mask_personal_text


@dataclass(frozen=True)
class StationHealth:
    last_attempt_at: str | None
    last_outcome: str  # succeeded | failed | never
    last_success_at: str | None
    failure_reason: str | None  # technical, masked; behind a details toggle
    failure_category: str | None  # pv_model.failure_categories
    run_id: str | None

    @property
    def failing(self) -> bool:
        return self.last_outcome == "failed"

    @property
    def never_succeeded(self) -> bool:
        return self.last_success_at is None

    def stale(self, now: datetime, stale_after: timedelta) -> bool:
        """The last success is older than the configured age (a station never collected is not stale: it is
        shown as never having succeeded)."""
        if self.last_success_at is None:
            return False
        try:
            when = datetime.fromisoformat(self.last_success_at)
        except ValueError:
            return False
        return now - (when if when.tzinfo else when.replace(tzinfo=UTC)) > stale_after


def read_health(data: bytes) -> dict[str, tuple[dict, StationHealth]]:
    """station id -> (its registry row: name, region code and name; its health)."""
    rows = pq.read_table(pa.BufferReader(data)).to_pylist()
    found = {}
    for row in rows:
        reason = row.get("failure_reason")
        found[row["station_id"]] = (
            {k: row.get(k) for k in ("station_name", "region_company_code", "region_company_name")},
            StationHealth(
                last_attempt_at=row.get("last_attempt_at"),
                last_outcome=row.get("last_outcome") or "never",
                last_success_at=row.get("last_success_at"),
                failure_reason=mask_personal_text(reason) if reason else None,
                failure_category=row.get("failure_category"),
                run_id=row.get("run_id"),
            ),
        )
    return found


def with_health(
    stations: dict[str, StationOverview], health: dict[str, tuple[dict, StationHealth]]
) -> dict[str, StationOverview]:
    """Every station of either source, each with its health (None where the health table has no row)."""
    merged = dict(stations)
    for station_id, (registry_row, state) in health.items():
        summary = merged.get(station_id)
        if summary is None:
            summary = StationOverview(
                region=registry_row["region_company_code"] or "",
                station_id=station_id,
                station_name=registry_row["station_name"] or station_id,
                picked_up=0,
                with_photo=0,
                with_video=0,
                media_items=0,
                failed=0,
                last_collected="",
                region_name=registry_row["region_company_name"] or "",
            )
        merged[station_id] = dataclasses.replace(summary, health=state)
    return merged

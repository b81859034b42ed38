"""The change sensor's memory and its choice of whom to look at this tick - pure.

The cursor is JSON in Dagster's sensor cursor, so it survives restarts: per station, when it
was last looked at, the `total` it had, and when to retry a station that was down.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

CURSOR_VERSION = 1
# A station that is down is retried after this, doubling per failure up to the cap.
DOWN_BACKOFF_S = 300
DOWN_BACKOFF_MAX_S = 6 * 3600


class StationWatch(BaseModel):
    checked_at: str | None = None  # ISO time (UTC) of the last successful look
    total: int | None = None
    failures: int = 0
    retry_at: str | None = None


class ChangeCursor(BaseModel):
    v: Literal[1] = CURSOR_VERSION
    stations: dict[str, StationWatch] = Field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | None) -> ChangeCursor:
        if not text:
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            return cls()  # an unreadable cursor starts over: a look too many, never a change missed forever

    def to_json(self) -> str:
        return self.model_copy(update={"stations": dict(sorted(self.stations.items()))}).model_dump_json()

    def watch(self, station_id: str) -> StationWatch:
        return self.stations.setdefault(station_id, StationWatch())

    def mark_seen(self, station_id: str, now: datetime, total: int | None) -> None:
        watch = self.watch(station_id)
        watch.checked_at, watch.total, watch.failures, watch.retry_at = now.isoformat(), total, 0, None

    def mark_down(self, station_id: str, now: datetime) -> None:
        watch = self.watch(station_id)
        watch.failures += 1
        delay = min(DOWN_BACKOFF_S * 2 ** (watch.failures - 1), DOWN_BACKOFF_MAX_S)
        watch.retry_at = (now + timedelta(seconds=delay)).isoformat()

    def forget_except(self, station_ids: Iterable[str]) -> None:
        keep = set(station_ids)
        for sid in [s for s in self.stations if s not in keep]:
            del self.stations[sid]


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def due_stations(cursor: ChangeCursor, intervals: dict[str, int], now: datetime, limit: int) -> list[str]:
    """Stations to look at now, at most `limit`: never more often than their interval, down ones only
    after their retry time, the longest-unseen first (round robin across ticks)."""
    due = []
    for station_id, interval in intervals.items():
        watch = cursor.stations.get(station_id, StationWatch())
        retry_at = _parse(watch.retry_at)
        if retry_at is not None and now < retry_at:
            continue
        checked_at = _parse(watch.checked_at)
        if checked_at is not None and (now - checked_at).total_seconds() < interval:
            continue
        due.append((checked_at or datetime.min.replace(tzinfo=UTC), station_id))
    due.sort()
    return [station_id for _, station_id in due[:limit]]


def has_changed(watch: StationWatch, total: int | None, updated_rows: int, supports_updated_since: bool) -> bool:
    """Whether a look shows a change: rows updated since the last look, or else a different total.

    (With updatedSince the station's `total` counts only the updated rows, so it is not compared.
    A removed record needs no refresh: nothing is collected for it.)
    """
    if watch.checked_at is None:
        return False  # the first look sets the baseline; the registry sensor requested the first run
    if supports_updated_since:
        return updated_rows > 0
    return total != watch.total


class PendingFirstRuns(BaseModel):
    """The registry sensor's cursor: stations whose first run a tick left for later (a cap per tick)."""

    v: Literal[1] = CURSOR_VERSION
    pending: list[str] = Field(default_factory=list)

    @classmethod
    def from_json(cls, text: str | None) -> PendingFirstRuns:
        if not text:
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            return cls()  # unreadable: new stations still get theirs; run keys keep it idempotent

"""A station's collection runs in the Dagster instance, as the health table needs them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pv_assets.operations.run_names import COLLECT_JOB_NAME


@dataclass(frozen=True)
class Attempts:
    """A station's run history as health needs it (pv_assets/gallery/run_history.py reads it)."""

    last_attempt_at: str | None = None
    last_succeeded: bool = False
    last_success_at: str | None = None
    failure_reason: str | None = None
    run_id: str | None = None


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _failure(instance: Any, run_id: str) -> str:
    from dagster import DagsterEventType

    from pv_assets.operations.station_run import failure_message

    entries = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    events = [e.dagster_event for e in entries if e.dagster_event is not None]
    if events:
        return failure_message(events)
    failed = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
    return next((e.dagster_event.message for e in failed if e.dagster_event and e.dagster_event.message), "run failed")


def station_attempts(instance: Any, station_ids: Iterable[str]) -> dict[str, Attempts]:
    """Per station: its latest finished collection and its latest successful one (two look-ups)."""
    from dagster import DagsterRunStatus, RunsFilter

    finished = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    found = {}
    for station_id in station_ids:
        tags = {"dagster/partition": station_id}
        latest = instance.get_run_records(RunsFilter(job_name=COLLECT_JOB_NAME, tags=tags, statuses=finished), limit=1)
        if not latest:
            continue
        record = latest[0]
        succeeded = record.dagster_run.status == DagsterRunStatus.SUCCESS
        success = (
            [record]
            if succeeded
            else instance.get_run_records(
                RunsFilter(job_name=COLLECT_JOB_NAME, tags=tags, statuses=[DagsterRunStatus.SUCCESS]), limit=1
            )
        )
        found[station_id] = Attempts(
            last_attempt_at=_iso(record.end_time or record.update_timestamp.timestamp()),
            last_succeeded=succeeded,
            last_success_at=_iso(success[0].end_time) if success else None,
            failure_reason=None if succeeded else _failure(instance, record.dagster_run.run_id),
            run_id=record.dagster_run.run_id,
        )
    return found

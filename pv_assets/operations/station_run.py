"""One station's collect_station run in this process, and what a person reads of it afterwards.

Used by `pv-media collect` on the embedded instance and by the daily batch run, which collects
many stations in one run worker: each station still gets its own Dagster run (same steps,
materializations and checks as a daemon-launched run), only the process start is shared.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pv_assets.collection.staging import pid_alive
from pv_assets.operations.station_lock import StationBusy, station_lock
from pv_assets.operations.tags import BATCH_TAG, HOST_TAG, PID_TAG, STATION_TAG


@dataclass
class StationRunOutcome:
    """How one station's collect run ended: its run id, its counts, or why it failed or did not start."""

    station_id: str
    ok: bool
    run_id: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    not_started: bool = False  # another run was collecting the station
    unchanged: bool = False  # no run: nothing could change since `run_id` (pv_assets/collection/nothing_new.py)
    failures: dict[str, int] = field(default_factory=dict)  # failed media items by reason

    @property
    def every_item_failed(self) -> bool:
        """The run succeeded but stored nothing: every media item failed (a CDN host not allowed, say)."""
        stored = self.counts.get("uploaded", 0) + self.counts.get("skipped", 0)
        return self.counts.get("failed", 0) > 0 and stored == 0

    @property
    def collected(self) -> bool:
        """What the exit code says: the run succeeded, and stored something when there was anything to store."""
        return self.ok and not self.every_item_failed


SUMMARY_COLUMNS = ["records", "picked_up", "media_items", "uploaded", "skipped", "failed", "bytes"]
SUMMARY_SOURCES = {
    "records": ("infrastructure_records", "records"),
    "picked_up": ("media_manifest", "picked_up"),
    "media_items": ("media_manifest", "media_items"),
    "uploaded": ("uploaded_media", "uploaded"),
    "skipped": ("uploaded_media", "skipped"),
    "failed": ("uploaded_media", "failed"),
    "bytes": ("uploaded_media", "bytes"),
}


def failure_message(step_failure_events: Sequence[Any]) -> str:
    for event in step_failure_events:
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        error = data.error
        # Dagster wraps the real error (e.g. in DagsterExecutionHandleOutputError): say the real one.
        while error is not None and error.cause is not None and error.cls_name.startswith("Dagster"):
            error = error.cause
        if error is not None:
            return error.message.strip().splitlines()[-1]
    return "run failed"


def counts_from_metadata(metadata: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The summary's counts from {asset: {key: value}} of a run's materializations."""
    counts = {}
    for column, (node, key) in SUMMARY_SOURCES.items():
        value = metadata.get(node, {}).get(key)
        if value is not None:
            counts[column] = int(value)
    return counts


def failures_from_metadata(metadata: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Failed media items by reason, from uploaded_media's metadata."""
    found = metadata.get("uploaded_media", {}).get("failures_by_reason") or {}
    return {str(reason): int(count) for reason, count in found.items()} if isinstance(found, dict) else {}


def materialization_metadata(result: Any) -> dict[str, dict[str, Any]]:
    """{asset: {key: value}} of a run's materializations, by asset (one step may materialize two:
    uploaded_media and media_previews)."""
    metadata: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return metadata


def summarize(station_id: str, result: Any) -> StationRunOutcome:
    metadata = materialization_metadata(result)
    summary = StationRunOutcome(station_id, result.success, result.run_id, counts_from_metadata(metadata))
    summary.failures = failures_from_metadata(metadata)
    if not result.success:
        summary.error = failure_message(result.get_step_failure_events())
    return summary


def active_collection(instance: Any, station_id: str) -> str | None:
    """The run id of a collection of this station still in progress, if any.

    A run left STARTED by a process that was killed (seen here, on its host) or by a batch run that
    ended (seen from anywhere) is marked failed here, so a dead run never blocks its station forever.
    """
    from dagster import RunsFilter

    from pv_assets.operations.run_names import IN_PROGRESS_STATUSES

    runs = RunsFilter(tags={"dagster/partition": station_id}, statuses=IN_PROGRESS_STATUSES)
    for record in instance.get_run_records(runs):
        run = record.dagster_run
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid and host == socket.gethostname() and not pid_alive(int(pid)):
            instance.report_run_failed(run, "the process collecting this station died")
            continue
        ended = batch_ended(instance, run)
        if ended:
            instance.report_run_failed(run, ended)
            continue
        return run.run_id
    return None


def batch_ended(instance: Any, run: Any) -> str | None:
    """Why a station run of a batch can never finish - its batch run ended first - or None."""
    from dagster import DagsterRunStatus

    from pv_assets.operations.run_names import IN_PROGRESS_STATUSES

    batch_id = run.tags.get(BATCH_TAG)
    if not batch_id:
        return None
    batch = instance.get_run_by_id(batch_id)
    # A batch being canceled is still alive: it stops after the station it is collecting.
    if batch is not None and (batch.status in IN_PROGRESS_STATUSES or batch.status == DagsterRunStatus.CANCELING):
        return None
    return f"its batch run {batch_id} ended ({batch.status.value if batch else 'deleted'}) before it did"


def collect_station(
    job: Any,
    instance: Any,
    station_id: str,
    *,
    tags: Mapping[str, str],
    log_level: str = "CRITICAL",
    look: Callable[[str], StationRunOutcome | None] | None = None,
) -> StationRunOutcome:
    """One Dagster run of the station in this process, unless the station is being collected already, or
    `look` finds nothing its run could change (its summary then). `job`: the collect job, or a function that
    returns it (loaded only when a run is needed)."""
    try:
        # The lock is the guard (atomic, held by the OS); the run lookup names the run for people.
        with station_lock(station_id, Path(instance.root_directory)):
            running = active_collection(instance, station_id)
            if running:
                error = f"already being collected by run {running}; not started twice"
                return StationRunOutcome(station_id, False, "", error=error, not_started=True)
            unchanged = look(station_id) if look is not None else None
            if unchanged is not None:
                return unchanged
            resolved = job if hasattr(job, "execute_in_process") else job()
            return _run_station(resolved, instance, station_id, tags, log_level)
    except StationBusy as exc:
        return StationRunOutcome(station_id, False, "", error=f"{exc}; not started twice", not_started=True)


def _run_station(
    job: Any, instance: Any, station_id: str, tags: Mapping[str, str], log_level: str
) -> StationRunOutcome:
    result = job.execute_in_process(
        partition_key=station_id,
        instance=instance,
        raise_on_error=False,
        # The pid and host let the next look at this station fail the run if this process dies mid-run.
        tags={STATION_TAG: station_id, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), **tags},
        # Quiet by default: the summary says what failed, and every event is in the Dagster instance.
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    return summarize(station_id, result)

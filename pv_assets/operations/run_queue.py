"""`pv-media collect` on a production instance: runs go into the instance's queue, and are followed.

The daemon (`dagster-daemon run`) launches each queued run in its own run worker, under the same
run limits as the sensors' and the schedule's runs (one per station, a global cap). The CLI then
follows the runs from the event log - the same progress lines and summary as in-process runs -
including the retry that run_retries starts for a run whose worker died.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pv_assets.operations.deployment import workspace_file
from pv_assets.operations.jobs import COLLECT_JOB_NAME
from pv_assets.operations.tags import station_tags
from resources.dagster_private import CodeLocationNotLoaded, run_submitter

PARENT_RUN_TAG = "dagster/parent_run_id"
WILL_RETRY_TAG = "dagster/will_retry"
# How long a failed run may stay without dagster/will_retry before it counts as final.
RETRY_DECISION_WAIT_S = 10.0


class SubmitError(RuntimeError):
    """The runs could not be submitted (the workspace or code server did not load)."""


def station_run_tags(station_id: str, trigger: str) -> dict[str, str]:
    return {"dagster/partition": station_id, **station_tags(station_id, trigger)}


def submit_station_runs(
    instance: Any, station_ids: Sequence[str], *, trigger: str = "cli", workspace: Path | None = None
) -> dict[str, str]:
    """Queue one collect_station run per station through the workspace's code location; {station: run id}."""
    runs = [({}, station_run_tags(station_id, trigger)) for station_id in station_ids]
    return dict(zip(station_ids, submit_runs(instance, COLLECT_JOB_NAME, runs, workspace=workspace), strict=True))


def submit_runs(
    instance: Any, job_name: str, runs: Sequence[tuple[dict, dict[str, str]]], *, workspace: Path | None = None
) -> list[str]:
    """Queue a run of the job for each (run config, tags) through the workspace's code location; their ids.

    The runs are created from the code location's own snapshot (as `dagster job launch` does), so the
    daemon launches them through that code location - in production the standalone code server.
    """
    path = workspace or workspace_file()
    if not path.is_file():
        raise SubmitError(f"{path}: no such workspace file (set PV_WORKSPACE)")
    try:
        with run_submitter(instance, path, job_name) as submit:
            return [submit(run_config, tags) for run_config, tags in runs]
    except CodeLocationNotLoaded as exc:
        raise SubmitError(f"{path}: the code location did not load: {exc}") from None


@dataclass
class FollowedRun:
    station_id: str
    run_id: str  # the run followed now: the retry of the first run, if it was retried
    status: str = "QUEUED"
    finished: bool = False
    _failed_at: float | None = None

    def failed_seen_at(self, now: float) -> float:
        if self._failed_at is None:
            self._failed_at = now
        return self._failed_at


def materialization_metadata(instance: Any, run_id: str) -> dict[str, dict[str, Any]]:
    """{asset name: {metadata key: plain value}} of the run's materializations, from the event log."""
    from dagster import DagsterEventType

    found: dict[str, dict[str, Any]] = {}
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    for record in records:
        materialization = record.event_log_entry.dagster_event.step_materialization_data.materialization
        found[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return found


def run_failure_message(instance: Any, run_id: str) -> str:
    """What went wrong: the first step failure's real error, else the run failure's message."""
    from dagster import DagsterEventType

    from pv_assets.operations.station_run import failure_message

    steps = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records
    if steps:
        return failure_message([r.event_log_entry.dagster_event for r in steps])
    runs = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
    for record in runs:
        message = record.event_log_entry.dagster_event.message or record.event_log_entry.user_message
        if message:
            return message.strip().splitlines()[0]
    engine = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT).records
    for record in reversed(engine):
        message = record.event_log_entry.user_message or ""
        if "terminated" in message or "crash" in message or "died" in message:
            return message.strip().splitlines()[0]
    return "run failed"


def daemon_heartbeat_age_s(instance: Any) -> float | None:
    """Seconds since the daemon's run queue last beat, or None when it never did: runs wait for it."""
    heartbeats = instance.get_daemon_heartbeats()
    beat = heartbeats.get("QUEUED_RUN_COORDINATOR")
    return None if beat is None else max(0.0, time.time() - beat.timestamp)


def _retry_of(instance: Any, run_id: str) -> str | None:
    from dagster import RunsFilter

    children = instance.get_runs(RunsFilter(tags={PARENT_RUN_TAG: run_id}), limit=1)
    return children[0].run_id if children else None


def follow_runs(
    instance: Any,
    runs: dict[str, str],
    *,
    poll_s: float = 1.0,
    timeout_s: float | None = None,
    on_change: Callable[[FollowedRun], None] | None = None,
) -> list[Any]:
    """Wait until every station's run (or its retry) has finished; one StationRunOutcome per station, in order.

    A run that failed with `dagster/will_retry=true` is followed into the retry that the daemon starts.
    """
    from dagster import DagsterRunStatus

    from pv_assets.operations.station_run import StationRunOutcome, counts_from_metadata, failures_from_metadata

    followed = [FollowedRun(station_id, run_id) for station_id, run_id in runs.items()]
    retries_enabled = bool(getattr(instance, "run_retries_enabled", False))
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        for item in followed:
            if item.finished:
                continue
            run = instance.get_run_by_id(item.run_id)
            status = run.status.value
            undecided = (
                run.status == DagsterRunStatus.FAILURE
                and retries_enabled
                and WILL_RETRY_TAG not in run.tags
                and time.monotonic() - item.failed_seen_at(time.monotonic()) < RETRY_DECISION_WAIT_S
            )
            if undecided:
                status = "FAILURE, retry being decided"  # the instance tags the failed run just after failing it
            elif run.status == DagsterRunStatus.FAILURE and run.tags.get(WILL_RETRY_TAG) == "true":
                retry = _retry_of(instance, item.run_id)
                if retry is None:
                    status = "FAILURE, retry pending"
                else:
                    item.run_id, status, item._failed_at = retry, "RETRIED", None
            elif run.is_finished:
                item.finished = True
            if status != item.status:
                item.status = status
                if on_change is not None:
                    on_change(item)
        if all(item.finished for item in followed):
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        time.sleep(poll_s)
    summaries = []
    for item in followed:
        run = instance.get_run_by_id(item.run_id)
        ok = run.status == DagsterRunStatus.SUCCESS
        summary = StationRunOutcome(item.station_id, ok, item.run_id)
        metadata = materialization_metadata(instance, item.run_id)
        summary.counts, summary.failures = counts_from_metadata(metadata), failures_from_metadata(metadata)
        if not item.finished:
            summary.ok, summary.error = False, f"still {item.status} when the wait ended; the run goes on"
        elif not ok:
            summary.error = run_failure_message(instance, item.run_id)
        summaries.append(summary)
    return summaries

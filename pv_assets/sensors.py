"""Sensors: new stations of the registry become partitions and get their first run; stations whose
records changed get a refresh run."""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from pv_assets.change_cursor import ChangeCursor, due_stations, has_changed
from pv_assets.jobs import IN_PROGRESS_STATUSES, collect_station_job, station_run_request
from pv_assets.partitions import STATION_PARTITIONS_NAME, station_partitions
from resources.dagster_resources import StationApiResource
from resources.deadline import total_deadline
from resources.interface import load_interface
from resources.registry import RegistryError
from resources.settings import settings
from resources.station_api import StationApiError

# updatedSince overlaps the previous look by this much, for clock skew between us and the station.
CLOCK_SKEW = timedelta(minutes=5)


@sensor(
    job=collect_station_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds the registry's new stations as 'station' partitions and requests their first runs, in one "
    "tick. A station removed from the registry is no longer refreshed; its objects and history stay.",
)
def station_registry_sensor(context: SensorEvaluationContext, station_api: StationApiResource):
    registry = station_api.registry()  # a broken registry fails the tick with file, line and field; nothing changes
    known = set(context.instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
    new = [station_id for station_id in registry.ids() if station_id not in known]
    if not new:
        return SensorResult(skip_reason=SkipReason(f"no new stations in {registry.path}"))
    return SensorResult(
        run_requests=[station_run_request(s, "new-station", run_key=f"first-run-{s}") for s in new],
        dynamic_partitions_requests=[station_partitions.build_add_request(new)],
    )


def stations_being_collected(instance) -> set[str]:
    runs = instance.get_runs(RunsFilter(job_name=collect_station_job.name, statuses=IN_PROGRESS_STATUSES))
    return {run.tags.get("dagster/partition") for run in runs}


def utc_now() -> datetime:
    """The sensor's clock (tests move it forward instead of waiting)."""
    return datetime.now(UTC)


def _since(checked_at: str, timezone: str) -> datetime:
    # The station's times are local (Asia/Shanghai by default) and naive on the wire.
    return (datetime.fromisoformat(checked_at) - CLOCK_SKEW).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


@sensor(
    job=collect_station_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a refresh run for each station whose records changed since the last look (one "
    "one-record page with updatedSince, else a changed total). Bounded work per tick, round robin, each station "
    "at most every poll_interval_s; a station that is down is retried later with backoff, never reported as "
    "changed. Its cursor survives restarts.",
)
def station_change_sensor(context: SensorEvaluationContext, station_api: StationApiResource):
    registry = station_api.registry()
    known = set(context.instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
    busy = stations_being_collected(context.instance)
    stations = {s.id: s for s in registry.stations if s.id in known}
    cursor = ChangeCursor.from_json(context.cursor)
    cursor.forget_except(stations)
    now = utc_now()
    # Bounded work per tick (PV_CHANGE_SENSOR_MAX_PER_TICK, PV_CHANGE_SENSOR_BUDGET_S), so thousands of
    # stations never overrun a sensor tick.
    knobs = settings()
    due = due_stations(
        cursor, {s.id: s.poll_interval_s for s in stations.values()}, now, knobs.change_sensor_max_per_tick
    )
    started = time.monotonic()
    requests, looked, down = [], 0, []
    for station_id in due:
        if time.monotonic() - started > knobs.change_sensor_budget_s:
            break  # the rest are still due and come first next tick
        if station_id in busy:
            continue  # its run is refreshing it now; looking would cost it one of its connections
        station = stations[station_id]
        watch = cursor.watch(station_id)
        interface = load_interface(station.dialect)
        supports_since = bool(interface.records.updated_since_param)
        since = _since(watch.checked_at, interface.timezone) if watch.checked_at and supports_since else None
        looked += 1
        try:
            client = station_api.quick_client(station_id)
            # The tick's budget holds even when a station hangs mid-reply: the rest cut its connection.
            left = max(1.0, knobs.change_sensor_budget_s - (time.monotonic() - started))
            try:
                with total_deadline(left):
                    total, updated_rows = client.probe_changes(since)
            finally:
                client.close()
        except (StationApiError, RegistryError) as exc:
            cursor.mark_down(station_id, now)
            down.append(station_id)
            context.log.warning(f"skipped for now, retried later: {exc}")
            continue
        if has_changed(watch, total, updated_rows, supports_since):
            requests.append(station_run_request(station_id, "records-changed"))
        cursor.mark_seen(station_id, now, total)
    context.log.info(f"looked at {looked} of {len(stations)} stations; {len(requests)} changed, {len(down)} down")
    if not requests:
        return SensorResult(
            cursor=cursor.to_json(), skip_reason=SkipReason(f"no changes in {looked} stations looked at")
        )
    return SensorResult(run_requests=requests, cursor=cursor.to_json())

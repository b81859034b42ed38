"""Sensors: new stations of the registry become partitions and get their first run; stations whose
records changed get a refresh run."""

import time
from concurrent.futures import ThreadPoolExecutor, wait
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

from pv_assets.operations.change_cursor import ChangeCursor, PendingFirstRuns, due_stations, has_changed
from pv_assets.operations.jobs import IN_PROGRESS_STATUSES, collect_station_job, station_run_request
from pv_assets.partitions import STATION_PARTITIONS_NAME, station_partitions
from pv_model.dialect import load_interface
from pv_model.registry import RegistryError
from resources.dagster_resources import StationApiResource
from resources.deadline import total_deadline
from resources.settings import settings
from resources.station_api import StationApiError

# Bounded work per tick (PV_CHANGE_SENSOR_MAX_PER_TICK, PV_CHANGE_SENSOR_BUDGET_S), so thousands of stations
# never overrun a sensor tick. Probes run concurrently, PV_CHANGE_SENSOR_WORKERS at a time: 1,000 per tick
# cover 10,000 stations every 10 minutes when a probe takes up to ~0.6 s.
# updatedSince overlaps the previous look by this much, for clock skew between us and the station.
CLOCK_SKEW = timedelta(minutes=5)


def pending_first_runs(cursor: str | None) -> list[str]:
    """Stations whose first run a previous tick left for later (the registry sensor's cursor)."""
    return PendingFirstRuns.from_json(cursor).pending


@sensor(
    job=collect_station_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds the registry's new stations as 'station' partitions, all in one request, and requests their "
    "first runs, at most PV_REGISTRY_FIRST_RUNS_PER_TICK (default 500) per tick; the rest follow on later ticks "
    "(run keys make a repeated request harmless). A station removed from the registry is no longer refreshed; its "
    "objects and history stay.",
)
def station_registry_sensor(context: SensorEvaluationContext, station_api: StationApiResource):
    registry = station_api.registry()  # a broken registry fails the tick with file, line and field; nothing changes
    ids = registry.ids()
    known = set(context.instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
    new = [station_id for station_id in ids if station_id not in known]
    in_registry = set(ids)
    waiting = [s for s in pending_first_runs(context.cursor) if s in in_registry]
    already = set(waiting)
    waiting += [s for s in new if s not in already]
    cap = settings().registry_first_runs_per_tick
    now, later = waiting[:cap], waiting[cap:]
    cursor = PendingFirstRuns(pending=later).model_dump_json()
    if not new and not now:
        return SensorResult(skip_reason=SkipReason(f"no new stations in {registry.path}"), cursor=cursor)
    context.log.info(
        f"{len(new)} new stations added as partitions; {len(now)} first runs requested, {len(later)} wait for "
        f"later ticks (at most {cap} per tick)"
    )
    return SensorResult(
        run_requests=[station_run_request(s, "new-station", run_key=f"first-run-{s}") for s in now],
        dynamic_partitions_requests=[station_partitions.build_add_request(new)] if new else [],
        cursor=cursor,
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
    "one-record page with updatedSince, else a changed total). Probes PV_CHANGE_SENSOR_WORKERS stations at once "
    "(one probe each), at most PV_CHANGE_SENSOR_MAX_PER_TICK per tick within PV_CHANGE_SENSOR_BUDGET_S even when a "
    "station hangs; longest-unseen first, each station at most every poll_interval_s, and the log names the "
    "stations that fell behind it. A station that is down is retried later with backoff, never reported as "
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
    knobs = settings()
    budget_s = knobs.change_sensor_budget_s
    intervals = {s.id: s.poll_interval_s for s in stations.values()}
    due = due_stations(cursor, intervals, now, knobs.change_sensor_max_per_tick)
    to_probe = [station_id for station_id in due if station_id not in busy]  # a running run refreshes it anyway
    outcomes, late = probe_concurrently(
        station_api, [stations[s] for s in to_probe], cursor, budget_s, knobs.change_sensor_workers
    )
    requests, down = [], []
    for station_id in to_probe:
        if station_id not in outcomes:
            continue  # not answered within the tick budget: still due, and first in line next tick
        watch = cursor.watch(station_id)
        outcome = outcomes[station_id]
        if isinstance(outcome, Exception):
            cursor.mark_down(station_id, now)
            down.append(station_id)
            context.log.warning(f"skipped for now, retried later: {outcome}")
            continue
        total, updated_rows, supports_since = outcome
        if has_changed(watch, total, updated_rows, supports_since):
            requests.append(station_run_request(station_id, "records-changed"))
        cursor.mark_seen(station_id, now, total)
    looked = len(outcomes)
    context.log.info(
        f"looked at {looked} of {len(stations)} stations ({len(to_probe)} due); {len(requests)} changed, "
        f"{len(down)} down" + (f", {len(late)} not answered within the {budget_s:.0f} s budget" if late else "")
    )
    behind = stations_behind(cursor, stations, now)
    if behind:
        context.log.warning(
            f"{len(behind)} stations fell behind their poll_interval_s (not looked at within it): "
            + ", ".join(behind[:20])
            + (" …" if len(behind) > 20 else "")
            + f"; raise PV_CHANGE_SENSOR_WORKERS (now {knobs.change_sensor_workers}) or PV_CHANGE_SENSOR_MAX_PER_TICK"
        )
    if not requests:
        return SensorResult(
            cursor=cursor.to_json(), skip_reason=SkipReason(f"no changes in {looked} stations looked at")
        )
    return SensorResult(run_requests=requests, cursor=cursor.to_json())


# A station is behind when its last look is older than its poll_interval_s plus this slack (one sensor tick).
BEHIND_SLACK = timedelta(seconds=60)


def stations_behind(cursor: ChangeCursor, stations: dict, now: datetime) -> list[str]:
    """Stations looked at before, up, and not looked at within their poll_interval_s (oldest look first)."""
    late = []
    for station_id, station in stations.items():
        watch = cursor.stations.get(station_id)
        if watch is None or watch.checked_at is None or watch.retry_at is not None:
            continue  # never looked at yet (a new station), or down and in backoff
        checked_at = datetime.fromisoformat(watch.checked_at)
        if now - checked_at > timedelta(seconds=station.poll_interval_s) + BEHIND_SLACK:
            late.append((checked_at, station_id))
    return [station_id for _, station_id in sorted(late)]


def _probe(station_api: StationApiResource, station, since: datetime | None, supports_since: bool, ends_at: float):
    client = station_api.quick_client(station.id, station=station)
    try:
        # The tick's budget holds even when a station hangs mid-reply: the deadline cuts its connection,
        # so no probe thread outlives the tick.
        with total_deadline(max(0.1, ends_at - time.monotonic())):
            total, updated_rows = client.probe_changes(since)
    finally:
        client.close()
    return total, updated_rows, supports_since


def probe_concurrently(
    station_api: StationApiResource, due: list, cursor: ChangeCursor, budget_s: float, workers: int
) -> tuple[dict[str, object], list[str]]:
    """Probe the due stations on a bounded pool, one probe per station (its client has one connection).

    Returns ({station: (total, updated rows, supports updatedSince) or the exception}, stations not answered
    within `budget_s`). The wait ends at the budget even when a call hangs: the pool's threads are not
    waited for (each call ends by itself within the quick client's timeouts), and the stations whose
    probe had not finished or started stay due for the next tick.
    """
    if not due:
        return {}, []
    # Probes are cut a little before the tick stops waiting, so a station that hangs comes back as an error
    # (down, retried later with backoff) instead of racing the wait and staying due to hang the next tick too.
    ends_at = time.monotonic() + budget_s - min(1.0, budget_s / 4)
    pool = ThreadPoolExecutor(max_workers=min(workers, len(due)), thread_name_prefix="change-probe")
    futures = {}
    for station in due:
        watch = cursor.watch(station.id)
        interface = load_interface(station.dialect)
        supports_since = bool(interface.records.updated_since_param)
        since = _since(watch.checked_at, interface.timezone) if watch.checked_at and supports_since else None
        futures[pool.submit(_probe, station_api, station, since, supports_since, ends_at)] = station.id
    done, not_done = wait(futures, timeout=budget_s)
    pool.shutdown(wait=False, cancel_futures=True)
    outcomes: dict[str, object] = {}
    for future in done:
        try:
            outcomes[futures[future]] = future.result()
        except (StationApiError, RegistryError) as exc:
            outcomes[futures[future]] = exc
    return outcomes, [futures[f] for f in not_done]

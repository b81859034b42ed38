"""The daily full refresh of every station of the registry (Asia/Shanghai time by default)."""

from dagster import DefaultScheduleStatus, ScheduleDefinition, ScheduleEvaluationContext, SkipReason, schedule

from pv_assets.operations.batch import batch_run_request, collect_station_batch_job
from pv_assets.operations.jobs import collect_station_job, station_run_request
from pv_assets.partitions import STATION_PARTITIONS_NAME
from resources.dagster_resources import StationApiResource
from resources.settings import settings


def build_daily_full_refresh(
    cron: str = "0 2 * * *", timezone: str = "Asia/Shanghai", batch_size: int = 50
) -> ScheduleDefinition:
    """The schedule at the given time (PV_REFRESH_CRON / PV_REFRESH_TIMEZONE / PV_DAILY_BATCH_SIZE, read where
    the definitions are built). Batches of one are plain collect_station runs: what a run launcher that
    watches each run's own worker (K8sRunLauncher) needs."""
    batched = batch_size > 1

    @schedule(
        name="daily_full_refresh",
        job=collect_station_batch_job if batched else collect_station_job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Full refresh of every registry station at '{cron}' ({timezone}); set PV_REFRESH_CRON / "
        "PV_REFRESH_TIMEZONE to change it. Stations not yet partitions wait for the registry sensor. The pass is "
        "queued as batch runs of PV_DAILY_BATCH_SIZE stations (one collect_station run per station inside each) "
        "at dagster/priority=-1 (PV_DAILY_PRIORITY), so sensor runs overtake the queued pass; each tick logs how "
        "long the pass takes at PV_DAILY_STATIONS_PER_MINUTE. A batch fetches each station's records first and "
        "leaves out the run of a station whose run could change nothing (PV_DAILY_SKIP_UNCHANGED).",
    )
    def daily_full_refresh(context: ScheduleEvaluationContext, station_api: StationApiResource):
        known = set(context.instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
        stations = [s for s in station_api.registry().ids() if s in known]
        if not stations:
            return SkipReason("no registry station is a partition yet")
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        knobs = settings()
        context.log.info(
            describe_pass(len(stations), batch_size, knobs.daily_stations_per_minute, knobs.daily_priority)
        )
        if not batched:
            # run_key: one refresh per station per day, however often the tick is evaluated.
            return [
                station_run_request(s, "daily", run_key=f"daily-{day}-{s}", priority=knobs.daily_priority)
                for s in stations
            ]
        batches = [stations[i : i + batch_size] for i in range(0, len(stations), batch_size)]
        return [
            # run_key makes a re-evaluated tick idempotent: one refresh per batch per day. The lower priority
            # lets runs requested by the sensors overtake the queued pass.
            batch_run_request(
                batch,
                run_key=f"daily-{day}-{n:05d}-{batch[0]}",
                priority=knobs.daily_priority,
                skip_unchanged=knobs.daily_skip_unchanged,
            )
            for n, batch in enumerate(batches)
        ]

    return daily_full_refresh


def describe_pass(stations: int, batch_size: int, stations_per_minute: float, priority: int) -> str:
    batches = -(-stations // batch_size)
    hours = stations / stations_per_minute / 60
    runs = f"{batches} batch runs of up to {batch_size}" if batch_size > 1 else f"{stations} station runs"
    return (
        f"queueing {stations} stations in {runs} (PV_DAILY_BATCH_SIZE) at "
        f"dagster/priority={priority}: at {stations_per_minute:g} stations a minute (PV_DAILY_STATIONS_PER_MINUTE) "
        f"a full pass takes ~{hours:.1f} h; sensor runs (priority 0) are launched first while it is queued"
    )

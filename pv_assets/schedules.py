"""The daily full refresh of every station of the registry (Asia/Shanghai time by default)."""

from dagster import DefaultScheduleStatus, ScheduleDefinition, ScheduleEvaluationContext, SkipReason, schedule

from pv_assets.jobs import collect_station_job, station_run_request
from pv_assets.partitions import STATION_PARTITIONS_NAME
from resources.dagster_resources import StationApiResource


def build_daily_full_refresh(cron: str = "0 2 * * *", timezone: str = "Asia/Shanghai") -> ScheduleDefinition:
    """The schedule at the given time (PV_REFRESH_CRON / PV_REFRESH_TIMEZONE, read where the definitions
    are built)."""

    @schedule(
        name="daily_full_refresh",
        job=collect_station_job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Full refresh of every registry station at '{cron}' ({timezone}); set PV_REFRESH_CRON / "
        "PV_REFRESH_TIMEZONE to change it. Stations not yet partitions wait for the registry sensor.",
    )
    def daily_full_refresh(context: ScheduleEvaluationContext, station_api: StationApiResource):
        known = set(context.instance.get_dynamic_partitions(STATION_PARTITIONS_NAME))
        stations = [s for s in station_api.registry().ids() if s in known]
        if not stations:
            return SkipReason("no registry station is a partition yet")
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [
            # run_key makes a re-evaluated tick idempotent: one refresh per station per day.
            station_run_request(s, "daily", run_key=f"daily-{day}-{s}")
            for s in stations
        ]

    return daily_full_refresh

"""The daily pass in batches: one run worker collects many stations, one Dagster run per station.

Starting a run worker costs about 2.5 CPU-seconds (importing Dagster and pv-media, loading the
definitions) before it touches a station, which at 10,000 stations a day is most of the work. A
batch run pays it once for `PV_DAILY_BATCH_SIZE` stations. Each station still gets its own
collect_station run, executed in the batch's process against the same instance: the same steps,
materializations, checks and lineage as a run launched for that station alone, and a station that
fails (a refused login, a station error) fails only its own run while the batch goes on.

Why not a partitioned backfill with `BackfillPolicy.multi_run`: a run over a range of partitions
succeeds or fails as a whole (dagster-io/dagster#17836), so one station's refused login would leave
the other stations of its range unmaterialized.
"""

import time
from collections.abc import Sequence
from typing import Any

from dagster import (
    Config,
    DagsterRunStatus,
    Failure,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    RunRequest,
    job,
    op,
)

from pv_assets.instance_pool import tune_instance_storage
from pv_assets.jobs import COLLECT_JOB_NAME
from pv_assets.station_run import BATCH_TAG, StationSummary, batch_ended, collect_station

BATCH_JOB_NAME = "collect_station_batch"


class StationBatchConfig(Config):
    stations: list[str]
    trigger: str = "daily"


def batch_report(summaries: Sequence[StationSummary]) -> dict[str, Any]:
    """What the batch run's output metadata says: counts, and each station that was not collected."""
    failed = [s for s in summaries if not s.ok]
    return {
        "stations": len(summaries),
        "collected": len(summaries) - len(failed),
        "failed": len(failed),
        "uploaded": sum(s.counts.get("uploaded", 0) for s in summaries),
        "not_collected": MetadataValue.json(
            [{"station": s.station_id, "run_id": s.run_id, "error": s.error} for s in failed]
        ),
    }


@op(
    # Nothing to hand on: the stations' runs stored their assets; the output carries the batch's report.
    out=Out(Nothing),
    description="Collect each station of the batch as its own collect_station run in this process, one after the "
    "other; a station that fails fails its own run, and the batch fails at the end naming it.",
)
def collect_stations_in_batch(context: OpExecutionContext, config: StationBatchConfig):
    instance = context.instance
    tune_instance_storage(instance)
    station_job = context.repository_def.get_job(COLLECT_JOB_NAME)
    tags = {"pv-media/trigger": config.trigger, BATCH_TAG: context.run_id}
    summaries = []
    cpu_before_stations = time.process_time()  # the worker's start-up (imports, definitions) is behind us
    for done, station_id in enumerate(config.stations, 1):
        summary = collect_station(station_job, instance, station_id, tags=tags)
        summaries.append(summary)
        state = "ok" if summary.ok else f"not collected: {summary.error}"
        context.log.info(f"[{done}/{len(config.stations)}] station {station_id}: {state} (run {summary.run_id or '-'})")
    report = batch_report(summaries)
    # What the batch cost this worker: to compare with PV_DAILY_BATCH_SIZE's reason for being.
    stations_cpu = time.process_time() - cpu_before_stations
    report["worker_startup_cpu_s"] = round(cpu_before_stations, 3)
    report["stations_cpu_s"] = round(stations_cpu, 3)
    report["cpu_s_per_station"] = round(stations_cpu / max(1, len(summaries)), 3)
    yield Output(None, metadata=report)
    if report["failed"]:
        names = ", ".join(s.station_id for s in summaries if not s.ok)
        # Not retried: each station's own run says why, and the next sensor tick or pass tries again.
        raise Failure(
            description=f"{report['failed']} of {report['stations']} stations not collected: {names}",
            allow_retries=False,
        )


@job(
    name=BATCH_JOB_NAME,
    description="The daily pass's unit of work: several stations in one run worker, each collected as its own "
    "collect_station run (PV_DAILY_BATCH_SIZE stations a batch).",
)
def collect_station_batch_job():
    collect_stations_in_batch()


def batch_run_request(
    stations: Sequence[str], *, run_key: str | None = None, priority: int | None = None, trigger: str = "daily"
) -> RunRequest:
    """A batch run of these stations (with `priority`, dagster/priority: the queue launches higher first)."""
    tags = {"pv-media/trigger": trigger, "pv-media/stations": str(len(stations))}
    if priority is not None:
        tags["dagster/priority"] = str(priority)
    config = {"stations": list(stations), "trigger": trigger}
    return RunRequest(
        run_key=run_key, run_config={"ops": {collect_stations_in_batch.name: {"config": config}}}, tags=tags
    )


def orphaned_station_runs(instance: Any) -> list[tuple[Any, str]]:
    """Station runs of batches that ended before them (their worker was killed, or the batch canceled):
    (run, why) for each. Nothing else would ever end them, and a run left STARTED holds its station."""
    from dagster import RunsFilter

    from pv_assets.jobs import IN_PROGRESS_STATUSES

    # A batch's station runs are created started, never queued: the (possibly long) queue is not read.
    running = [s for s in IN_PROGRESS_STATUSES if s != DagsterRunStatus.QUEUED]
    orphans = []
    for record in instance.get_run_records(RunsFilter(job_name=COLLECT_JOB_NAME, statuses=running)):
        why = batch_ended(instance, record.dagster_run)
        if why:
            orphans.append((record.dagster_run, why))
    return orphans


def end_orphaned_station_runs(instance: Any) -> list[str]:
    """Mark each orphaned station run failed; their run ids."""
    ended = []
    for run, why in orphaned_station_runs(instance):
        instance.report_run_failed(run, why)
        ended.append(run.run_id)
    return ended

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

from pv_assets.collection.nothing_new import unchanged_observation
from pv_assets.collection.unchanged import LOOK_FAILED, Unchanged, look_before_run
from pv_assets.operations.instance_pool import tune_instance_storage
from pv_assets.operations.jobs import COLLECT_JOB_NAME, IN_PROGRESS_STATUSES
from pv_assets.operations.station_run import StationRunOutcome, batch_ended, collect_station
from pv_assets.operations.tags import BATCH_RUN_TAG, BATCH_TAG, TRIGGER_TAG
from pv_model.scrub import scrub
from resources.dagster_resources import ObjectStoreResource, StationApiResource

BATCH_JOB_NAME = "collect_station_batch"


class StationBatchConfig(Config):
    stations: list[str]
    trigger: str = "daily"
    # Fetch each station's records first and leave out the run of a station whose run could change nothing.
    skip_unchanged: bool = True


def batch_report(
    summaries: Sequence[StationRunOutcome], not_reached: Sequence[str] = (), unchanged: Sequence[Unchanged] = ()
) -> dict[str, Any]:
    """What the batch run's output metadata says: counts, each station that was not collected and why."""
    failed = [s for s in summaries if not s.ok and not s.not_started]
    left = [s for s in summaries if s.not_started]
    return {
        "stations": len(summaries) + len(not_reached) + len(unchanged),
        "collected": sum(s.ok for s in summaries),
        # Looked at, and nothing its run could change: no run (an observation of infrastructure_records says so).
        "unchanged": len(unchanged),
        "failed": len(failed),
        # Another run (a sensor's, a manual one) was collecting the station: it is not collected twice.
        "left_to_a_run_in_progress": len(left),
        "not_reached": len(not_reached),  # the batch was canceled first
        "uploaded": sum(s.counts.get("uploaded", 0) for s in summaries),
        "not_collected": MetadataValue.json(
            [{"station": s.station_id, "run_id": s.run_id, "error": s.error} for s in [*failed, *left]]
            + [
                {"station": station_id, "run_id": "", "error": "the batch was canceled first"}
                for station_id in not_reached
            ]
        ),
    }


def launcher_watches_run_workers(instance: Any) -> bool:
    """Whether run monitoring asks the run launcher about each run's own worker (K8sRunLauncher: its pod).
    A station run inside a batch has no worker of its own and would be marked failed while it runs."""
    return bool(instance.run_launcher.supports_check_run_worker_health)


def collect_one(station_job: Any, instance: Any, station_id: str, tags: dict[str, str]) -> StationRunOutcome:
    """One station of the batch; whatever goes wrong around its run is that station's failure only."""
    try:
        return collect_station(station_job, instance, station_id, tags=tags)
    except Exception as exc:  # noqa: BLE001 - e.g. the partition was deleted, the database blinked
        return StationRunOutcome(station_id, False, "", error=f"{type(exc).__name__}: {scrub(str(exc))}")


def batch_canceled(instance: Any, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is None or run.status in (DagsterRunStatus.CANCELING, DagsterRunStatus.CANCELED)


@op(
    # Nothing to hand on: the stations' runs stored their assets; the output carries the batch's report.
    out=Out(Nothing),
    description="Collect each station of the batch as its own collect_station run in this process, one after the "
    "other; a station that fails fails its own run, and the batch fails at the end naming it.",
)
def collect_stations_in_batch(
    context: OpExecutionContext,
    config: StationBatchConfig,
    station_api: StationApiResource,
    object_store: ObjectStoreResource,
):
    instance = context.instance
    if launcher_watches_run_workers(instance):
        raise Failure(
            description=f"{type(instance.run_launcher).__name__} checks each run's own worker, and a station run "
            "inside a batch has none: it would be marked failed while it runs. Use PV_DAILY_BATCH_SIZE=1 (one run "
            "per station) with this run launcher.",
            allow_retries=False,
        )
    tune_instance_storage(instance)
    station_job = context.repository_def.get_job(COLLECT_JOB_NAME)
    tags = {TRIGGER_TAG: config.trigger, BATCH_TAG: context.run_id}
    summaries: list[StationRunOutcome] = []
    unchanged: list[Unchanged] = []
    looks_failed = 0
    not_reached: list[str] = []
    store = object_store.open() if config.skip_unchanged else None
    cpu_before_stations = time.process_time()  # the worker's start-up (imports, definitions) is behind us
    for done, station_id in enumerate(config.stations, 1):
        where = f"[{done}/{len(config.stations)}] station {station_id}"
        look = look_before_run(instance, station_api, store, station_id) if store is not None else "every station runs"
        if isinstance(look, Unchanged):
            unchanged.append(look)
            yield unchanged_observation(station_id, look, "the daily pass")  # written now, not when the batch ends
            context.log.info(f"{where}: unchanged, its run {look.run_id} stands")
        else:
            if look.startswith(LOOK_FAILED):
                looks_failed += 1
                context.log.warning(f"{where}: {look}; it runs")
            summary = collect_one(station_job, instance, station_id, tags)
            summaries.append(summary)
            state = "ok" if summary.ok else f"not collected: {summary.error}"
            context.log.info(f"{where}: {state} (run {summary.run_id or '-'}; it ran because {look})")
        # A cancel's interrupt lands in the station's run, which ends failed; the batch stops here.
        if done < len(config.stations) and batch_canceled(instance, context.run_id):
            not_reached = list(config.stations[done:])
            context.log.warning(f"the batch was canceled: {len(not_reached)} stations not started")
            break
    report = batch_report(summaries, not_reached, unchanged)
    report["looks_failed"] = looks_failed  # looking before a run failed: those stations ran
    # What the batch cost this worker: to compare with PV_DAILY_BATCH_SIZE's reason for being.
    stations_cpu = time.process_time() - cpu_before_stations
    report["worker_startup_cpu_s"] = round(cpu_before_stations, 3)
    report["stations_cpu_s"] = round(stations_cpu, 3)
    report["cpu_s_per_station"] = round(stations_cpu / max(1, len(summaries) + len(unchanged)), 3)
    yield Output(None, metadata=report)
    if report["failed"] or not_reached:
        names = ", ".join(s.station_id for s in summaries if not s.ok and not s.not_started)
        # Not retried: each station's own run says why, and the next sensor tick or pass tries again.
        raise Failure(
            description=f"{report['failed']} of {report['stations']} stations not collected: {names}"
            + (f"; canceled before {len(not_reached)} more" if not_reached else ""),
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
    stations: Sequence[str],
    *,
    run_key: str | None = None,
    priority: int | None = None,
    trigger: str = "daily",
    skip_unchanged: bool = True,
) -> RunRequest:
    """A batch run of these stations (with `priority`, dagster/priority: the queue launches higher first)."""
    tags = {TRIGGER_TAG: trigger, "pv-media/stations": str(len(stations)), BATCH_RUN_TAG: "true"}
    if priority is not None:
        tags["dagster/priority"] = str(priority)
    config = {"stations": list(stations), "trigger": trigger, "skip_unchanged": skip_unchanged}
    return RunRequest(
        run_key=run_key, run_config={"ops": {collect_stations_in_batch.name: {"config": config}}}, tags=tags
    )


def orphaned_station_runs(instance: Any) -> list[tuple[Any, str]]:
    """Station runs of batches that ended before them (their worker was killed, or the batch canceled):
    (run, why) for each. Nothing else would ever end them, and a run left STARTED holds its station."""
    from dagster import RunsFilter

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

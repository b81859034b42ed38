"""The gallery sensor: once station runs have written new gallery pieces, or a station's run has failed,
merge the index (the same run writes the station-health table the overview reads).

One run per burst of station runs, not one per station: the cursor holds the storage ids of the last
gallery_piece materialization and of the last failed collect_station run that a requested run covers.
"""

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from pv_assets.operations.jobs import COLLECT_JOB_NAME, GALLERY_JOB_NAME, gallery_index_job
from pv_assets.operations.tags import TRIGGER_TAG


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    """(last piece, last failed station run) covered; a cursor of the earlier form holds the piece alone."""
    if not cursor:
        return 0, 0
    piece, _, failed = cursor.partition(":")
    return int(piece), int(failed or 0)


@sensor(
    job=gallery_index_job,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a gallery_index run (with the station-health table) when gallery_piece has new "
    "materializations, or a station's collection failed, since the last request (one run covers every station "
    "that finished in between).",
)
def gallery_index_sensor(context: SensorEvaluationContext):
    latest = context.instance.fetch_materializations(AssetKey("gallery_piece"), limit=1).records
    if not latest:
        return SkipReason("no station has a gallery piece yet")
    storage_id = latest[0].storage_id
    failed_runs = context.instance.get_run_records(
        RunsFilter(job_name=COLLECT_JOB_NAME, statuses=[DagsterRunStatus.FAILURE]), limit=1
    )
    failed_id = failed_runs[0].storage_id if failed_runs else 0
    seen_piece, seen_failed = parse_cursor(context.cursor)
    if storage_id <= seen_piece and failed_id <= seen_failed:
        # Pieces now change only when a station's data does (the daily pass leaves unchanged stations out), so
        # an index run that failed would otherwise wait for the next change: it is asked for again.
        last_runs = context.instance.get_runs(RunsFilter(job_name=GALLERY_JOB_NAME), limit=1)
        if last_runs and last_runs[0].status == DagsterRunStatus.FAILURE:
            failed = last_runs[0].run_id
            return RunRequest(run_key=f"gallery-{storage_id}-after-{failed}", tags={TRIGGER_TAG: "index-run-failed"})
        return SkipReason("the gallery index and the station health are up to date")
    context.update_cursor(f"{storage_id}:{failed_id}")
    # A failed station writes no piece: without this its overview row would keep its last success.
    trigger = "new-gallery-pieces" if storage_id > seen_piece else "failed-station-runs"
    return RunRequest(run_key=f"gallery-{storage_id}-{failed_id}", tags={TRIGGER_TAG: trigger})

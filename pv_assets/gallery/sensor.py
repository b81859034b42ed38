"""The gallery sensor: once station runs have written new gallery pieces, merge them into the index.

One run per burst of station runs, not one per station: the cursor is the storage id of the last
gallery_piece materialization that a requested index run covers.
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

from pv_assets.operations.jobs import GALLERY_JOB_NAME, gallery_index_job
from pv_assets.operations.tags import TRIGGER_TAG


@sensor(
    job=gallery_index_job,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a gallery_index run when gallery_piece has new materializations since the last request "
    "(one run covers every station that finished in between).",
)
def gallery_index_sensor(context: SensorEvaluationContext):
    latest = context.instance.fetch_materializations(AssetKey("gallery_piece"), limit=1).records
    if not latest:
        return SkipReason("no station has a gallery piece yet")
    storage_id = latest[0].storage_id
    if context.cursor and int(context.cursor) >= storage_id:
        # Pieces now change only when a station's data does (the daily pass leaves unchanged stations out), so
        # an index run that failed would otherwise wait for the next change: it is asked for again.
        last_runs = context.instance.get_runs(RunsFilter(job_name=GALLERY_JOB_NAME), limit=1)
        if last_runs and last_runs[0].status == DagsterRunStatus.FAILURE:
            failed = last_runs[0].run_id
            return RunRequest(run_key=f"gallery-{storage_id}-after-{failed}", tags={TRIGGER_TAG: "index-run-failed"})
        return SkipReason("the gallery index is up to date with every piece")
    context.update_cursor(str(storage_id))
    return RunRequest(run_key=f"gallery-{storage_id}", tags={TRIGGER_TAG: "new-gallery-pieces"})

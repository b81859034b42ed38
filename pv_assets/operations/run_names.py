"""The names and states by which runs are found: constants with no asset behind them, so that the code that
reads the run history (the health table, the station lock) needs no job definition."""

from dagster import DagsterRunStatus

COLLECT_JOB_NAME = "collect_station"
GALLERY_JOB_NAME = "build_gallery_index"
# A run in one of these states still holds its station: nobody starts another for it.
IN_PROGRESS_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]

"""Ends the station runs that a batch run left behind when its worker died or it was canceled.

A station run executed inside a batch run has no run worker of its own, so neither the code server
nor run monitoring watches it; left STARTED it would hold its station (the run queue's one-run-per-
station limit) for ever. This sensor marks such runs failed soon after their batch ended.
"""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from pv_assets.operations.batch import end_orphaned_station_runs


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Marks failed the station runs of a daily batch whose batch run ended before them (a killed or "
    "canceled batch), so the station is free for the next run.",
)
def orphaned_batch_runs_sensor(context: SensorEvaluationContext):
    ended = end_orphaned_station_runs(context.instance)
    if ended:
        context.log.warning(f"marked {len(ended)} station runs of ended batches failed: {', '.join(ended)}")
        return SkipReason(f"marked {len(ended)} orphaned station runs failed")
    return SkipReason("no station run outlived its batch")

"""The job that collects one station partition, and the tag its runs carry."""

from dagster import AssetSelection, RunRequest, define_asset_job

from pv_assets.assets import COLLECTION_ASSETS

COLLECT_JOB_NAME = "collect_station"
STATION_TAG = "pv-media/station"

collect_station_job = define_asset_job(
    COLLECT_JOB_NAME,
    selection=AssetSelection.assets(*COLLECTION_ASSETS),
    description="Collect one station: login, records, manifest, media, and their checks.",
)


def station_run_request(
    station_id: str, trigger: str, run_key: str | None = None, priority: int | None = None
) -> RunRequest:
    """A run of one station, tagged so the instance's run limits allow one per station at a time
    (and, with `priority`, dagster/priority: the queue launches higher priorities first)."""
    tags = {STATION_TAG: station_id, "pv-media/trigger": trigger}
    if priority is not None:
        tags["dagster/priority"] = str(priority)
    return RunRequest(partition_key=station_id, run_key=run_key, tags=tags)

"""The job that collects one station partition, and the tag its runs carry."""

from dagster import AssetSelection, RunRequest, define_asset_job

from pv_assets.gallery.health import station_health
from pv_assets.lineage import STATION_ASSETS, gallery_index, photo_evidence
from pv_assets.operations.run_names import COLLECT_JOB_NAME, GALLERY_JOB_NAME, IN_PROGRESS_STATUSES
from pv_assets.operations.tags import station_tags

__all__ = ["COLLECT_JOB_NAME", "GALLERY_JOB_NAME", "IN_PROGRESS_STATUSES", "collect_station_job", "gallery_index_job"]

collect_station_job = define_asset_job(
    COLLECT_JOB_NAME,
    selection=AssetSelection.assets(*STATION_ASSETS),
    description="Collect one station: login, records, manifest, media, previews and photo facts, its gallery and "
    "evidence pieces, and their checks.",
)
gallery_index_job = define_asset_job(
    GALLERY_JOB_NAME,
    selection=AssetSelection.assets(gallery_index, station_health, photo_evidence),
    description="Merge the stations' gallery pieces into the one index file the viewer reads, and write every "
    "station's health beside it, and draw the group's photo evidence from the stations' evidence pieces.",
)


def station_run_request(
    station_id: str, trigger: str, run_key: str | None = None, priority: int | None = None
) -> RunRequest:
    """A run of one station, tagged so the instance's run limits allow one per station at a time
    (and, with `priority`, dagster/priority: the queue launches higher priorities first)."""
    tags = station_tags(station_id, trigger)
    if priority is not None:
        tags["dagster/priority"] = str(priority)
    return RunRequest(partition_key=station_id, run_key=run_key, tags=tags)

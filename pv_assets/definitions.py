"""The Dagster definitions of pv-media: `dagster dev -w workspace.yaml` loads `defs`.

`defs` is built when Dagster loads it, not at import: settings come from the environment of the
process that loads the code, and that process installs the log masking first.
"""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, definitions, in_process_executor, with_source_code_references

from pv_assets.gallery.completeness_check import required_photos_complete
from pv_assets.gallery.health import station_health
from pv_assets.gallery.sensor import gallery_index_sensor
from pv_assets.io_manager import ObjectStoreIOManager
from pv_assets.lineage import ALL_ASSETS
from pv_assets.operations.batch import collect_station_batch_job
from pv_assets.operations.batch_sensor import orphaned_batch_runs_sensor
from pv_assets.operations.deployment import DeploymentError, deployment_mode, local_store_refusal
from pv_assets.operations.jobs import COLLECT_JOB_NAME, GALLERY_JOB_NAME, collect_station_job, gallery_index_job
from pv_assets.operations.progress import ProgressResource
from pv_assets.operations.schedules import build_daily_full_refresh
from pv_assets.operations.sensors import station_change_sensor, station_registry_sensor
from pv_assets.operations.tags import STATION_TAG
from resources import log_masking
from resources.dagster_resources import ObjectStoreResource, StationApiResource, object_store_from_env
from resources.settings import Settings, settings

__all__ = ["COLLECT_JOB_NAME", "GALLERY_JOB_NAME", "STATION_TAG", "defs", "make_definitions"]


def store_for(knobs: Settings) -> ObjectStoreResource:
    """The store of the settings - which production (PV_DEPLOYMENT=production) refuses when it is the local
    directory: run workers on two hosts would not share it."""
    if not knobs.minio_endpoint and deployment_mode() == "production":
        raise DeploymentError(local_store_refusal("PV_DEPLOYMENT=production and MINIO_ENDPOINT is not set"))
    return object_store_from_env(knobs)


def make_definitions(
    *,
    station_api: StationApiResource | None = None,
    object_store: ObjectStoreResource | None = None,
    progress: ProgressResource | None = None,
) -> Definitions:
    log_masking.install()
    # Source code references are a beta API that pv-media uses knowingly: its warnings (one per asset, again at
    # every materialization) would bury the CLI's output.
    warnings.filterwarnings("ignore", category=BetaWarning)
    knobs = settings()
    store = object_store or store_for(knobs)
    return Definitions(
        # Source references: the UI shows where each asset is defined.
        assets=with_source_code_references([*ALL_ASSETS, station_health]),
        asset_checks=[required_photos_complete],
        jobs=[collect_station_job, collect_station_batch_job, gallery_index_job],
        sensors=[station_registry_sensor, station_change_sensor, gallery_index_sensor, orphaned_batch_runs_sensor],
        schedules=[build_daily_full_refresh(knobs.refresh_cron, knobs.refresh_timezone, knobs.daily_batch_size)],
        resources={
            "station_api": station_api or StationApiResource(),
            "object_store": store,
            "io_manager": ObjectStoreIOManager(object_store=store),
            "progress": progress or ProgressResource(),
        },
        # One process per run: the steps share the station client, so its token stays in memory only.
        executor=in_process_executor,
    )


@definitions
def defs() -> Definitions:
    return make_definitions()

"""The Dagster definitions of pv-media: `dagster dev -w workspace.yaml` loads `defs`."""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar, in_process_executor

from pv_assets.assets import COLLECTION_ASSETS
from pv_assets.deployment import DeploymentError, deployment_mode, local_store_refusal
from pv_assets.io_manager import ObjectStoreIOManager
from pv_assets.jobs import COLLECT_JOB_NAME, STATION_TAG, collect_station_job
from pv_assets.schedules import daily_full_refresh
from pv_assets.sensors import station_change_sensor, station_registry_sensor
from pv_assets.settings import local_store_root
from resources import LocalStoreResource, MinioResource, ObjectStoreResource, StationApiResource

__all__ = ["COLLECT_JOB_NAME", "STATION_TAG", "defs", "make_definitions"]


def object_store_from_env() -> ObjectStoreResource:
    """MinIO when MINIO_ENDPOINT is set (keys as EnvVar, read at run time), else the local directory store -
    which production (PV_DEPLOYMENT=production) refuses: run workers on two hosts would not share it."""
    if os.environ.get("MINIO_ENDPOINT"):
        return MinioResource(
            endpoint=EnvVar("MINIO_ENDPOINT"),
            access_key=EnvVar("MINIO_ACCESS_KEY"),
            secret_key=EnvVar("MINIO_SECRET_KEY"),
            bucket=os.environ.get("MINIO_BUCKET") or "pv-media",
            secure=os.environ.get("MINIO_SECURE", "false").strip().lower() in ("1", "true", "yes"),
        )
    if deployment_mode() == "production":
        raise DeploymentError(local_store_refusal("PV_DEPLOYMENT=production and MINIO_ENDPOINT is not set"))
    return LocalStoreResource(root=str(local_store_root()))


def make_definitions(
    *, station_api: StationApiResource | None = None, object_store: ObjectStoreResource | None = None
) -> Definitions:
    store = object_store or object_store_from_env()
    return Definitions(
        assets=COLLECTION_ASSETS,
        jobs=[collect_station_job],
        sensors=[station_registry_sensor, station_change_sensor],
        schedules=[daily_full_refresh],
        resources={
            "station_api": station_api or StationApiResource(),
            "object_store": store,
            "io_manager": ObjectStoreIOManager(object_store=store),
        },
        # One process per run: the steps share the station client, so its token stays in memory only.
        executor=in_process_executor,
    )


defs = make_definitions()

"""Dagster resources of pv-media: the station cloud API and the object store."""

from resources import log_masking
from resources.object_store import LocalStoreResource, MinioResource, ObjectStoreResource
from resources.station_api import StationApiResource

log_masking.install()

__all__ = ["LocalStoreResource", "MinioResource", "ObjectStoreResource", "StationApiResource"]

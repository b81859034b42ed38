"""The station cloud API client and the object store, and their Dagster resources.

The Dagster resources are loaded on first use (PEP 562), so `import resources.station_api`
does not import Dagster: the media path stays light where it runs alone (the benchmark).
"""

from resources import log_masking

log_masking.install()

_DAGSTER_RESOURCES = {"LocalStoreResource", "MinioResource", "ObjectStoreResource", "StationApiResource"}
__all__ = sorted(_DAGSTER_RESOURCES)


def __getattr__(name: str):
    if name in _DAGSTER_RESOURCES:
        from resources import dagster_resources

        return getattr(dagster_resources, name)
    raise AttributeError(f"module 'resources' has no attribute {name!r}")

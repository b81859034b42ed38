"""The edges of pv-media: the station protocol and client, the object store, the station
registry, the Dagster resources, and the pure helpers those edges need. Nothing here imports
`pv_assets`, and importing changes nothing: the process that starts (the Dagster definitions,
the CLI) calls `resources.log_masking.install()` itself.

The Dagster resources are loaded on first use (PEP 562), so `import resources.station_api`
does not import Dagster: the media path stays light where it runs alone (the benchmark).
"""

_DAGSTER_RESOURCES = {"LocalStoreResource", "MinioResource", "ObjectStoreResource", "StationApiResource"}
__all__ = sorted(_DAGSTER_RESOURCES)


def __getattr__(name: str):
    if name in _DAGSTER_RESOURCES:
        from resources import dagster_resources

        return getattr(dagster_resources, name)
    raise AttributeError(f"module 'resources' has no attribute {name!r}")

"""Merging the gallery pieces into the index from the command line, after the station runs."""

from __future__ import annotations

from typing import Any

from pv_assets.operations.tags import TRIGGER_TAG


def build_gallery_index(instance: Any, stations_file: str) -> dict[str, Any] | None:
    """One run of gallery_index in this process; its metadata, or None when the run failed."""
    from pv_assets.definitions import GALLERY_JOB_NAME, make_definitions
    from resources.dagster_resources import StationApiResource

    defs = make_definitions(station_api=StationApiResource(stations_file=stations_file))
    result = defs.resolve_job_def(GALLERY_JOB_NAME).execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={TRIGGER_TAG: "cli"},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    if not result.success:
        return None
    metadata = result.asset_materializations_for_node("gallery_index")[0].metadata
    return {key: value.value for key, value in metadata.items()}

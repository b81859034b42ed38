"""uploaded_media: S4-S8, d2, e-g - download, stage, check, upload, delete; one outcome per item."""

import time

import pandas as pd
from dagster import AssetExecutionContext, Failure, MetadataValue, asset

from pv_assets.collector import FAILED, StationCollector
from pv_assets.partitions import station_partitions
from pv_assets.settings import staging_root
from pv_assets.staging import clean_stale, run_staging_dir
from resources.object_store import ObjectStoreError, ObjectStoreResource
from resources.station_api import StationApiResource


@asset(
    partitions_def=station_partitions,
    group_name="collection",
    kinds={"minio", "pandas", "parquet"},
    code_version="1",
    owners=["team:pv-media"],
    description=(
        "For each manifest row: skip it when its object is already stored (one listing, no download); else "
        "d2/S4-S5/e: stream the download into a per-run staging file (timeouts, size cap, SSRF guard, type "
        "decided from the first bytes); f/S6: upload to the object store under {region}/{station}/"
        "{id}_{urlhash8}{.ext} with provenance metadata; g/S7: delete the staging file; S8: loop until every "
        "item is done. One row per item: uploaded, skipped or failed with the reason - a failed item never "
        "fails the station."
    ),
)
def uploaded_media(
    context: AssetExecutionContext,
    media_manifest: pd.DataFrame,
    station_api: StationApiResource,
    object_store: ObjectStoreResource,
) -> pd.DataFrame:
    station_id = context.partition_key
    station = station_api.station(station_id)
    client = station_api.client(station_id)
    store = object_store.open()
    root = staging_root()
    removed = clean_stale(root)
    if removed:
        context.log.info(f"removed {len(removed)} stale staging directories of dead runs")
    started = time.monotonic()
    collector = StationCollector(
        client, store, root, context.run.run_id, workers=station.max_connections, log=context.log.info
    )
    try:
        with run_staging_dir(root, context.run.run_id) as staging_dir:
            collector.staging_dir = staging_dir
            outcomes = collector.run(media_manifest)
    except ObjectStoreError as exc:
        raise Failure(
            description=f"station {station_id}: {exc}; nothing was half-written, the next run stores what is missing"
        ) from None
    tally = collector.tally
    failures = outcomes.loc[outcomes["outcome"] == FAILED, "reason"].str.split(":").str[0].value_counts()
    context.add_output_metadata(
        {
            "media_items": len(outcomes),
            "uploaded": tally.uploaded,
            "skipped": tally.skipped,
            "failed": tally.failed,
            "bytes": tally.bytes,
            "failures_by_reason": MetadataValue.json({str(k): int(v) for k, v in failures.items()}),
            "object_store": store.describe(),
            "duration_s": round(time.monotonic() - started, 3),
        }
    )
    return outcomes

"""uploaded_media: download, stage, check, upload, delete; one outcome per item."""

import time
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.collection.checks import (
    check_no_failed_items,
    check_specs,
    check_stored_objects_match,
    failures_by_reason,
)
from pv_assets.collection.collector import StationCollector, stored_listing
from pv_assets.collection.staging import clean_stale, run_staging_dir
from pv_assets.metadata import frame_metadata
from pv_assets.operations.progress import ProgressResource
from pv_assets.operations.station_lock import StationBusy, station_lock
from resources.dagster_resources import ObjectStoreResource, StationApiResource
from resources.keys import key_prefix
from resources.object_store import ObjectStoreError
from resources.settings import settings, staging_root
from resources.station_api import LoginFailed

UPLOAD_POOL = "minio_uploads"
PREVIEW_COLUMNS = ["record_id", "id_card_masked", "media_field", "outcome", "reason", "object_key", "size"]


@asset(
    **collection_asset(
        kinds={"minio", "pandas", "parquet"},
        # At most the pool's limit of stations upload at once (instance config `concurrency.pools`; the
        # embedded SQLite instance does not enforce pools).
        pool=UPLOAD_POOL,
        check_specs=check_specs("uploaded_media"),
        description=(
            "Each photo and video of the manifest in the object store. An item already stored is skipped (one "
            "listing, no download); any other is downloaded into a staging file of this run (timeouts, size cap, "
            "only public addresses, the type decided from the first bytes), uploaded under {region}/{station}/"
            "{id}_{urlhash8}{.ext} with where it came from, and its staging file deleted. One row per item: "
            "uploaded, skipped or failed with the reason - a failed item never fails the station."
        ),
    )
)
def uploaded_media(
    context: AssetExecutionContext,
    media_manifest: pd.DataFrame,
    station_api: StationApiResource,
    object_store: ObjectStoreResource,
    progress: ProgressResource,
):
    station_id = context.partition_key
    station = station_api.station(station_id)
    client = station_api.client(station_id)
    store = object_store.open()
    root = staging_root()
    removed = clean_stale(root)
    if removed:
        context.log.info(f"removed {len(removed)} stale staging directories of dead runs")
    started = time.monotonic()
    run_id = context.run.run_id
    try:
        # Runs launched by the daemon take the station's lock here; the CLI already holds it (re-entrant).
        lock_home = Path(context.instance.root_directory)  # DAGSTER_HOME for a persistent instance
        with station_lock(station_id, lock_home), run_staging_dir(root, run_id) as staging_dir:
            collector = StationCollector(
                client,
                store,
                staging_dir,
                run_id,
                # While some workers upload to the store, the others keep every station connection busy
                # downloading (the client's slots still cap connections to the station).
                workers=settings().workers_per_connection * station.max_connections,
                log=context.log.info,
                on_progress=progress.report,
                progress_every_s=progress.log_every_s,
            )
            outcomes = collector.run(media_manifest)
        collect_seconds = time.monotonic() - started
        check_started = time.monotonic()
        # The store as it is now: the run's first listing suffices unless this run uploaded something.
        uploaded_now = collector.tally.uploaded > 0
        listing = stored_listing(store, outcomes["object_key"].dropna()) if uploaded_now else collector.stored_before
    except ObjectStoreError as exc:
        raise Failure(
            description=f"station {station_id}: {exc}; nothing was half-written, the next run stores what is missing"
        ) from None
    except LoginFailed as exc:
        raise Failure(description=f"{exc}; what was stored before stays, the next run goes on from there") from None
    except StationBusy as exc:
        raise Failure(description=f"{exc}; this run fetched nothing, so nothing is fetched twice") from None
    tally = collector.tally
    prefixes = sorted({key_prefix(k) for k in outcomes["object_key"].dropna()})
    yield Output(
        outcomes,
        metadata={
            "media_items": len(outcomes),
            "uploaded": tally.uploaded,
            "skipped": tally.skipped,
            "failed": tally.failed,
            "bytes": tally.bytes,
            "failures_by_reason": MetadataValue.json(failures_by_reason(outcomes)),
            "object_store": store.describe(),
            "object_prefix": prefixes[0] if len(prefixes) == 1 else ", ".join(prefixes) or "(none)",
            "duration_s": round(collect_seconds, 3),  # skip, download, check, upload, delete
            "check_listing_s": round(time.monotonic() - check_started, 3),
            **frame_metadata(outcomes, PREVIEW_COLUMNS),
        },
    )
    yield check_no_failed_items(outcomes)
    yield check_stored_objects_match(outcomes, listing)

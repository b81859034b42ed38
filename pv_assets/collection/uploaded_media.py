"""uploaded_media and media_previews, one step: S4-S8, d2, e-g - download, stage, check, upload, delete; one
outcome per item - and each stored photo's previews made from its staging file meanwhile.

Why one step (a multi_asset): previews made after the last download read every file back from the store
and started only when the downloads were done; made while the bytes are in staging, they overlap the
downloads and read nothing twice. The two stay two assets - their own tables, metadata, checks and
lineage (media_previews depends on uploaded_media) - and a preview failure is a row, never a failed station.
"""

import time
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, Failure, MetadataValue, Output, multi_asset

from pv_assets.collection.asset_options import CODE_VERSION
from pv_assets.collection.checks import (
    check_no_failed_items,
    check_specs,
    check_stored_objects_match,
    failures_by_reason,
)
from pv_assets.collection.collector import StationCollector, stored_listing
from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.collection.records_fetch import CannotCollect
from pv_assets.collection.secret_links import needs_links, restore_links
from pv_assets.collection.staging import clean_stale, run_staging_dir
from pv_assets.evidence.photo_facts import StagedFacts
from pv_assets.evidence.station import PHOTO_FACTS_DESCRIPTION, facts_output, previous_facts
from pv_assets.gallery.assets import PREVIEWS_DESCRIPTION, previews_output, previous_previews
from pv_assets.gallery.previews import checks as preview_checks
from pv_assets.gallery.previews.builder import listed_preview_keys
from pv_assets.gallery.staged_previews import StagedPreviews
from pv_assets.metadata import frame_metadata
from pv_assets.operations.progress import ProgressResource
from pv_assets.operations.station_lock import StationBusy, station_lock
from pv_assets.partitions import station_partitions
from pv_model.keys import key_prefix
from resources.dagster_resources import ObjectStoreResource, StationApiResource
from resources.object_store import ObjectStoreError
from resources.settings import settings, staging_root
from resources.station_api import LoginFailed, StationApiError

UPLOAD_POOL = "minio_uploads"
PREVIEW_COLUMNS = ["record_id", "id_card_masked", "media_field", "outcome", "reason", "object_key", "size"]


UPLOADED_MEDIA_DESCRIPTION = (
    "For each manifest row: skip it when its object is already stored (one listing, no download); else "
    "stream the download into a per-run staging file (timeouts, size cap, SSRF guard, type decided from the "
    "first bytes), upload it to the object store under {region}/{station}/{id}_{urlhash8}{.ext} with its "
    "provenance, and delete the staging file once its previews are made. One row per item: uploaded, skipped "
    "or failed with the reason - a failed item never fails the station."
)
SHARED = {"partitions_def": station_partitions, "code_version": CODE_VERSION, "owners": ["team:pv-media"]}


def last_preview_rows(context: AssetExecutionContext, store, station_id: str) -> dict[str, dict]:
    """The station's last preview rows; none (with a warning) when they cannot be read - they only spare
    re-reading what is known, and a preview problem must never stop the collection."""
    try:
        return previous_previews(store, station_id)
    except ObjectStoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a damaged Parquet file: the previews are listed anyway
        context.log.warning(f"the last media_previews table could not be read ({type(exc).__name__}): "
                            "skipped items keep no dimensions this run")  # fmt: skip
        return {}


@multi_asset(
    specs=[
        AssetSpec(
            "uploaded_media",
            deps=["media_manifest"],
            group_name="collection",
            kinds={"minio", "pandas", "parquet"},
            description=UPLOADED_MEDIA_DESCRIPTION,
            **SHARED,
        ).with_io_manager_key("io_manager"),  # a table through the IO manager (a spec alone outputs nothing)
        AssetSpec(
            "photo_facts",
            deps=["uploaded_media"],
            group_name="evidence",
            kinds={"minio", "pandas", "parquet"},
            description=PHOTO_FACTS_DESCRIPTION,
            **SHARED,
        ).with_io_manager_key("io_manager"),
        AssetSpec(
            "media_previews",
            deps=["uploaded_media"],
            group_name="gallery",
            kinds={"minio", "pandas", "parquet"},
            description=PREVIEWS_DESCRIPTION,
            **SHARED,
        ).with_io_manager_key("io_manager"),
    ],
    check_specs=[*check_specs("uploaded_media"), *preview_checks.check_specs("media_previews")],
    partitions_def=station_partitions,
    # At most the pool's limit of stations upload at once (instance config `concurrency.pools`; the
    # embedded SQLite instance does not enforce pools).
    pool=UPLOAD_POOL,
    name="uploaded_media",
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
    manifest_rows = plain_rows(media_manifest)
    if needs_links(manifest_rows):  # a manifest read from the store: its links' credentials were not kept
        try:
            manifest_rows = restore_links(manifest_rows, station, client)
        except (StationApiError, CannotCollect) as exc:
            raise Failure(description=f"{exc}; the links are read again from the station (the stored manifest "
                                      "keeps no credential of a link)") from None  # fmt: skip
        media_manifest = pd.DataFrame(manifest_rows, columns=media_manifest.columns)
        context.log.info("the stored manifest keeps no credential of a link: links read again from the station")
    try:
        # Runs launched by the daemon take the station's lock here; the CLI already holds it (re-entrant).
        lock_home = Path(context.instance.root_directory)  # DAGSTER_HOME for a persistent instance
        with station_lock(station_id, lock_home), run_staging_dir(root, run_id) as staging_dir:
            # The run's one listing of the station's previews, and their last rows (a skipped item keeps its sizes).
            stems = [row["key_stem"] for row in manifest_rows if row.get("key_stem")]
            previous = last_preview_rows(context, store, station_id)
            facts = StagedFacts(previous_facts(store, station_id), max_pixels=settings().preview_max_pixels)
            previews = StagedPreviews(
                store,
                listed_preview_keys(store, stems) if stems else set(),
                previous,
                max_pixels=settings().preview_max_pixels,
                log=context.log.info,
                facts=facts,  # the evidence facts from the same staging files
            )
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
                on_stored=previews.take,  # previews from the staging file, while the downloads go on
            )
            try:
                outcomes = collector.run(media_manifest)
                collect_seconds = time.monotonic() - started
                preview_rows, preview_tally = previews.finish(plain_rows(outcomes))
                facts_rows, facts_tally = facts.finish(store, plain_rows(outcomes))
            finally:
                previews.close()
        previews_seconds = time.monotonic() - started
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
        output_name="uploaded_media",
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
    previews_out, previews_check = previews_output(
        store, station_id, preview_rows, preview_tally, previous, previews_seconds
    )
    yield previews_out
    yield facts_output(facts_rows, facts_tally)
    yield check_no_failed_items(outcomes)
    yield check_stored_objects_match(outcomes, listing)
    yield previews_check

"""media_previews' table and metadata (the asset is made in uploaded_media's step:
pv_assets/collection/uploaded_media.py),
gallery_piece (per station) and gallery_index (all stations): what a viewer needs.

How the fan-in is modelled, and why: an unpartitioned asset that *loads* the partitioned
media_previews (AllPartitionMapping) would read every station's table on every rebuild - 10,000
reads for one changed station. Instead each station's run writes its own piece of the index
(gallery_piece, per station partition, beside its previews), and gallery_index only *depends* on
the pieces (deps, no input loading): it lists the pieces once and re-reads only those whose etag
changed since the whole file was written (pv_assets/gallery/previews/gallery_store.py). gallery_index is
unpartitioned, so it cannot join the per-station collect job; the gallery sensor runs it after
station runs have written new pieces.
"""

import base64
import contextlib
import time
from collections.abc import Iterable

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, Output, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.collection.typed_columns import PREVIEW_TYPES, typed
from pv_assets.gallery.previews import checks
from pv_assets.gallery.previews.builder import PreviewTally, listed_preview_keys
from pv_assets.gallery.previews.gallery import gallery_rows
from pv_assets.gallery.previews.gallery_store import (
    INDEX_KEY,
    piece_key,
    previous_collected_at,
    update_index,
    write_piece,
)
from pv_assets.gallery.previews.plan import PREVIEW_COLUMNS, PREVIEW_CONTENT_TYPE, contact_sheet_key, region_station_of
from pv_assets.gallery.previews.render import contact_sheet
from pv_assets.io_manager import audit_key, parquet_to_frame
from pv_assets.metadata import frame_metadata
from pv_model.gallery_contract import station_page_url
from resources.dagster_resources import ObjectStoreResource, StationApiResource
from resources.object_store import ObjectStore
from resources.settings import settings

SHOWN_COLUMNS = ["record_id", "item_id", "media_kind", "preview_outcome", "width", "height", "preview_problem"]
CONTACT_SHEET_THUMBS = 12  # 4 x 3
DATA_URI_LIMIT = 48 * 1024  # bigger sheets are linked by key only, not inlined in the event log


def previous_previews(store: ObjectStore, station_id: str) -> dict[str, dict]:
    """The last preview rows of the station, by item id: a skipped item keeps its dimensions."""
    try:
        frame = parquet_to_frame(store.get_bytes(audit_key("media_previews", station_id, ".parquet")))
    except KeyError:
        return {}
    return {row["item_id"]: row for row in plain_rows(frame)}


def gallery_link(station_id: str) -> dict:
    """The station's gallery page, when the gallery's public address is configured (PV_GALLERY_PUBLIC_URL)."""
    url = station_page_url(settings().gallery_public_url, station_id)
    return {"gallery": MetadataValue.url(url)} if url else {}


def _sheet_thumbs(rows: Iterable[dict]) -> list[str]:
    keys = [r.get("thumb_key") or r.get("poster_key") for r in rows]
    return [k for k in keys if k][:CONTACT_SHEET_THUMBS]


def _contact_sheet_metadata(store: ObjectStore, rows: list[dict], station_id: str, *, rebuild: bool) -> dict:
    """The station's contact sheet, drawn again only when `rebuild` (else the stored one: a daily pass over
    unchanged stations reads one object instead of twelve thumbnails)."""
    keys = _sheet_thumbs(rows)
    if not keys:
        return {}
    region, _station = region_station_of(rows[0]["object_key"])
    key = contact_sheet_key(region, station_id)
    sheet = None
    if not rebuild:
        with contextlib.suppress(KeyError):
            sheet = store.get_bytes(key)
    if sheet is None:
        sheet = contact_sheet([store.get_bytes(k) for k in keys])
        store.put_bytes(key, sheet, PREVIEW_CONTENT_TYPE)
    meta = {"contact_sheet_key": key}
    if len(sheet) <= DATA_URI_LIMIT:
        encoded = base64.b64encode(sheet).decode("ascii")
        meta["contact_sheet"] = MetadataValue.md(f"![contact sheet of {station_id}](data:image/webp;base64,{encoded})")
    return meta


PREVIEWS_DESCRIPTION = (
    "For every stored photo a thumbnail (long side 320) and a medium rendition (long side 1280), EXIF "
    "orientation applied, no EXIF/GPS kept; for every stored video a poster frame (about 1 s in) with its "
    "duration and size. WebP under _pv-media/previews/{region}/{station}/{item_id}/. Made in the same step as "
    "uploaded_media, from each file while it is still in staging (no second read), overlapping the downloads; "
    "what was stored before gets its missing previews from the store. One listing decides what exists: a re-run "
    "reads no original whose previews are there. An undecodable file is a row with its reason, never a failed "
    "station."
)


def previews_output(
    store: ObjectStore, station_id: str, rows: list[dict], tally: PreviewTally, previous: dict, seconds: float
) -> tuple[Output, AssetCheckResult]:
    """media_previews' output (its table and metadata) and its check, from the rows of the run."""
    # Drawn again when a thumbnail was built or the sheet would show other thumbnails than last time.
    same_sheet = tally.built == 0 and _sheet_thumbs(rows) == _sheet_thumbs(previous.values())
    frame = typed(pd.DataFrame(rows, columns=PREVIEW_COLUMNS), PREVIEW_TYPES)
    # The store as it is now: the run's one listing suffices unless this run wrote previews.
    keys = [r["object_key"] for r in rows]
    listed = listed_preview_keys(store, keys) if tally.built else set(tally.listed_keys)
    output = Output(
        frame,
        output_name="media_previews",
        metadata={
            "objects": len(rows),
            "built": tally.built,
            "built_from_staging": tally.built_from_staging,
            "skipped": tally.skipped,
            "failed": tally.failed,
            "photos": sum(r["media_kind"] == "photo" for r in rows),
            "videos": sum(r["media_kind"] == "video" for r in rows),
            "preview_bytes_written": tally.preview_bytes,
            "original_bytes_read": tally.original_bytes_read,
            "duration_s": round(seconds, 3),  # from the step's start: the previews overlap the collection
            **_contact_sheet_metadata(store, rows, station_id, rebuild=not same_sheet),
            **gallery_link(station_id),
            **frame_metadata(frame, SHOWN_COLUMNS),
        },
    )
    return output, checks.check_every_object_has_previews(rows, listed)


@asset(
    **collection_asset(
        kinds={"minio", "parquet"},
        group_name="gallery",
        check_specs=checks.check_specs("gallery_piece"),
        description=(
            "The station's rows of the gallery index (one per media item of a picked-up record, one per picked-up "
            "record without media): record fields without personal ones, masked ID number, opaque item id, preview "
            "keys, size, dimensions, duration. Written to _pv-media/gallery/stations/{station}.parquet for "
            "gallery_index to merge."
        ),
    )
)
def gallery_piece(
    context: AssetExecutionContext,
    infrastructure_records: pd.DataFrame,
    uploaded_media: pd.DataFrame,
    media_previews: pd.DataFrame,
    station_api: StationApiResource,
    object_store: ObjectStoreResource,
) -> MaterializeResult:
    station_id = context.partition_key
    station = station_api.station(station_id)
    store = object_store.open()
    outcomes = plain_rows(uploaded_media)
    rows = gallery_rows(
        plain_rows(infrastructure_records),
        outcomes,
        plain_rows(media_previews),
        station_name=station.name,
        accepted_statuses=station.accepted_pickup_status,
        previous_collected_at=previous_collected_at(store, station_id),
        region_names=station_api.registry().region_names,
        required_photo_types=station_api.registry().required_photo_types(station),
    )
    key, size = write_piece(store, station_id, rows)
    statuses = pd.Series([r["status"] for r in rows], dtype=object).value_counts().to_dict()
    return MaterializeResult(
        metadata={
            "rows": len(rows),
            "stored": int(statuses.get("stored", 0)),
            "failed": int(statuses.get("failed", 0)),
            "records_without_media": int(statuses.get("none", 0)),
            "piece_key": key,
            "piece_bytes": size,
            **gallery_link(station_id),
        },
        check_results=[checks.check_piece_matches_stored_objects(rows, outcomes)],
    )


@asset(
    deps=[AssetKey("gallery_piece")],
    group_name="gallery",
    code_version="1",
    owners=["team:pv-media"],
    kinds={"minio", "parquet"},
    check_specs=checks.check_specs("gallery_index"),
    description=(
        "The gallery index over every station that has a piece: one Parquet file, _pv-media/gallery/index.parquet, "
        "sorted by station in row groups (a filter on station_id reads one station's rows). Rebuilt by re-reading "
        "only the pieces whose etag changed since the last build."
    ),
)
def gallery_index(context: AssetExecutionContext, object_store: ObjectStoreResource) -> MaterializeResult:
    store = object_store.open()
    started = time.monotonic()
    update = update_index(store)
    context.log.info(f"gallery index: {update.pieces_read} of {update.stations} station pieces read")
    return MaterializeResult(
        metadata={
            "index_key": INDEX_KEY,
            "stations": update.stations,
            "rows": update.rows,
            "pieces_read": update.pieces_read,
            "stations_dropped": update.stations_dropped,
            "rebuilt_from_scratch": update.rebuilt_from_scratch,
            "bytes": update.bytes,
            "duration_s": round(time.monotonic() - started, 3),
        },
        check_results=[checks.check_index_matches_pieces(update.index_rows, update.piece_rows, update.listed_stations)],
    )


__all__ = ["gallery_index", "gallery_piece", "piece_key"]

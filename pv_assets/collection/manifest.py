"""media_manifest: picked-up records only; URL fields split into one row per media item."""

import time

import pandas as pd
from dagster import AssetExecutionContext, Output, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.collection.checks import (
    check_absolute_http_urls,
    check_no_identity_collisions,
    check_specs,
    check_unique_object_keys,
    check_valid_id_card_numbers,
)
from pv_assets.collection.manifest_rows import build_manifest, count_accepted, plain_rows
from pv_assets.metadata import frame_metadata
from pv_model.dialect import load_interface
from resources.dagster_resources import StationApiResource
from resources.settings import settings

PREVIEW_COLUMNS = ["record_id", "id_card_masked", "media_field", "source_url", "key_stem", "problem"]


@asset(
    **collection_asset(
        kinds={"pandas", "parquet"},
        check_specs=check_specs("media_manifest"),
        description=(
            "One row per photo or video of the records whose pickup status is accepted (default 已提货): the photo "
            "and video URL fields split (both comma kinds, spaces, empty items), relative URLs resolved, normalised "
            "and de-duplicated, each with the object key stem it will get ({region}/{station}/{id}_{urlhash8}). "
            "Items that can never be collected stay with their problem, for the audit."
        ),
    )
)
def media_manifest(
    context: AssetExecutionContext, infrastructure_records: pd.DataFrame, station_api: StationApiResource
):
    started = time.monotonic()
    station = station_api.station(context.partition_key)
    interface = load_interface(station.dialect)
    secret = settings().id_pseudonym_key  # PV_ID_PSEUDONYM_KEY
    records = plain_rows(infrastructure_records)
    manifest = build_manifest(
        records,
        base_url=station.base_url,
        accepted_statuses=station.accepted_pickup_status,
        separators=interface.url_separators,
        signature_params=station.signature_params,
        pseudonym_secret=secret.get_secret_value().encode("utf-8") if secret else None,
    )
    yield Output(
        manifest,
        metadata={
            "records": len(infrastructure_records),
            "picked_up": count_accepted(records, station.accepted_pickup_status),
            "media_items": len(manifest),
            "items_with_problems": int(manifest["problem"].notna().sum()),
            "accepted_pickup_status": ", ".join(station.accepted_pickup_status),
            "pseudonymized_keys": bool(secret),
            "duration_s": round(time.monotonic() - started, 3),
            **frame_metadata(manifest, PREVIEW_COLUMNS),
        },
    )
    yield check_unique_object_keys(manifest)
    yield check_absolute_http_urls(manifest)
    yield check_valid_id_card_numbers(manifest)
    yield check_no_identity_collisions(manifest)

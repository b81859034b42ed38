"""infrastructure_records: every record of the station, paged and de-duplicated."""

import time

from dagster import AssetExecutionContext, Failure, Output, asset

from pv_assets.collection.asset_options import collection_asset
from pv_assets.collection.checks import (
    check_known_pickup_statuses,
    check_records_not_vanished,
    check_specs,
    check_unique_record_ids,
)
from pv_assets.collection.fingerprint import REFRESH_FINGERPRINT, refresh_fingerprint
from pv_assets.collection.last_collection import last_collection
from pv_assets.collection.record_table import TEXT_PROBLEM
from pv_assets.collection.records_fetch import CannotCollect, fetch_records
from pv_assets.metadata import frame_metadata
from resources.dagster_resources import StationApiResource
from resources.station_api import StationApiError

PREVIEW_COLUMNS = ["record_id", "id_card_no", "pickup_status_raw", "pickup_status", "updated_at"]


@asset(
    **collection_asset(
        kinds={"pandas", "parquet"},
        check_specs=check_specs("infrastructure_records"),
        description=(
            "Every infrastructure record (基建数据) of the station, fetched page by page in the dialect's "
            "paging style (bounded by page, record and time limits), "
            "de-duplicated by recordId; add the station id and the regional company code (from the registry, "
            "else from the station info call, else from each record where the dialect names the field). "
            "Persisted as Parquet in the object store (the audit trail)."
        ),
    )
)
def infrastructure_records(context: AssetExecutionContext, station_token: dict, station_api: StationApiResource):
    station_id = context.partition_key
    station = station_api.station(station_id)
    client = station_api.client(station_id)  # logs in again by itself if this process has no token
    started = time.monotonic()
    try:
        fetched = fetch_records(station, client)
    except (StationApiError, CannotCollect) as exc:
        raise Failure(description=str(exc)) from None
    for warning in fetched.warnings:
        context.log.warning(warning)
    frame = fetched.frame
    replaced = int(frame[TEXT_PROBLEM].notna().sum()) if TEXT_PROBLEM in frame else 0
    if replaced:
        context.log.warning(f"station {station_id}: {replaced} records held text UTF-8 cannot carry (lone surrogates); "
                            f"replaced with U+FFFD and flagged in the column {TEXT_PROBLEM}")  # fmt: skip
    warned = frame[frame["field_warnings"].notna()]
    for record_id, warning in zip(warned["record_id"][:20], warned["field_warnings"][:20], strict=True):
        context.log.warning(f"record {record_id}: {warning}")  # the first 20; the table has every one
    yield Output(
        frame,
        metadata={
            "records": len(frame),
            "records_with_replaced_text": replaced,
            "region_company_code": fetched.region or "unknown",
            "region_source": fetched.region_source,
            "station_code": str(fetched.info.get("station_code") or ""),
            "records_with_field_warnings": len(warned),
            "duration_s": round(time.monotonic() - started, 3),
            # What the daily pass compares before it runs this station again (pv_assets/collection/fingerprint.py).
            REFRESH_FINGERPRINT: refresh_fingerprint(frame, station),
            **frame_metadata(frame, PREVIEW_COLUMNS),
        },
    )
    yield check_unique_record_ids(frame)
    yield check_known_pickup_statuses(frame)
    last = last_collection(context.instance, station_id)
    yield check_records_not_vanished(len(frame), last.records if last else None, client.interface.records.items)

"""infrastructure_records: S2/b - every record of the station, paged and de-duplicated."""

import time

import pandas as pd
from dagster import AssetExecutionContext, Failure, Output, asset

from pv_assets.assets.common import collection_asset
from pv_assets.checks import check_known_pickup_statuses, check_specs, check_unique_record_ids
from pv_assets.media.records import records_frame
from pv_assets.metadata import frame_metadata
from resources.dagster_resources import StationApiResource
from resources.interface import StationInterface
from resources.station_api import StationApiError

PREVIEW_COLUMNS = ["record_id", "id_card_no", "pickup_status_raw", "pickup_status", "updated_at"]


@asset(
    **collection_asset(
        kinds={"pandas", "parquet"},
        check_specs=check_specs("infrastructure_records"),
        description=(
            "S2/b: fetch every infrastructure record (基建数据) of the station, page by page in the dialect's "
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
    region = station.region_company_code
    try:
        info = client.station_info()
    except StationApiError as exc:
        if region is None:
            raise Failure(description=f"{exc}; the registry has no region_company_code for it either") from None
        context.log.warning(f"{exc}; using the registry's region company code")
        info = {}
    code = str(info.get("station_code") or "").strip()
    if code and code.lower() != station.expected_station_code.lower():
        mismatch = (
            f"station {station_id}: the account belongs to station code {code}, not {station.expected_station_code}"
        )
        if station.station_code:
            # The registry says which code to expect: collecting another station's records under this
            # station's prefix would mix their audit trails.
            raise Failure(description=f"{mismatch}; fix the credentials or station_code in {station.source}")
        context.log.warning(f"{mismatch}; set station_code in the registry to have this checked")
    region = region or (str(info["region_company_code"]) if info.get("region_company_code") else None)
    try:
        records = list(client.iter_records())
    except StationApiError as exc:
        raise Failure(description=str(exc)) from None
    frame: pd.DataFrame = records_frame(records, client.interface, station_id, region)
    yield Output(
        frame,
        metadata={
            "records": len(frame),
            "region_company_code": region or "unknown",
            "region_source": _region_source(station.region_company_code, info, client.interface),
            "station_code": str(info.get("station_code") or ""),
            "duration_s": round(time.monotonic() - started, 3),
            **frame_metadata(frame, PREVIEW_COLUMNS),
        },
    )
    yield check_unique_record_ids(frame)
    yield check_known_pickup_statuses(frame)


def _region_source(registry_region: str | None, info: dict, interface: StationInterface) -> str:
    if registry_region:
        return "registry"
    if info.get("region_company_code"):
        return "station info"
    return "records" if interface.region_from_records else "none"

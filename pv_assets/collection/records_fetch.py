"""A station's record table as the infrastructure_records asset makes it: station info, every record,
the dialect's field map. Shared by the asset and by the daily pass's look before a run
(pv_assets/collection/unchanged.py), so both see the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pv_assets.collection.record_table import records_frame
from pv_model.dialect import StationInterface
from pv_model.registry import Station
from resources.station_api import StationApiError


class CannotCollect(Exception):
    """The station answers, but its records cannot be collected as the registry stands (no region company
    code anywhere; the account belongs to another station than the registry's station_code)."""


@dataclass(frozen=True)
class FetchedRecords:
    frame: pd.DataFrame
    info: dict[str, Any]
    region: str | None
    region_source: str
    warnings: list[str] = field(default_factory=list)


def fetch_records(station: Station, client: Any) -> FetchedRecords:
    """Station info, then every record. Raises StationApiError (a call failed) or CannotCollect."""
    warnings: list[str] = []
    region = station.region_company_code
    try:
        info = client.station_info()
    except StationApiError as exc:
        if region is None:
            raise CannotCollect(f"{exc}; the registry has no region_company_code for it either") from None
        warnings.append(f"{exc}; using the registry's region company code")
        info = {}
    code = str(info.get("station_code") or "").strip()
    if code and code.lower() != station.expected_station_code.lower():
        expected = station.expected_station_code
        mismatch = f"station {station.id}: the account belongs to station code {code}, not {expected}"
        if station.station_code:
            # The registry says which code to expect: collecting another station's records under this
            # station's prefix would mix their audit trails.
            raise CannotCollect(f"{mismatch}; fix the credentials or station_code in {station.source}")
        warnings.append(f"{mismatch}; set station_code in the registry to have this checked")
    region = region or (str(info["region_company_code"]) if info.get("region_company_code") else None)
    named = str(info.get("region_company_code") or "") == (region or "") and info.get("region_company_name")
    # Each record becomes its row as it arrives and is let go: never the raw records and the rows at once.
    records = client.iter_records()
    name = str(named).strip() if named else None
    frame = records_frame(records, client.interface, station.id, region, name, station.placeholders)
    source = region_source(station.region_company_code, info, client.interface)
    return FetchedRecords(frame, info, region, source, warnings)


def region_source(registry_region: str | None, info: dict, interface: StationInterface) -> str:
    if registry_region:
        return "registry"
    if info.get("region_company_code"):
        return "station info"
    return "records" if interface.region_from_records else "none"

"""The records fetch's size limit (issue 22, item 13) is a setting: PV_RECORDS_MAX_MIB reaches the client."""

from __future__ import annotations

from resources.dagster_resources import StationApiResource
from resources.station_api.config import ClientSettings
from resources.station_api.records import PagingLimits

MIB = 1024 * 1024


def test_the_records_size_limit_comes_from_pv_records_max_mib(monkeypatch):
    assert ClientSettings().max_records_bytes == PagingLimits().max_bytes == 512 * MIB
    assert StationApiResource().settings().max_records_bytes == 512 * MIB
    monkeypatch.setenv("PV_RECORDS_MAX_MIB", "3")
    assert StationApiResource().settings().max_records_bytes == 3 * MIB

"""A region's name: the registry's region_names first, else the name the station's info call gives for its
own region code, else the code alone (the gallery falls back to it)."""

from __future__ import annotations

from pv_assets.collection.records_fetch import fetch_records
from pv_assets.gallery.previews.gallery import gallery_rows
from pv_model.dialect import load_interface
from pv_model.registry import Station

RECORD = {
    "recordId": "R1",
    "idCardNo": "11010519491231002X",
    "deliveryStatus": "已提货",
    "updatedAt": "2026-10-01 08:00:00",
    "photoUrls": "",
    "videoUrls": "",
}


class InfoClient:
    """A station client with a station-info answer and one page of records (no network)."""

    interface = load_interface("default")

    def __init__(self, info: dict, records: list[dict]):
        self.info, self.records = info, records

    def station_info(self) -> dict:
        return self.info

    def iter_records(self):
        return iter(self.records)


def station(region: str | None = None) -> Station:
    return Station("ST-1", "一号站", "http://st-1.invalid", region, "A", "P")


def test_the_station_info_name_reaches_the_records_table():
    info = {"station_code": "ST-1", "region_company_code": "RC-320100", "region_company_name": " 南京区域公司 "}
    fetched = fetch_records(station(), InfoClient(info, [RECORD]))
    assert fetched.frame["region_company_code"].tolist() == ["RC-320100"]
    assert fetched.frame["region_company_name"].tolist() == ["南京区域公司"]


def test_a_name_for_another_region_than_the_registrys_is_not_used():
    # The registry says RC-1; the station calls itself RC-2 and names RC-2: that name is not RC-1's.
    info = {"station_code": "ST-1", "region_company_code": "RC-2", "region_company_name": "苏州区域公司"}
    fetched = fetch_records(station("RC-1"), InfoClient(info, [RECORD]))
    assert fetched.frame["region_company_code"].tolist() == ["RC-1"]
    assert fetched.frame["region_company_name"].tolist() == [None]


def _gallery_name(record_name: str | None, registry_names: dict[str, str]) -> str | None:
    record = {
        "station_id": "ST-1",
        "region_company_code": "RC-320100",
        "region_company_name": record_name,
        "record_id": "R1",
        "id_card_no": "11010519491231002X",
        "pickup_status_raw": "已提货",
        "pickup_status": "picked_up",
        "media_items": None,
    }
    (row,) = gallery_rows(
        [record], [], [], station_name="一号站", accepted_statuses=("picked_up",), region_names=registry_names
    )
    return row["region_company_name"]


def test_the_gallery_prefers_the_registrys_name_then_the_stations():
    assert _gallery_name("站点给的名字", {"RC-320100": "南京区域公司"}) == "南京区域公司"
    assert _gallery_name("站点给的名字", {}) == "站点给的名字"
    assert _gallery_name(None, {}) is None

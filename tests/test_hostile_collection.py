"""A whole station run against a hostile station over a real socket (issue 22, items 11-12): what the audit keeps
of a link with a secret in it, and a record whose text UTF-8 cannot carry."""

from __future__ import annotations

import json

import pytest

from pv_simulator import write_registry as write_registry_file
from pv_simulator.media_gen import media_bytes
from resources.dagster_resources import LocalStoreResource
from tests.conftest import fast_station_api, media_objects, run_station, sha256
from tests.hostile import PASSWORD, HostileStation

pytestmark = pytest.mark.integration  # hostile stations over real sockets (tests/tiers.py)

ID = "11010519491231002X"
FILES = 10


def photo(number: int) -> bytes:
    return media_bytes("jpeg", 300 + number, 6000)


def serve_records(records: list[dict]):
    def answer(handler):  # ensure_ascii: a lone surrogate goes over the wire as the valid JSON escape \ud83d
        first = "pageNo=1&" in handler.path + "&"
        body = {"code": 0, "msg": "success", "data": {"total": len(records), "records": records if first else []}}
        handler.send_raw(200, json.dumps(body, ensure_ascii=True).encode())

    return answer


def serve_info(handler):
    handler.send_json({"code": 0, "msg": "success", "data": {"stationCode": "ST-H", "regionCompanyCode": "RC-1"}})


def serve_photo(handler):
    handler.send_raw(200, photo(int(handler.path.split("/files/")[1].split(".")[0])), "image/jpeg")


def hostile_run(tmp_path, monkeypatch, dagster_instance, records: list[dict]):
    routes = {"/api/v1/infrastructure/records": serve_records(records), "/api/v1/station/info": serve_info}
    routes["*"] = serve_photo
    with HostileStation(routes) as station:
        entry = {"id": "ST-H", "base_url": station.base_url, "region_company_code": "RC-1"}
        entry.update(account_env="STH_ACCOUNT", password_env="STH_PASSWORD")
        write_registry_file(tmp_path / "stations.yaml", [entry])
        monkeypatch.setenv("STH_ACCOUNT", "st-h")
        monkeypatch.setenv("STH_PASSWORD", PASSWORD)
        monkeypatch.setenv("PV_STATIONS_FILE", str(tmp_path / "stations.yaml"))
        store = LocalStoreResource(root=str(tmp_path / "store"))
        result = run_station(dagster_instance, fast_station_api(tmp_path / "stations.yaml"), store, "ST-H")
        return result, store.open(), [path for _method, path, _headers in station.seen]


def record(number: int, url: str, **fields) -> dict:
    return {"recordId": f"R{number}", "idCardNo": ID, "pickupStatus": "已提货", "photoUrls": url, **fields}


def test_a_lone_surrogate_in_one_record_is_replaced_and_flagged_and_every_file_is_stored(
    tmp_path, monkeypatch, staging_dir, dagster_instance
):
    records = [record(n, f"/files/{n}.jpg", remark="屋顶 ok") for n in range(FILES)]
    records[3]["remark"] = "屋顶\ud83d"
    result, store, _seen = hostile_run(tmp_path, monkeypatch, dagster_instance, records)
    assert result.success
    rows = result.asset_value("uploaded_media")
    assert (rows.outcome == "uploaded").sum() == FILES
    assert sorted(sha256(store.get_bytes(o.key)) for o in media_objects(store)) == sorted(
        sha256(photo(n)) for n in range(FILES)
    )
    table = result.asset_value("infrastructure_records").set_index("record_id")
    assert table.loc["R3", "remark"] == "屋顶\ufffd"
    assert table.loc["R3", "text_problem"] == "text that UTF-8 cannot carry replaced with U+FFFD in: remark"
    assert table.drop(index="R3").text_problem.isna().all()

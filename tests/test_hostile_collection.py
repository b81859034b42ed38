"""A whole station run against a hostile station over a real socket (issue 22, items 11-12): what the audit keeps
of a link with a secret in it, and a record whose text UTF-8 cannot carry."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from dagster import AssetKey

from pv_assets.definitions import COLLECT_JOB_NAME, make_definitions
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


# Secret-looking query keys, each with its own value per link: the CDN serves a file only with its own secret.
SECRET_KEYS = ("token", "access_token", "api_key", "auth_token", "accessToken")


def secret_of(number: int) -> str:
    return f"Sec{number}-{'q' * 20}-{number * 7919}"


def link(number: int) -> str:
    return f"/files/{number}.jpg?{SECRET_KEYS[number % len(SECRET_KEYS)]}={secret_of(number)}&size=large"


def serve_photo(handler):
    number = int(handler.path.split("/files/")[1].split(".")[0])
    query = parse_qs(urlsplit(handler.path).query)
    if "?" in handler.path and query.get(SECRET_KEYS[number % len(SECRET_KEYS)]) != [secret_of(number)]:
        handler.send_raw(403, b"forbidden", "text/plain")
        return
    handler.send_raw(200, photo(number), "image/jpeg")


def hostile_run(tmp_path, monkeypatch, dagster_instance, records: list[dict], then=None):
    """One station run against a hostile station serving `records`; `then(station, api, store)` runs while the
    station still answers."""
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
        api = fast_station_api(tmp_path / "stations.yaml")
        result = run_station(dagster_instance, api, store, "ST-H")
        if then is not None:
            then(station, api, store)
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
    (materialized,) = result.asset_materializations_for_node("infrastructure_records")
    assert materialized.metadata["records_with_replaced_text"].value == 1


def audit_tables(store) -> dict[str, pd.DataFrame]:
    """Every Parquet table of the audit trail in the store (the latest and each run's copy)."""
    return {
        o.key: pd.read_parquet(store.root / o.key)
        for o in store.list_prefix("_pv-media/")
        if o.key.endswith(".parquet")
    }


def test_secrets_in_media_links_are_kept_out_of_the_audit_and_dagster_but_the_downloads_use_them(
    tmp_path, monkeypatch, staging_dir, dagster_instance
):
    records = [record(n, link(n)) for n in range(FILES)]
    result, store, seen = hostile_run(tmp_path, monkeypatch, dagster_instance, records)
    assert result.success
    assert (result.asset_value("uploaded_media").outcome == "uploaded").sum() == FILES  # the whole link was used
    assert sum(1 for path in seen if path.startswith("/files/")) == FILES
    secrets = [secret_of(n) for n in range(FILES)]
    tables = audit_tables(store)
    assert {key.split("/")[2] for key in tables} >= {"infrastructure_records", "media_manifest", "uploaded_media"}
    for key, table in tables.items():
        cells = "\n".join(str(value) for value in table.to_numpy().ravel())
        assert not [s for s in secrets if s in cells], key
    events = "\n".join(repr(entry) for entry in dagster_instance.all_logs(result.run_id))
    assert "size=large" in events  # the manifest's preview shows the links
    assert not [s for s in secrets if s in events]
    manifest = tables["_pv-media/assets/media_manifest/ST-H.parquet"]
    assert manifest.source_url.str.contains(r"=\[redacted:[0-9a-f]{10}\]&size=large$").all()
    assert manifest.source_url.nunique() == FILES  # the redacted links still tell the files apart


def test_a_step_that_starts_from_the_stored_manifest_reads_the_links_again_from_the_station(
    tmp_path, monkeypatch, staging_dir, dagster_instance
):
    """uploaded_media re-executed alone: its manifest comes from the store, credentials redacted."""
    records = [record(n, link(n)) for n in range(FILES)]
    again = {}

    def rerun_uploads_alone(station, api, store):
        for obj in media_objects(store.open()):
            (tmp_path / "store" / obj.key).unlink()
        before = len(station.seen)
        job = make_definitions(station_api=api, object_store=store).resolve_job_def(COLLECT_JOB_NAME)
        again["result"] = job.execute_in_process(
            partition_key="ST-H",
            instance=dagster_instance,
            raise_on_error=False,
            # one step materializes all three: they are selected together
            asset_selection=[AssetKey("uploaded_media"), AssetKey("media_previews"), AssetKey("photo_facts")],
        )
        again["seen"] = [path for _method, path, _headers in station.seen[before:]]

    first, store, _seen = hostile_run(tmp_path, monkeypatch, dagster_instance, records, then=rerun_uploads_alone)
    assert first.success and again["result"].success
    rows = again["result"].asset_value("uploaded_media")
    assert (rows.outcome == "uploaded").sum() == FILES, rows.reason.tolist()
    assert any(path.startswith("/api/v1/infrastructure/records") for path in again["seen"])  # the links, read again
    assert sorted(sha256(store.get_bytes(o.key)) for o in media_objects(store)) == sorted(
        sha256(photo(n)) for n in range(FILES)
    )

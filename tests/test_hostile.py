"""Stations that misbehave in ways the simulator never does (issue 9), each over a real socket."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import build_sensor_context

from pv_assets.collection.collector import StationCollector
from pv_assets.operations.change_cursor import ChangeCursor
from pv_assets.operations.sensors import station_change_sensor
from pv_simulator import SimStationSpec
from pv_simulator import write_registry as write_registry_file
from pv_simulator.media_gen import media_bytes
from resources.dagster_resources import LocalStoreResource
from resources.object_store import (
    MAX_METADATA_VALUE_CHARS,
    MinioObjectStore,
    ObjectStoreError,
    encode_metadata,
    rejects_only_this_object,
)
from resources.station_api import ClientSettings, LoginFailed, MediaFailure, StationApiError
from tests.conftest import fast_station_api, run_station, write_registry
from tests.hostile import PASSWORD, TOKEN, HostileStation, cut_gzip, gzip_bomb, manifest_row

pytestmark = pytest.mark.integration  # hostile stations over real sockets (tests/tiers.py)

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024

# The child reports its peak resident memory (VmHWM) after the imports and after the call.
CHILD = """
import json, sys
from pv_model.dialect import load_interface
from resources.station_api import ClientSettings, StationApiError, StationClient, StationEndpoint

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

base = peak_kib()
endpoint = StationEndpoint("ST-H", sys.argv[1], "st-h", "pw", 1, ())
settings = ClientSettings(max_attempts=1, max_reply_bytes=int(sys.argv[2]))
client = StationClient(endpoint, load_interface("default"), settings, sleep=lambda s: None)
try:
    client.login()
    outcome = "logged in"
except StationApiError as exc:
    outcome = str(exc)
print(json.dumps({"base_kib": base, "peak_kib": peak_kib(), "outcome": outcome}))
"""


def run_child(base_url: str, max_reply_bytes: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, base_url, str(max_reply_bytes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_gzip_bomb_api_reply_is_cut_at_the_decoded_cap_with_bounded_memory():
    bomb = gzip_bomb(512 * MIB)  # ~0.5 MB on the wire, 512 MiB decoded
    assert len(bomb) < 2 * MIB

    def login(handler):
        handler.send_raw(200, bomb, Content_Encoding="gzip")

    with HostileStation({"/api/v1/auth/login": login}) as station:
        report = run_child(station.base_url, 8 * MIB)
    assert "body exceeds the 8388608-byte cap (decoded)" in report["outcome"]
    grown_mib = (report["peak_kib"] - report["base_kib"]) / 1024
    assert grown_mib < 48, report  # the whole reply would have been 512 MiB


def test_a_json_reply_nested_100000_deep_is_a_clear_error_not_a_recursion_error():
    deep = b'{"code": 0, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with HostileStation({"/api/v1/auth/login": lambda h: h.send_raw(200, deep)}) as station:
        with pytest.raises(LoginFailed, match="JSON reply nested too deeply"):
            station.client().login()


def test_an_api_reply_dripping_in_is_cut_by_the_total_deadline():
    body = json.dumps({"code": 0, "msg": "success", "data": {"token": TOKEN}}).encode()
    with HostileStation({"/api/v1/auth/login": lambda h: h.drip(body, 0.2)}) as station:
        # A read timeout of 5 s never fires: a byte comes every 0.2 s, the reply would take ~12 s.
        client = station.client(ClientSettings(read_timeout_s=5.0, max_attempts=2, call_deadline_s=1.0))
        started = time.monotonic()
        with pytest.raises(LoginFailed, match=r"station unreachable after 2 attempts: no complete reply within 1 s"):
            client.login()
    assert time.monotonic() - started < 6


def test_a_media_body_dripping_in_with_a_content_length_is_cut_by_the_total_deadline(tmp_path):
    photo = media_bytes("jpeg", 3, 8000)
    with HostileStation({"/files/slow.jpg": lambda h: h.drip(photo, 0.02, content_type="image/jpeg")}) as station:
        settings = ClientSettings(read_timeout_s=5.0, max_attempts=1, media_deadline_s=1.0, slow_grace_s=600)
        client = station.client(settings)
        client.login()
        started = time.monotonic()
        with pytest.raises(MediaFailure, match="not complete within 1 s") as failure:
            client.download(station.base_url + "/files/slow.jpg", tmp_path)
    assert failure.value.transient and time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_the_speed_rule_runs_on_every_read_not_after_a_full_chunk(tmp_path):
    photo = media_bytes("jpeg", 4, 8000)
    with HostileStation({"/files/slow.jpg": lambda h: h.drip(photo, 0.02, content_type="image/jpeg")}) as station:
        settings = ClientSettings(max_attempts=1, slow_grace_s=0.5, min_bytes_per_s=1000)
        client = station.client(settings)
        client.login()
        with pytest.raises(MediaFailure, match="too slow"):
            client.download(station.base_url + "/files/slow.jpg", tmp_path)


def test_a_cut_off_gzip_media_body_is_transient_never_an_object(tmp_path):
    photo = media_bytes("jpeg", 5, 102_722)
    fragment = cut_gzip(photo)

    def media(handler):  # complete HTTP framing (Content-Length = what is sent), half a gzip stream
        handler.send_raw(200, fragment, "image/jpeg", Content_Encoding="gzip")

    with HostileStation({"/files/cut.jpg": media}) as station:
        client = station.client()
        client.login()
        with pytest.raises(MediaFailure, match="the gzip stream ended before its end") as failure:
            client.download(station.base_url + "/files/cut.jpg", tmp_path)
    assert failure.value.reason == "transient" and failure.value.transient
    assert list(tmp_path.iterdir()) == []


def test_a_whole_gzip_media_body_is_stored_decoded(tmp_path):
    photo = media_bytes("jpeg", 6, 50_000)
    packed = gzip.compress(photo)
    with HostileStation(
        {"/files/ok.jpg": lambda h: h.send_raw(200, packed, "image/jpeg", Content_Encoding="gzip")}
    ) as s:
        client = s.client()
        client.login()
        got = client.download(s.base_url + "/files/ok.jpg", tmp_path)
    assert got.path.read_bytes() == photo and got.size == len(photo)


def test_a_jpeg_magic_followed_by_an_html_error_page_is_not_media(tmp_path):
    page = b"\xff\xd8\xff<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
    page += b"\n" * 400
    with HostileStation({"/files/x.jpg": lambda h: h.send_raw(200, page, "image/jpeg")}) as station:
        client = station.client()
        client.login()
        with pytest.raises(MediaFailure, match="starts like JPEG but its header does not parse") as failure:
            client.download(station.base_url + "/files/x.jpg", tmp_path)
    assert failure.value.reason == "not_media"
    assert list(tmp_path.iterdir()) == []


def test_station_messages_echoing_the_token_or_the_password_are_scrubbed():
    def info(handler):
        echoed = f"bad request Authorization: {handler.headers.get('Authorization')} body={handler.body!r}"
        handler.send_json({"code": 1003, "msg": echoed, "data": None})

    def login_refused(handler):
        handler.send_json({"code": 1001, "msg": f"账号或密码错误: {handler.body.decode()}", "data": None})

    with HostileStation({"/api/v1/station/info": info}) as station:
        client = station.client()
        client.login()
        with pytest.raises(StationApiError) as failure:
            client.station_info()
        assert "bad request" in str(failure.value)
        assert TOKEN not in str(failure.value) and "Bearer" in str(failure.value)
        station.route("/api/v1/auth/login", login_refused)
        with pytest.raises(LoginFailed) as refused:
            station.client().login()
    assert "账号或密码错误" in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_70000_character_record_id_is_bounded_in_object_metadata_and_the_station_succeeds(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance, s3_endpoint, s3_store, s3_resource
):
    sim = simulator_factory([SimStationSpec("ST-0001", records=8, seed=91)])
    picked = next(r for r in sim.records("ST-0001") if r["pickupStatus"] == "已提货" and r["photoUrls"])
    long_id = "记录" + "R" * 70_000
    sim.station("ST-0001").update_record(picked["recordId"], recordId=long_id)
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store = s3_resource
    result = run_station(dagster_instance, fast_station_api(registry), store, "ST-0001")
    assert result.success
    rows = result.asset_value("uploaded_media")
    assert (rows.outcome == "uploaded").sum() > 0 and not rows.reason.fillna("").str.contains("store").any()
    record_ids = [s3_store.stat(o.key).metadata["record-id"] for o in s3_store.list_prefix("RC-")]
    cut = [r for r in record_ids if "~cut-sha256:" in r]
    assert cut and all(r.startswith("记录RRR") and len(r) < 256 for r in cut)
    digest = hashlib.sha256(long_id.encode()).hexdigest()[:16]
    assert all(r.endswith(digest) for r in cut)


def test_only_a_store_level_error_stops_a_station():
    assert rejects_only_this_object("MetadataTooLarge") and rejects_only_this_object("InvalidArgument")
    assert not rejects_only_this_object("NoSuchBucket") and not rejects_only_this_object("AccessDenied")
    assert len(encode_metadata({"record-id": "记" * 5000})["record-id"]) <= MAX_METADATA_VALUE_CHARS


def test_an_id_in_devanagari_digits_and_a_region_code_with_a_newline_are_invalid_rows_not_a_failed_station(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    monkeypatch.setenv("PV_ID_PSEUDONYM_KEY", "group-privacy-key")  # the ID was hashed as text: UnicodeEncodeError
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=6, seed=93), SimStationSpec("ST-0002", records=4, seed=94)]
    )
    picked = next(r for r in sim.records("ST-0001") if r["pickupStatus"] == "已提货" and r["photoUrls"])
    sim.station("ST-0001").update_record(picked["recordId"], idCardNo="११०१०५१९४९१२३१००२X")
    sim.station("ST-0002").world.info["regionCompanyCode"] = "RC-9\n"  # ST-0002's region comes from station info
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store = LocalStoreResource(root=str(tmp_path / "store"))
    first = run_station(dagster_instance, fast_station_api(registry), store, "ST-0001")
    assert first.success
    rows = first.asset_value("uploaded_media")
    bad = rows[rows.record_id == picked["recordId"]]
    assert len(bad) and bad.reason.str.startswith("invalid_input: invalid ID card number").all()
    assert (rows.outcome == "uploaded").sum() > 0
    second = run_station(dagster_instance, fast_station_api(registry), store, "ST-0002")
    rows = second.asset_value("uploaded_media")
    assert second.success and len(rows) and rows.reason.str.contains("cannot be used in an object key").all()
    assert not any((tmp_path / "store").glob("RC-9*"))


def test_a_station_dripping_its_login_reply_cannot_hold_the_change_sensor_past_its_budget(
    tmp_path, monkeypatch, dagster_instance
):
    body = json.dumps({"code": 0, "msg": "success", "data": {"token": TOKEN}}).encode()
    with HostileStation({"/api/v1/auth/login": lambda h: h.drip(body, 0.3)}) as station:  # ~20 s for the reply
        entry = {"id": "ST-H", "base_url": station.base_url, "region_company_code": "RC-1"}
        entry.update(account_env="STH_ACCOUNT", password_env="STH_PASSWORD")
        write_registry_file(tmp_path / "stations.yaml", [entry])
        monkeypatch.setenv("STH_ACCOUNT", "st-h")
        monkeypatch.setenv("STH_PASSWORD", PASSWORD)
        monkeypatch.setenv("PV_CHANGE_SENSOR_BUDGET_S", "2")
        dagster_instance.add_dynamic_partitions("station", ["ST-H"])
        started = time.monotonic()
        with build_sensor_context(
            instance=dagster_instance, resources={"station_api": fast_station_api(tmp_path / "stations.yaml")}
        ) as context:
            result = station_change_sensor(context)
        elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed  # the budget (2 s) held; the reply alone would take ~20 s
    assert ChangeCursor.from_json(result.cursor).stations["ST-H"].failures == 1  # down for now, retried later


def test_a_gzip_bomb_media_body_is_too_large_by_its_decoded_size(tmp_path):
    bomb = gzip_bomb(64 * MIB, prefix=media_bytes("jpeg", 7, 8000))

    def media(handler):
        handler.send_raw(200, bomb, "image/jpeg", Content_Encoding="gzip")

    with HostileStation({"/files/bomb.jpg": media}) as station:
        client = station.client()
        client.login()
        with pytest.raises(MediaFailure, match="body exceeds the 1048576-byte cap") as failure:
            client.download(station.base_url + "/files/bomb.jpg", tmp_path, max_bytes=MIB)
    assert failure.value.reason == "too_large" and len(bomb) < 256 * 1024
    assert list(tmp_path.iterdir()) == []


S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>refused</Message>'
    "<Key>k</Key><BucketName>pv-media</BucketName><Resource>/pv-media/k</Resource>"
    "<RequestId>1</RequestId><HostId>h</HostId></Error>"
)


@pytest.mark.parametrize(
    ("status", "code", "item_only"), [(400, "MetadataTooLarge", True), (403, "AccessDenied", False)]
)
def test_a_store_that_refuses_one_object_fails_the_item_and_a_store_level_refusal_stops_the_station(
    tmp_path, status, code, item_only
):
    def s3(handler):  # an S3 endpoint that has the bucket and refuses every upload with `code`
        if handler.command == "PUT":
            handler.send_raw(status, S3_ERROR.format(code=code).encode(), "application/xml")
        else:
            handler.send_raw(200, b"", "application/xml")

    photo = media_bytes("jpeg", 8, 8000)
    with HostileStation({"/files/a.jpg": lambda h: h.send_raw(200, photo, "image/jpeg")}) as station:
        with HostileStation({"*": s3}) as fake_s3:
            store = MinioObjectStore(fake_s3.base_url.split("//")[1], "ak", "sk", "pv-media", region="us-east-1")
            collector = StationCollector(station.client(), store, tmp_path / "staging", "run-1", workers=1)
            row = manifest_row(station.base_url + "/files/a.jpg")
            if item_only:
                outcome = collector.collect_one(row)
                assert outcome["outcome"] == "failed" and outcome["reason"].startswith("store_rejected:")
                assert code in outcome["reason"] and "11010519491231002X" not in outcome["reason"]
            else:
                with pytest.raises(ObjectStoreError, match=code):
                    collector.collect_one(row)
    assert not [p for p in (tmp_path / "staging").rglob("*") if p.is_file()]


def test_headers_dripping_in_are_cut_by_the_total_deadline_too():
    def login(handler):  # the status line and headers, a byte at a time
        raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        for byte in raw:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)

    with HostileStation({"/api/v1/auth/login": login}) as station:
        client = station.client(ClientSettings(read_timeout_s=5.0, max_attempts=1, call_deadline_s=1.0))
        started = time.monotonic()
        with pytest.raises(LoginFailed, match="no complete reply within 1 s"):
            client.login()
    assert time.monotonic() - started < 4


def test_a_cut_off_gzip_api_reply_is_transient():
    page = cut_gzip(json.dumps({"code": 0, "msg": "success", "data": {"token": TOKEN, "pad": "x" * 5000}}).encode())

    def login(handler):
        handler.send_raw(200, page, Content_Encoding="gzip")

    with HostileStation({"/api/v1/auth/login": login}) as station:
        with pytest.raises(LoginFailed, match="station unreachable after 2 attempts: the gzip stream ended"):
            station.client().login()

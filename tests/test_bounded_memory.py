"""Memory stays bounded in every bomb and paging case: measured as the peak resident size (VmHWM)
of a child process that runs the client against a hostile station over a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pv_simulator.media_gen import media_bytes
from tests.hostile import HostileStation, gzip_bomb

pytestmark = pytest.mark.integration  # hostile servers on sockets, memory measured in child processes (tests/tiers.py)

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
# Imports take ~60 MiB; what a call adds on top is what these tests bound.
GROWTH_LIMIT_MIB = 48

CHILD = """
import json, sys, tempfile
from pathlib import Path
from pv_model.dialect import load_interface
from resources.station_api import ClientSettings, MediaFailure, StationApiError, StationClient, StationEndpoint

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

mode, base_url = sys.argv[1], sys.argv[2]
endpoint = StationEndpoint("ST-H", base_url, "st-h", "pw", 2, (), max_pages=int(sys.argv[3]))
client = StationClient(endpoint, load_interface("default"), ClientSettings(max_attempts=1), sleep=lambda s: None)
client.login()
base = peak_kib()
try:
    if mode == "records":
        outcome = f"{sum(1 for _ in client.iter_records())} records"
    else:
        with tempfile.TemporaryDirectory() as staging:
            done = client.download(base_url + "/files/bomb.jpg", Path(staging))
            outcome = f"downloaded {done.size} bytes as {done.media_type.mime}"
except (StationApiError, MediaFailure) as exc:
    outcome = str(exc)
print(json.dumps({"base_kib": base, "peak_kib": peak_kib(), "outcome": outcome}))
"""


def run_child(mode: str, base_url: str, max_pages: int = 10_000) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, base_url, str(max_pages)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["grown_mib"] = (report["peak_kib"] - report["base_kib"]) / 1024
    return report


def test_a_huge_total_and_endless_new_pages_keep_memory_flat_until_the_page_limit():
    """One record per page, `total` 10^13, every page new: no plan of 10^13 pages, a clear stop."""

    def records(handler):
        page = int(handler.path.split("pageNo=")[1].split("&")[0])
        record = {"recordId": f"R{page}", "idCardNo": "11010519491231002X", "pickupStatus": "已提货"}
        handler.send_json({"code": 0, "msg": "success", "data": {"total": 10**13, "records": [record]}})

    with HostileStation({"/api/v1/infrastructure/records": records}) as station:
        report = run_child("records", station.base_url, max_pages=400)
        pages = sum(1 for _method, path, _headers in station.seen if "/infrastructure/records" in path)
    assert "stopped after 400 pages" in report["outcome"], report
    assert pages <= 400 + 8  # the look-ahead window, never a plan from `total`
    assert report["grown_mib"] < GROWTH_LIMIT_MIB, report


def test_a_gzip_bomb_media_body_streams_to_staging_with_flat_memory():
    """256 MiB decoded from ~0.3 MB on the wire, under a cap it fits: streamed to the staging file,
    never held in memory."""
    head = media_bytes("jpeg", 7, 8000)
    bomb = gzip_bomb(256 * MIB, prefix=head)
    decoded = len(head) + 256 * MIB

    def media(handler):
        handler.send_raw(200, bomb, "image/jpeg", Content_Encoding="gzip")

    with HostileStation({"/files/bomb.jpg": media}) as station:
        report = run_child("media", station.base_url)
    assert report["outcome"] == f"downloaded {decoded} bytes as image/jpeg", report
    assert report["grown_mib"] < GROWTH_LIMIT_MIB, report


RECORDS_CHILD = """
import json, sys
from types import SimpleNamespace
from pv_assets.collection.records_fetch import fetch_records
from pv_model.dialect import load_interface
from resources.station_api import ClientSettings, StationApiError, StationClient, StationEndpoint

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

base_url, cap_bytes, max_pages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
endpoint = StationEndpoint("ST-H", base_url, "st-h", "pw", 2, (), max_pages=max_pages)
settings = ClientSettings(max_attempts=1, max_records_bytes=cap_bytes)
client = StationClient(endpoint, load_interface("default"), settings, sleep=lambda s: None)
station = SimpleNamespace(id="ST-H", region_company_code="RC-1", station_code=None, expected_station_code="ST-H",
                          source="stations.yaml:1", placeholders={})
client.login()
base = peak_kib()
try:
    outcome = f"{len(fetch_records(station, client).frame)} records"
except StationApiError as exc:
    outcome = str(exc)
print(json.dumps({"base_kib": base, "peak_kib": peak_kib(), "outcome": outcome}))
"""


def test_a_station_paging_forever_with_big_fields_stops_at_the_size_limit_with_flat_memory():
    """5 KB fields, 40 records a page, every page new: the records fetch ends at the size cap (8 MiB here; the
    page limit would allow 50 MB), naming the station and the setting; memory grows with the cap, no more."""
    field = "屋" * 1700  # 5,100 bytes of UTF-8

    def records(handler):
        page = int(handler.path.split("pageNo=")[1].split("&")[0])
        items = [
            {"recordId": f"R{page}-{n}", "idCardNo": "11010519491231002X", "pickupStatus": "已提货", "remark": field}
            for n in range(40)
        ]
        handler.send_json({"code": 0, "msg": "success", "data": {"total": 10**9, "records": items}})

    with HostileStation({"/api/v1/infrastructure/records": records}) as station:
        done = subprocess.run(
            [sys.executable, "-c", RECORDS_CHILD, station.base_url, str(8 * MIB), "250"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        pages = sum(1 for _method, path, _headers in station.seen if "/infrastructure/records" in path)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    grown_mib = (report["peak_kib"] - report["base_kib"]) / 1024
    assert report["outcome"] == (
        "station ST-H: records page 41 failed: stopped at 8 MiB of records (the size limit: "
        "PV_RECORDS_MAX_MIB, default 512); nothing was stored for this run's records"
    ), report
    assert pages <= 41 + 8  # the look-ahead window
    # 1,600 records of ~5.2 KB kept as rows: about the cap (the whole 250 pages, fetched before, grew 38 MiB).
    assert grown_mib < 3 * 8, report

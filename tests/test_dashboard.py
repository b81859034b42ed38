"""Issue 26: the dashboard's figures against the world's truth, its filters, its map's privacy, and its pages.

The index is made the way the pipeline makes it - the world's records in the dialect, the records table,
the gallery rows - without the HTTP and the downloads (tests/test_cli.py's demo checks the collected one).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from pv_assets.collection.manifest_rows import plain_rows
from pv_assets.collection.record_table import records_frame
from pv_assets.gallery.previews.gallery import gallery_rows
from pv_assets.gallery.previews.gallery_store import rows_to_table
from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig, GalleryConfigError
from pv_gallery.index import INDEX_KEY
from pv_gallery.trends import Filter, collection_table, figures, installation_table
from pv_model.dialect import load_interface
from pv_simulator.world import group_world
from pv_simulator.world.truth import truth_document
from pv_simulator.world_station import world_record
from resources.object_store import LocalDirObjectStore

PASSWORD = "correct horse battery staple"
REQUIRED = "roof_panorama,modules,inverter,meter_box,grid_connection,nameplate"


@pytest.fixture(scope="module")
def world():
    return group_world("tiny", seed=3)


@pytest.fixture(scope="module")
def truth(world):
    return truth_document(world)


@pytest.fixture(scope="module")
def index(world):
    return world_index(world)


def world_index(world) -> pa.Table:
    """The gallery index of a world's records (no media items: every installation a record row)."""
    iface = load_interface("default")
    rows = []
    for plan in world.stations:
        records = [world_record(i, {}, []) for i in plan.installations]
        frame = records_frame(records, iface, plan.station_id, plan.region_code)
        rows += gallery_rows(plain_rows(frame), [], [], station_name=plan.name, accepted_statuses=["已提货"])
    return rows_to_table(rows)


def expected(truth: dict, keep=lambda i: True) -> tuple[Counter, dict]:
    """Picked-up installations per pickup month and capacity per install month, from the truth's list."""
    picked, capacity = Counter(), defaultdict(float)
    for i in truth["installations"]:
        if i["pickup_status"] == "已提货" and keep(i):
            picked[i["pickup_time"][:7]] += 1
            capacity[i["install_date"][:7]] += i["capacity_kw"]
    return picked, {m: round(v, 2) for m, v in capacity.items()}


def as_series(found: dict) -> tuple[dict, dict]:
    months, series = found["months"], found["series"]
    picked = {m: n for m, n in zip(months, series["picked_up"], strict=True) if n}
    capacity = {m: v for m, v in zip(months, series["capacity_kw"], strict=True) if v}
    return picked, capacity


def test_every_regions_months_equal_the_truth(index, truth):
    installations = installation_table(index)
    for code, months in truth["figures"]["by_region_month"].items():
        picked, capacity = as_series(figures(installations, Filter(region=code)))
        assert picked == {m: v["picked_up"] for m, v in months.items() if v.get("picked_up")}, code
        assert capacity == {m: v["capacity_kw_installed"] for m, v in months.items() if v.get("installed")}, code
    found = figures(installations, Filter())
    by_region = truth["figures"]["by_region"]
    assert {r["id"]: (r["picked_up"], r["capacity_kw"]) for r in found["regions"]} == {
        code: (r["picked_up"], r["capacity_kw_picked_up"]) for code, r in by_region.items() if r["picked_up"]
    }
    assert found["totals"]["picked_up"] == sum(r["picked_up"] for r in by_region.values())


def test_every_regions_months_equal_the_records_tables_typed_columns(world, index):
    """The records tables as an auditor reads them (pandas over the typed columns) give the same sums."""
    import pandas as pd

    iface = load_interface("default")
    frames = [
        records_frame([world_record(i, {}, []) for i in plan.installations], iface, plan.station_id, plan.region_code)
        for plan in world.stations
    ]
    records = pd.concat(frames)
    picked = records[records["pickup_status"] == "picked_up"]
    months = pd.to_datetime(picked["install_date"].astype(str)).dt.strftime("%Y-%m")
    capacity = picked.groupby([picked["region_company_code"], months])["capacity_kw"].sum()
    installations = installation_table(index)
    for code in picked["region_company_code"].unique():
        found = as_series(figures(installations, Filter(region=code)))[1]
        assert found == {m: round(float(v), 2) for (c, m), v in capacity.items() if c == code and v}, code


def test_a_date_range_and_a_station_narrow_every_figure(index, truth):
    installations = installation_table(index)
    station = truth["stations"][1]["id"]
    keep = lambda i: i["station_id"] == station and "2025-03" <= i["pickup_time"][:7] <= "2026-02"  # noqa: E731
    picked, _ = expected(truth, keep)
    found = figures(installations, Filter(start="2025-03", end="2026-02", station=station))
    assert as_series(found)[0] == dict(picked)
    assert found["totals"]["picked_up"] == sum(picked.values()) > 0
    _, capacity = expected(
        truth, lambda i: i["station_id"] == station and "2025-03" <= i["install_date"][:7] <= "2026-02"
    )
    assert as_series(found)[1] == capacity
    assert [s["id"] for s in found["stations"]] == [station]


def test_coverage_is_the_share_with_every_required_type_per_pickup_month():
    rows = []
    every = REQUIRED.split(",")
    cases = [("R1", "2025-01-05", every), ("R2", "2025-01-20", ["modules"]), ("R3", "2025-02-02", every)]
    for record, day, types in cases:
        for n, kind in enumerate(types):
            photo = {"status": "stored", "media_kind": "photo", "photo_type": kind, "required_photo_types": REQUIRED}
            rows.append({"item_id": f"{record}{n}", "region_company_code": "RC", "station_id": "S", "record_id": record,
                         "pickup_date": dt.date.fromisoformat(day), "capacity_kw": 5.0, **photo})  # fmt: skip
            rows[-1]["collected_at"] = f"2025-0{1 + (record == 'R3')}-28T08:00:00+00:00"
    rows.append({"item_id": "F", "region_company_code": "RC", "station_id": "S", "record_id": "R2", "status": "failed"})
    table = rows_to_table(rows)
    found = figures(installation_table(table), Filter(), collection_table(table))
    assert found["months"] == ["2025-01", "2025-02"]
    assert found["series"]["coverage"] == [0.5, 1.0]
    assert found["series"]["collected"] == [7, 6]  # stored photos by month of collection; the failed one not
    assert figures(installation_table(table), Filter(start="2025-02"), collection_table(table))["series"] == {
        "picked_up": [1],
        "capacity_kw": [0.0],
        "coverage": [1.0],
        "collected": [6],
        "healthy": [None],  # no health history given
    }
    assert found["totals"]["complete"] == 2
    assert found["missing"] == {t: 0 if t == "modules" else 1 for t in every}


@pytest.fixture(scope="module")
def client(index, tmp_path_factory):
    store = LocalDirObjectStore(tmp_path_factory.mktemp("dashboard-store"))
    buffer = io.BytesIO()
    pq.write_table(index, buffer)
    store.put_bytes(INDEX_KEY, buffer.getvalue(), "application/vnd.apache.parquet")
    config = GalleryConfig(password=PASSWORD, session_secret="test-session-secret-0123456789")
    app = create_app(store, config)
    client = TestClient(app, base_url="http://localhost", follow_redirects=False)
    assert client.post("/login", data={"password": PASSWORD, "next": "/"}).status_code == 303
    return client


def test_the_page_and_its_data_show_the_same_figures(client, truth):
    page = client.get("/dashboard?lang=en")
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts/echarts.common.min.js" defer></script>' in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    total = sum(r["picked_up"] for r in truth["figures"]["by_region"].values())
    assert f'<b id="total-picked">{total}</b>' in page.text
    data = client.get("/dashboard/data").json()
    assert data["totals"]["picked_up"] == total
    assert len(re.findall(r'<tr data-id="RC-', page.text.split('id="dash-groups"')[1].split("</table>")[0])) == len(
        data["regions"]
    )
    assert client.get("/static/vendor/echarts/echarts.common.min.js").status_code == 200


def test_the_map_shows_regions_until_a_station_is_chosen_and_never_a_households_exact_place(client, world):
    data = client.get("/dashboard/data").json()
    regions_with_pickups = {p.region_code for p in world.stations if any(i.picked_up for i in p.installations)}
    assert data["map"]["kind"] == "regions"
    assert {p["id"] for p in data["map"]["points"]} == regions_with_pickups
    plan = world.stations[1]
    picked = [i for i in plan.installations if i.picked_up]
    data = client.get(f"/dashboard/data?station={plan.station_id}").json()
    assert data["map"]["kind"] == "installations" and len(data["map"]["points"]) == len(picked)
    for point in data["map"]["points"]:
        assert point["lat"] == round(point["lat"], 2) and point["lon"] == round(point["lon"], 2)
        assert client.get(point["href"]).status_code == 200
    text = json.dumps(data) + client.get(f"/dashboard?station={plan.station_id}").text
    for installation in picked:
        assert str(installation.lat) not in text and str(installation.lon) not in text
        assert installation.owner_name not in text and installation.id_card_no not in text


def test_the_dashboard_needs_a_sign_in_and_ignores_filters_it_does_not_know(client, index):
    anonymous = TestClient(client.app, base_url="http://localhost", follow_redirects=False)
    assert anonymous.get("/dashboard").status_code == 303
    assert anonymous.get("/dashboard/data").status_code == 401
    assert client.get("/dashboard/data?from=2025-99&region=nowhere&station=<x>").json()["filter"] == {
        "from": None,
        "to": None,
        "region": None,
        "station": None,
    }


def test_no_tile_service_by_default_and_a_wrong_one_is_refused_naming_the_setting(client):
    page = client.get("/dashboard")
    assert "leaflet" not in page.text and "data-tiles" not in page.text
    assert "img-src 'self';" in page.headers["content-security-policy"]
    for wrong in ("tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn/{z}/{x}.png", "ftp://t/{z}/{x}/{y}"):
        with pytest.raises(GalleryConfigError) as refused:
            GalleryConfig(password=PASSWORD, map_tiles=wrong)
        assert str(refused.value) == (
            f"PV_GALLERY_MAP_TILES={wrong!r} is not a tile URL template: an http(s) address with {{z}}, {{x}} and "
            "{y} (e.g. https://tiles.example.cn/{z}/{x}/{y}.png); leave it empty for no base map"
        )
    config = GalleryConfig(password=PASSWORD, map_tiles=" https://t{s}.example.cn:8443/vec/{z}/{x}/{y}?tk=k ")
    assert config.map_tile_origin == "https://*.example.cn:8443"
    assert (
        GalleryConfig(password=PASSWORD, map_tiles="http://10.0.0.5/{z}/{x}/{y}").map_tile_origin == "http://10.0.0.5"
    )

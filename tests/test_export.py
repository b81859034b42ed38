"""Issue 26: the Excel exports read back with openpyxl - the figures a page shows, no personal field, no
formula a station's text could smuggle in."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_gallery.export import XLSX, workbook_bytes
from pv_gallery.index import INDEX_KEY
from pv_simulator.world import REQUIRED_PHOTO_TYPES, group_world
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data
from tests.test_dashboard import world_index

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_gallery_data(LocalDirObjectStore(tmp_path_factory.mktemp("export-store")))


@pytest.fixture(scope="module")
def client(data) -> TestClient:
    config = GalleryConfig(password=PASSWORD, session_secret="test-session-secret-0123456789")
    client = TestClient(create_app(data.store, config), base_url="http://localhost", follow_redirects=False)
    assert client.post("/login", data={"password": PASSWORD, "next": "/"}).status_code == 303
    return client


def read(answer) -> openpyxl.Workbook:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"].startswith("attachment; ")
    return openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)


def sheet_rows(book, title: str) -> list[tuple]:
    return list(book[title].iter_rows(values_only=True))


def every_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def test_the_overview_export_has_every_region_and_station_with_the_pages_figures(client, data):
    snap = client.app.state.index.snapshot()
    answer = client.get("/export/overview.xlsx?lang=en")
    book = read(answer)
    assert book.sheetnames == ["Regions", "Stations"]
    regions = sheet_rows(book, "Regions")
    assert len(regions) - 1 == len(snap.regions)
    by_code = {row[1]: row for row in regions[1:]}
    for code, region in snap.regions.items():
        assert by_code[code][2:5] == (len(region.stations), region.picked_up, region.complete)
    stations = {row[1]: row for row in sheet_rows(book, "Stations")[1:]}
    assert sorted(stations) == sorted(snap.stations)
    for sid, summary in snap.stations.items():
        assert stations[sid][4:6] == (summary.picked_up, summary.complete)
        assert stations[sid][8] == summary.failed
    text = every_text(answer.content)
    assert not any(raw in text for raw in data.raw_ids)


def test_a_stations_export_lists_its_installations_with_missing_types_and_failures(client, data):
    snap = client.app.state.index.snapshot()
    station_id = max(snap.stations, key=lambda sid: snap.stations[sid].failed)
    installations = snap.installations(station_id)
    answer = client.get(f"/station/{station_id}/export.xlsx?lang=en")
    rows = sheet_rows(read(answer), "Installations")
    assert rows[0][0] == _en("record_id")  # the header in the page's language
    assert len(rows) - 1 == len(installations)
    for row, installation in zip(rows[1:], installations, strict=True):
        assert row[0] == installation.label and row[1] == installation.id_card_masked
        assert (row[6], row[7], row[9]) == (
            installation.photo_count,
            installation.video_count,
            installation.failed_count,
        )
        assert (row[8] or "") == ", ".join(_en(f"pt_{t}") for t in installation.missing_types)
    assert sum(row[9] for row in rows[1:]) == snap.stations[station_id].failed > 0
    assert all(row[10] for row in rows[1:] if row[9])  # a failure has its category
    text = every_text(answer.content)
    assert not any(raw in text for raw in data.raw_ids)
    assert not any(key in text for key in data.object_keys)


def _en(key: str) -> str:
    from pv_gallery.i18n import Translator

    return Translator("en")(key)


def test_the_missing_types_export_is_every_installation_missing_one(tmp_path):
    """The world's records without their media: every picked-up installation misses every required type."""
    world = group_world("tiny", seed=3)
    store = LocalDirObjectStore(tmp_path)
    buffer = io.BytesIO()
    pq.write_table(world_index(world), buffer)
    store.put_bytes(INDEX_KEY, buffer.getvalue(), "application/vnd.apache.parquet")
    config = GalleryConfig(password=PASSWORD, session_secret="test-session-secret-0123456789")
    client = TestClient(create_app(store, config), base_url="http://localhost", follow_redirects=False)
    assert client.post("/login", data={"password": PASSWORD, "next": "/"}).status_code == 303
    region = world.stations[0].region_code
    book = read(client.get(f"/export/missing.xlsx?lang=en&region={region}"))
    rows = sheet_rows(book, book.sheetnames[0])
    picked = [(p.station_id, i) for p in world.stations if p.region_code == region for i in p.installations]
    picked = [(sid, i) for sid, i in picked if i.picked_up]
    assert sorted((row[2], row[3]) for row in rows[1:]) == sorted((sid, i.record_id) for sid, i in picked)
    assert {row[5] for row in rows[1:]} == {", ".join(_en(f"pt_{t}") for t in REQUIRED_PHOTO_TYPES)}
    text = every_text(client.get(f"/export/missing.xlsx?region={region}").content)
    assert not any(i.id_card_no in text or i.owner_name in text for _sid, i in picked)


def test_text_that_looks_like_a_formula_stays_text():
    content = workbook_bytes([("s", ["a"], [['=HYPERLINK("http://x")'], ["+1"], [12]])])
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = [row[0] for row in book["s"].iter_rows(min_row=2)]  # below the header
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "+1", 12]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert "<f>" not in every_text(content)


def test_exports_need_a_sign_in(client):
    anonymous = TestClient(client.app, base_url="http://localhost", follow_redirects=False)
    for path in (
        "/export/overview.xlsx",
        "/export/missing.xlsx",
        "/export/supervision.xlsx",
        "/station/ST-1/export.xlsx",
    ):
        assert anonymous.get(path).status_code == 303

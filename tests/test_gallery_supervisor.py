"""The supervisor's view (issue 25) through Starlette's TestClient, on a small index and health table in
the local store: a station that never collected is on the overview and has a page, reasons in a manager's
words in Chinese and English, stale by the configured age, the missing-type filter, headline figures."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pv_assets.gallery.health import Attempts, health_bytes, health_rows
from pv_gallery.config import GalleryConfig, GalleryConfigError
from pv_model.gallery_contract import HEALTH_KEY, INDEX_KEY
from resources.object_store import LocalDirObjectStore
from tests.test_gallery import login, make_client, station_rows
from tests.test_gallery_completeness import ROWS, index_table
from tests.test_station_health import FakeStation

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
NOW = datetime.now(UTC)


def iso(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store = LocalDirObjectStore(tmp_path_factory.mktemp("supervisor-store"))
    rows = [{**r, "station_name": f"{r['station_id']}站", "record_fields": "{}", "item_id": f"{n:016x}"}
            for n, r in enumerate(ROWS)]  # fmt: skip
    sink = pa.BufferOutputStream()
    pq.write_table(index_table(rows), sink)
    store.put_bytes(INDEX_KEY, sink.getvalue().to_pybytes(), "application/vnd.apache.parquet")
    stations = [
        FakeStation("A", "A站", "RC-1"),
        FakeStation("B", "B站", "RC-1"),
        FakeStation("C", "登录失败站", "RC-2"),
    ]
    attempts = {
        "A": Attempts(iso(1), True, iso(1), run_id="run-a"),
        "B": Attempts(iso(100), True, iso(100), run_id="run-b"),  # older than the 72 h default: stale
        "C": Attempts(iso(2), False, None, "login failed: code 1001: 用户名或密码错误", "run-c"),
    }
    store.put_bytes(HEALTH_KEY, health_bytes(health_rows(stations, attempts, {"RC-1": "南京区域公司"})), "x")
    return login(make_client(store))


def test_every_registry_station_is_on_the_overview_with_its_state(client):
    html = client.get("/?sort=state").text
    rows = {row[0].split()[-1]: row for row in station_rows(html, "stations")}
    assert set(rows) == {"A", "B", "C"}
    assert rows["C"][2].startswith("采集失败 登录失败（账号或密码错误） 技术原因 login failed: code 1001")
    assert rows["C"][4] == "从未" and rows["C"][5] == "0"  # never succeeded, nothing picked up
    assert rows["B"][2] == "数据过期" and rows["A"][2] == "正常"
    assert [row[0].split()[-1] for row in station_rows(html, "stations")][0] == "C"  # the worst first
    assert 'aria-sort="descending"' in html
    headline = re.sub(r"<[^>]+>", " ", re.search(r'<ul class="headline".*?</ul>', html, re.S).group(0))
    assert " ".join(headline.split()) == (
        "1 / 3 正常采集的场站 1 采集失败的场站 1 数据过期的场站 4 已提货户数 1 照片齐全户数 (25.0%) 3 缺必需照片户数"
    )


def test_english_reasons_and_a_configurable_stale_age(client):
    html = client.get("/?lang=en&sort=state").text
    rows = {row[0].split()[-1]: row for row in station_rows(html, "stations")}
    assert rows["C"][2].startswith("Collection failed Login failed (wrong account or password) Technical reason")
    config = client.app.state.config
    client.app.state.config = dataclasses.replace(config, stale_after_h=200)
    try:
        rows = {row[0].split()[-1]: row for row in station_rows(client.get("/?lang=zh").text, "stations")}
        assert rows["B"][2] == "正常"
    finally:
        client.app.state.config = config


def test_a_station_that_never_collected_has_a_page_with_its_reason(client):
    page = client.get("/station/C")
    assert page.status_code == 200
    assert "此场站还没有采集到的数据" in page.text and "登录失败（账号或密码错误）" in page.text
    assert "run-c" in page.text  # the run, for the engineer


def test_the_missing_type_filter_lists_the_installations_without_it(client):
    records = lambda page: re.findall(r'<span class="record">([^<]+)</span>', page)  # noqa: E731
    assert records(client.get("/station/A?missing=inverter").text) == ["R2", "R3"]
    assert records(client.get("/station/A?missing=roof_panorama").text) == ["R3"]
    page = client.get("/station/A").text
    assert page.count('class="type lack"') == 3 and page.count('class="type have"') == 3
    assert "照片齐全率 <b>33.3%</b>" in page


def test_one_search_across_every_station(tmp_path):
    store = LocalDirObjectStore(tmp_path)
    fields = lambda **kw: json.dumps(kw, ensure_ascii=False)  # noqa: E731
    rows = [
        {"station_id": "A", "record_id": "R1", "item_id": "0" * 16, "id_card_masked": "320102********0011",
         "record_fields": fields(projectName="张**户用光伏", county="玄武区", village="东山村")},
        {"station_id": "B", "record_id": "110105194912310021", "item_id": "1" * 16,
         "id_card_masked": "110105********0022", "record_fields": fields(village="西山村", address="西山村3号")},
        {"station_id": "B", "record_id": "R3", "item_id": "2" * 16, "id_card_masked": "110105********0033",
         "record_fields": fields(village="东山新村")},
    ]  # fmt: skip
    sink = pa.BufferOutputStream()
    pq.write_table(index_table([{**r, "status": "none", "station_name": r["station_id"]} for r in rows]), sink)
    store.put_bytes(INDEX_KEY, sink.getvalue().to_pybytes(), "x")
    client = login(make_client(store))
    found = lambda q: re.findall(r'<span class="record">([^<]+)</span>', client.get("/search", params={"q": q}).text)  # noqa: E731
    assert found("东山") == ["R1", "R3"]  # a village, across stations
    assert found("玄武") == ["R1"] and found("张**") == ["R1"]  # county; the project name with its masked surname
    assert found("0022") == ["110105********0021"]  # last 4 of the ID number
    assert found("r3") == ["R3"]  # record id, any case
    assert found("1949") == [] and found("110105194912310021") == []  # never confirms digits a page hides
    assert found("village") == [] and found("") == []  # field names are not searched
    page = client.get("/search", params={"q": "东山"}).text
    assert '<label for="global-q">' in page and "110105194912310021" not in page


def test_pv_media_gallery_finds_the_demos_store_when_none_is_configured(tmp_path):
    from pv_gallery.server import DEMO_STORE, demo_store

    assert demo_store({}, tmp_path) is None  # no demo run here
    (tmp_path / DEMO_STORE / INDEX_KEY).parent.mkdir(parents=True)
    (tmp_path / DEMO_STORE / INDEX_KEY).write_bytes(b"PAR1")
    assert demo_store({}, tmp_path).root == (tmp_path / DEMO_STORE)
    assert demo_store({"PV_LOCAL_STORE": "/elsewhere"}, tmp_path) is None  # a configured store is respected
    assert demo_store({"MINIO_ENDPOINT": "minio:9000"}, tmp_path) is None


def test_favicon_and_short_password(client):
    from pv_gallery.config import GalleryConfig, GalleryConfigError

    assert client.get("/favicon.ico").headers["location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.text.startswith("<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text
    with pytest.raises(GalleryConfigError, match="PV_GALLERY_PASSWORD is 11 characters; the gallery needs at least 12"):
        GalleryConfig(password="x" * 11)
    with pytest.raises(GalleryConfigError, match="PV_GALLERY_TIME_ZONE='Mars/Olympus' is not a time zone name"):
        GalleryConfig(password="x" * 12, time_zone="Mars/Olympus")


def test_grey_text_contrast_is_at_least_4_5_to_1():
    from pathlib import Path

    css = (Path(__file__).parents[1] / "pv_gallery/static/gallery.css").read_text()

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    greys = set(re.findall(r"(?<![-\w])color: #([0-9a-f]{6})", css))
    assert greys, "no text colours found"
    page = luminance("f5f7fa")  # the page background (cards are white: lighter still)
    for grey in greys:
        assert (page + 0.05) / (luminance(grey) + 0.05) >= 4.5, grey


def test_an_unreadable_health_table_is_logged_and_the_index_still_shown(tmp_path, caplog):
    store = LocalDirObjectStore(tmp_path)
    sink = pa.BufferOutputStream()
    rows = [{**r, "station_name": r["station_id"], "item_id": f"{n:016x}"} for n, r in enumerate(ROWS)]
    pq.write_table(index_table(rows), sink)
    store.put_bytes(INDEX_KEY, sink.getvalue().to_pybytes(), "x")
    store.put_bytes(HEALTH_KEY, b"not parquet", "x")
    html = login(make_client(store)).get("/").text
    assert sorted(row[0].split()[-1] for row in station_rows(html, "stations")) == ["A", "B"]
    assert f"station health {HEALTH_KEY} unreadable" in caplog.text and "run the gallery job again" in caplog.text


def test_a_failed_run_links_to_the_dagster_ui_when_its_address_is_configured(client):
    # Unset (the module's client): the run id as text, no link anywhere.
    assert "run-c" in client.get("/station/C").text and "/runs/" not in client.get("/?sort=state").text
    linked = login(make_client(client.app.state.store, dagster_ui_url="https://dagster.example.cn/"))
    href = 'href="https://dagster.example.cn/runs/run-c"'
    assert href in linked.get("/station/C").text and href in linked.get("/?sort=state").text
    with pytest.raises(GalleryConfigError, match="PV_DAGSTER_UI_URL='javascript:alert\\(1\\)' is not an http"):
        GalleryConfig(password="x" * 12, dagster_ui_url="javascript:alert(1)")

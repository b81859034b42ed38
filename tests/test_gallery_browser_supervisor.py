"""The supervisor's view in a real browser (issue 25), desktop and phone: a failing station and its
reason, a stale station, the missing-type filter, the global search, no sideways scrolling at 390 px,
and a swipe in the viewer. The browser is the session's one Chromium (tests/conftest.py); the data is
the browser fixtures' with photo types and a station-health table.

Screenshots go to test-artifacts/gallery/ (ignored by git).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pv_assets.gallery.health import Attempts, health_bytes, health_rows
from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_model.gallery_contract import HEALTH_KEY, INDEX_KEY
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data, served_app
from tests.test_gallery_browser import CHROMIUM, PASSWORD, shot
from tests.test_station_health import FakeStation

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium")
REQUIRED = "roof_panorama,inverter"
TYPES = ("roof_panorama", "inverter", "modules")  # given to each record's stored photos in turn
FAILING = "GAL-09"  # in the registry, never collected: its login fails


def typed(store: LocalDirObjectStore) -> dict[str, list[str]]:
    """Give the fixture index photo types and required types; station -> records missing an inverter photo."""
    table = pq.read_table(io.BytesIO(store.get_bytes(INDEX_KEY)))
    rows, seen, has = table.to_pylist(), {}, {}
    for row in rows:
        row["required_photo_types"] = REQUIRED
        if row["media_kind"] == "photo" and row["status"] == "stored":
            n = seen[row["record_id"]] = seen.get(row["record_id"], -1) + 1
            row["photo_type"] = TYPES[n % len(TYPES)]
            has.setdefault(row["record_id"], set()).add(row["photo_type"])
    schema = table.schema.append(pa.field("photo_type", pa.string())).append(
        pa.field("required_photo_types", pa.string())
    )
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), sink)
    store.put_bytes(INDEX_KEY, sink.getvalue().to_pybytes(), "application/vnd.apache.parquet")
    lacking: dict[str, list[str]] = {}
    for row in rows:
        if "inverter" not in has.get(row["record_id"], set()):
            lacking.setdefault(row["station_id"], []).append(row["record_id"])
    return {station: sorted(set(records)) for station, records in lacking.items()}


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    store = LocalDirObjectStore(tmp_path_factory.mktemp("gallery-supervisor"))
    data = build_gallery_data(store)
    lacking = typed(store)
    now = datetime.now(UTC)
    stations = [FakeStation("GAL-01", "阳光一号分布式光伏", "RC-320100"),
                FakeStation("GAL-02", "屋顶二号分布式光伏", "RC-510100"),
                FakeStation(FAILING, "登录失败示例光伏", "RC-320100")]  # fmt: skip
    attempts = {
        "GAL-01": Attempts(now.isoformat(), True, now.isoformat(), run_id="run-1"),
        # Last collected 10 days ago: stale at the 72 h default.
        "GAL-02": Attempts((now - timedelta(days=10)).isoformat(), True, (now - timedelta(days=10)).isoformat()),
        FAILING: Attempts(
            now.isoformat(), False, None, "station GAL-09: login failed: code 1001: 账号或密码错误", "r9"
        ),
    }
    store.put_bytes(HEALTH_KEY, health_bytes(health_rows(stations, attempts, {"RC-320100": "南京区域公司"})), "x")
    with served_app(create_app(store, GalleryConfig(password=PASSWORD))) as base:
        yield data, lacking, base


NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def signed_in(browser, base: str, **context_options):
    context = browser.new_context(locale="zh-CN", **context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def test_a_supervisor_finds_the_failing_and_the_stale_station_and_the_gaps(supervised, browser):
    data, lacking, base = supervised
    context, page = signed_in(browser, base, viewport={"width": 1280, "height": 900})
    # Overview: the failing station first, its reason in words, the technical one behind the toggle.
    assert page.inner_text("#headline-failing b") == "1" and page.inner_text("#headline-stale b") == "1"
    first = page.locator("#stations tbody tr").first
    assert first.get_attribute("data-station") == FAILING
    assert "登录失败（账号或密码错误）" in first.inner_text()
    assert not page.is_visible(f"tr[data-station='{FAILING}'] details code")
    page.click(f"tr[data-station='{FAILING}'] details summary")
    assert "login failed: code 1001" in page.inner_text(f"tr[data-station='{FAILING}'] details code")
    assert "数据过期" in page.inner_text("tr[data-station='GAL-02']")
    assert page.get_attribute("#stations th.sorted", "aria-sort") == "descending"
    assert "Asia/Shanghai" in page.inner_text("main")
    shot(page, "supervisor-overview")
    # The failing station's page: its state and reason, no 404.
    page.click(f"a.station-link[href='/station/{FAILING}']")
    page.wait_for_url(f"{base}/station/{FAILING}")
    assert "采集失败" in page.inner_text("#health") and "此场站还没有采集到的数据" in page.inner_text("main")
    shot(page, "supervisor-failing-station")
    # The missing-type filter, chosen by its label.
    page.goto(f"{base}/station/GAL-01")
    page.get_by_label("缺少照片类型").select_option("inverter")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**missing=inverter**")
    assert page.locator(".card .record").all_inner_texts() == lacking["GAL-01"]
    alts = page.eval_on_selector_all("img.thumb", "imgs => imgs.map(i => i.alt)")
    assert alts and all(alt.startswith("安装记录 ") and " · " in alt for alt in alts), alts
    shot(page, "supervisor-missing-inverter")
    # One search across the gallery: a number of the address, found in its station.
    page.goto(f"{base}/")
    page.get_by_label("全站搜索").fill("玄武区7号")
    page.press("#global-q", "Enter")
    page.wait_for_url("**/search?q=**")
    hits = page.locator("#hits .card")
    assert hits.count() == 1 and "南京市玄武区7号" in hits.first.inner_text()
    shot(page, "supervisor-search")
    context.close()


def test_on_a_phone_nothing_scrolls_sideways_and_the_viewer_swipes(supervised, browser):
    data, _lacking, base = supervised
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    context, page = signed_in(browser, base, **phone)
    assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
    assert page.is_visible(f"tr[data-station='{FAILING}'] .category")  # the reason is on screen, not off it
    shot(page, "supervisor-overview-phone")
    page.goto(f"{base}/search?q=%E7%8E%84%E6%AD%A6")  # 玄武: every record of the fixtures' addresses
    assert page.evaluate(NO_SIDEWAYS)
    shot(page, "supervisor-search-phone")
    station_id, record_id = data.showcase()
    page.goto(f"{base}/station/{station_id}?q={record_id}")
    assert page.evaluate(NO_SIDEWAYS)
    page.click(".card-link")
    page.wait_for_url("**/installation/*")
    assert page.evaluate(NO_SIDEWAYS)
    names = page.eval_on_selector_all("#strip button", "bs => bs.map(b => b.getAttribute('aria-label'))")
    assert names and all(n.startswith("照片 ") for n in names), names
    page.evaluate(
        """() => {
            const img = document.getElementById('viewer-image');
            const touch = x => [new Touch({identifier: 1, target: img, clientX: x, clientY: 300})];
            img.dispatchEvent(new TouchEvent('touchstart', {changedTouches: touch(300), bubbles: true}));
            img.dispatchEvent(new TouchEvent('touchend', {changedTouches: touch(120), bubbles: true}));
        }"""
    )
    assert page.inner_text("#viewer-position") == "2"  # swiped left: the next photo
    shot(page, "supervisor-installation-phone")
    context.close()

"""The supervision page and the badge (issue 27): through Starlette's TestClient, and in a real browser.

The data is the gallery fixtures' index with a findings file written by photo_evidence's own writer:
a photo of GAL-01/R001 reused for GAL-02/R101, a far photo, an early one and one without camera data.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from pv_assets.evidence.findings import Thresholds, all_findings
from pv_assets.evidence.group import write_findings
from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_gallery.i18n import Translator
from pv_model.evidence_contract import FINDINGS_KEY
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data, served_app
from tests.test_gallery import installation_url, links, login, make_client
from tests.test_gallery_browser import ALL_RENDERED, CHROMIUM, PASSWORD, shot
from tests.test_gallery_browser_supervisor import NO_SIDEWAYS

HOME = {"installation_lat": 32.06, "installation_lon": 118.79, "install_date": "2026-03-10"}


def plant(data) -> dict[str, str]:
    """Findings on the fixture's photos, drawn by pv_assets.evidence; what each case is about, by name."""
    r001 = data.stored("GAL-01", "R001", "photo")[0]["item_id"]
    r101 = data.stored("GAL-02", "R101", "photo")[0]["item_id"]
    far = data.stored("GAL-01", "R005", "photo")[0]["item_id"]
    early, bare = (r["item_id"] for r in data.stored("GAL-02", "R102", "photo"))

    def fact(station, region, record, item, phash, **extra):
        return {"station_id": station, "region_code": region, "record_id": record, "item_id": item,
                "thumb_key": None, "phash": phash, "facts_outcome": "computed", "has_camera_data": True,
                **HOME, **extra}  # fmt: skip

    facts = [
        fact("GAL-01", "RC-320100", "R001", r001, "ffff0000ffff0000"),
        fact("GAL-02", "RC-510100", "R101", r101, "ffff0000ffff0003"),  # 2 bits: the same picture
        # 0.1 degree of latitude north: 11.1 km
        fact("GAL-01", "RC-320100", "R005", far, "00ff00ff00ff00ff", gps_lat=32.16, gps_lon=118.79),
        fact("GAL-02", "RC-510100", "R102", early, "0f0f0f0f0f0f0f0f", taken_at="2025-09-01T10:00:00"),
        fact("GAL-02", "RC-510100", "R102", bare, "f0f0f0f0f0f0f0f0", has_camera_data=False),
    ]
    write_findings(data.store, all_findings(facts, Thresholds()))
    return {"r001": r001, "r101": r101, "far": far, "early": early, "bare": bare}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    data = build_gallery_data(LocalDirObjectStore(tmp_path_factory.mktemp("gallery-evidence")))
    return data, plant(data)


def test_the_supervision_page_groups_the_cases_and_links_each_photo_to_its_installation(planted):
    data, items = planted
    client = login(make_client(data.store))
    page = client.get("/supervision?lang=en")
    assert page.status_code == 200, page.text
    html = page.text
    counts = dict(re.findall(r'<b data-kind="(\w+)">(\d+)</b>', html))
    assert counts == {"reuse": "1", "gps_far": "1", "captured_early": "1", "captured_late": "0", "no_camera_data": "1"}
    urls = links(html).urls
    for station, record in (("GAL-01", "R001"), ("GAL-02", "R101"), ("GAL-01", "R005"), ("GAL-02", "R102")):
        assert installation_url(client, station, record) in urls
    for item in items.values():
        thumb = client.get(f"/media/{item}/thumb")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    reuse = html.split('id="kind-reuse"', 1)[1].split("</section>", 1)[0]
    assert reuse.count("<figure>") == 2 and "Installations <b>2</b>" in reuse and "bits apart <b>2</b>" in reuse
    assert '<b class="distance">11.1 km</b>' in html and '<b class="days">190</b> days before installing' in html
    assert "32.16" not in html and "118.79" not in html  # the distance, never the coordinates
    for secret in data.secrets():
        assert secret not in html


def test_the_supervision_export_has_a_row_per_photo_of_each_case_without_coordinates_or_ids(planted):
    data, _items = planted
    client = login(make_client(data.store))
    assert 'id="export-supervision" href="/export/supervision.xlsx"' in client.get("/supervision").text
    answer = client.get("/export/supervision.xlsx?lang=en")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:5] == ["#", "Photo supervision", "Region", "Station", "Record"]
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row[1], []).append(row)
    # The reuse is one case of two photos (two installations); each other case one photo with its gap.
    assert sorted((kind, len(found)) for kind, found in by_kind.items()) == sorted(
        [(k, n) for k, n in by_kind_expected().items()]
    )
    reuse = by_kind[Translator("en")("ev_reuse")]
    assert {r[0] for r in reuse} == {reuse[0][0]} and {r[3] for r in reuse} == {"GAL-01", "GAL-02"}
    assert reuse[0][5] == 2 and reuse[0][6] == 2
    far = by_kind[Translator("en")("ev_gps_far")][0]
    assert far[7] == 11.1 and far[9].startswith("/station/GAL-01/installation/")
    assert by_kind[Translator("en")("ev_captured_early")][0][8] == 190
    text = " ".join(str(cell) for row in rows for cell in row if cell is not None)
    assert "32.16" not in text and "118.79" not in text
    for secret in data.secrets():
        assert secret not in text


def by_kind_expected() -> dict[str, int]:
    t = Translator("en")
    return {t("ev_reuse"): 2, t("ev_gps_far"): 1, t("ev_captured_early"): 1, t("ev_no_camera_data"): 1}


def test_a_suspicious_photo_has_a_badge_on_its_installation_page_and_others_none(planted):
    data, items = planted
    client = login(make_client(data.store))
    page = client.get(installation_url(client, "GAL-01", "R001") + "?lang=en").text
    assert re.findall(r'class="evidence-badge" href="/supervision" data-item="(\w+)"', page) == [items["r001"]]
    assert "One photo for several households · Installations 2" in page
    clean = client.get(installation_url(client, "GAL-01", "R002")).text
    assert "evidence-badge" not in clean


def test_before_photo_evidence_has_run_the_page_says_so(tmp_path):
    data = build_gallery_data(LocalDirObjectStore(tmp_path))
    client = login(make_client(data.store))
    assert data.store.stat(FINDINGS_KEY) is None
    page = client.get("/supervision?lang=en")
    assert page.status_code == 200 and 'id="no-evidence"' in page.text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium")
def test_a_supervisor_sees_the_reused_photo_side_by_side_and_follows_it_to_the_installation(planted, browser):
    data, items = planted
    with served_app(create_app(data.store, GalleryConfig(password=PASSWORD))) as base:
        see_the_reused_photo(browser, base, items)


def see_the_reused_photo(browser, base: str, items: dict) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.click("#supervision-link")
        page.wait_for_url(f"{base}/supervision")
        reused = page.locator("#kind-reuse .case figure img")
        assert reused.count() == 2
        page.wait_for_function(ALL_RENDERED, arg="#kind-reuse .case img")  # both thumbnails, side by side
        boxes = [reused.nth(n).bounding_box() for n in range(2)]
        assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]
        assert page.inner_text("#kind-gps_far .distance") == "11.1 km"
        shot(page, "evidence-supervision")
        page.locator("#kind-reuse .installation-link").nth(1).click()
        page.wait_for_url("**/installation/*")
        badge = page.locator(".evidence-badge[data-item]")
        assert badge.count() == 1 and badge.get_attribute("data-item") == items["r101"]
        assert badge.inner_text() == "存疑" and "同一照片用于多户" in badge.get_attribute("title")
        shot(page, "evidence-installation-badge")
        context.close()
        # On a phone: the cases wrap, nothing scrolls sideways.
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/supervision")
        assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
        shot(page, "evidence-supervision-phone")
    finally:
        context.close()

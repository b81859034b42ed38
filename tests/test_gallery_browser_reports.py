"""Reports printed to PDF in Chromium (issue 26): A4 pages, the installation's photos in the PDF; a station's
Excel export downloaded and read back; the "copy link" button putting the page's address on the clipboard."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_gallery.installations import installation_key
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data, served_app
from tests.test_gallery_browser import CHROMIUM
from tests.test_gallery_browser_dashboard import DRAWN

PASSWORD = "browser-test-password-7f3a"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium")
A4_POINTS = (595.92, 842.88)  # 210 x 297 mm
ALL_LOADED = "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = build_gallery_data(LocalDirObjectStore(tmp_path_factory.mktemp("reports")))
    app = create_app(data.store, GalleryConfig(password=PASSWORD))
    with served_app(app) as base:
        yield data, app, base


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size of every page of a PDF (Chromium writes its page objects uncompressed)."""
    assert pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    boxes = [tuple(float(v) for v in box.split()[2:4]) for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)]
    assert len(boxes) >= len(pages) > 0
    return boxes[: len(pages)]


def test_reports_print_to_a4_pdf_with_the_photos_and_a_link_copies(served, browser):
    data, app, base = served
    station_id, record_id = data.showcase()
    key = installation_key(app.state.config.key("installation-ids"), station_id, record_id)
    photos = data.stored(station_id, record_id, "photo")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/station/{station_id}/installation/{key}/report")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/installation/{key}/report")  # the report's link survives the sign-in
    page.wait_for_function(ALL_LOADED)
    assert page.locator("#report-photos img").count() == len(photos) >= 2
    pdf = page.pdf(format="A4", print_background=True)
    sizes = pdf_pages(pdf)
    assert all(abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in sizes), sizes
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= len(photos)

    page.goto(f"{base}/station/{station_id}/report")
    rows = page.locator("#report-checklist tbody tr").count()
    assert rows == len({r["record_id"] for r in data.rows if r["station_id"] == station_id})
    sizes = pdf_pages(page.pdf(format="A4"))
    assert all(abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in sizes), sizes
    page.emulate_media(media="print")  # what the PDF shows: the report, without the navigation
    assert not page.is_visible("header.top") and not page.is_visible("#print-report")
    assert page.is_visible("#report-checklist")
    page.emulate_media(media="screen")

    # The dashboard over collected media: the items stored per month of collection drawn.
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("#dash-charts[data-ready='1']")
    assert page.eval_on_selector("#chart-collected", DRAWN)
    stored = sum(1 for r in data.rows if r["status"] == "stored" and r["collected_at"])
    assert sum(int(c) for c in page.locator("#dash-months tbody tr td:nth-child(5)").all_text_contents()) == stored

    # The station page's Excel link downloads what the page lists, read back with openpyxl.
    page.goto(f"{base}/station/{station_id}")
    with page.expect_download() as download:
        page.click("#export-station")
    assert download.value.suggested_filename == f"{station_id}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    sheet = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert len(sheet) - 1 == rows
    assert not any(raw in str(sheet) for raw in data.raw_ids)

    page.click("#copy-link")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.url
    assert page.text_content("#copy-link") == "已复制"
    context.close()

"""The dashboard in Chromium (issue 26): the bundled ECharts draws every chart from /dashboard/data under the
gallery's CSP, a region's bar narrows to its stations, and a station's map points open installation pages."""

from __future__ import annotations

import http.server
import io
import re
import threading

import pyarrow.parquet as pq
import pytest
from PIL import Image

from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_gallery.index import INDEX_KEY
from pv_simulator.world import group_world
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import served_app
from tests.test_dashboard import world_index
from tests.test_gallery_browser import CHROMIUM, shot

PASSWORD = "browser-test-password-7f3a"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium")
# A canvas with something drawn on it: some pixel that is not transparent and not white.
DRAWN = """el => { const c = el.querySelector('canvas'); if (!c) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) return true;
  }
  return false; }"""
# The middle of the first bar of a horizontal bar chart, in page pixels.
FIRST_BAR = """el => { el.scrollIntoView(); const chart = echarts.getInstanceByDom(el);
  const v = chart.getOption().series[0].data[0].value;
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, [v / 2, 0]); const r = el.getBoundingClientRect();
  return [r.left + x, r.top + y]; }"""
FIRST_POINT = """el => { el.scrollIntoView(); const chart = echarts.getInstanceByDom(el);
  const p = chart.getOption().series[0].data[0].value.slice(0, 2);
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, p); const r = el.getBoundingClientRect();
  return [r.left + x, r.top + y]; }"""

# Points the scatter series drew (its data with a layout), not merely the ones it was given.
MAP_POINTS = """el => { const data = echarts.getInstanceByDom(el).getModel().getSeriesByIndex(0).getData();
  let drawn = 0; for (let i = 0; i < data.count(); i++) { if (data.getItemGraphicEl(i)) drawn++; } return drawn; }"""


def gallery(store, config: GalleryConfig):
    return served_app(create_app(store, config))


@pytest.fixture(scope="module")
def world_store(tmp_path_factory):
    world = group_world("tiny", seed=3)
    store = LocalDirObjectStore(tmp_path_factory.mktemp("dashboard-browser"))
    buffer = io.BytesIO()
    pq.write_table(world_index(world), buffer)
    store.put_bytes(INDEX_KEY, buffer.getvalue(), "application/vnd.apache.parquet")
    return world, store


@pytest.fixture(scope="module")
def served(world_store):
    world, store = world_store
    with gallery(store, GalleryConfig(password=PASSWORD)) as base:
        yield world, base


class TileHandler(http.server.BaseHTTPRequestHandler):
    """An internal tile server: one grey PNG for every tile asked for."""

    asked: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        image = io.BytesIO()
        Image.new("RGB", (256, 256), (200, 200, 200)).save(image, format="PNG")
        TileHandler.asked.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(image.getvalue())))
        self.end_headers()
        self.wfile.write(image.getvalue())

    def log_message(self, *args):
        pass


def test_with_an_approved_tile_service_the_map_draws_its_tiles_under_the_points(world_store, browser):
    world, store = world_store
    tiles = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{tiles.server_address[1]}"
    config = GalleryConfig(password=PASSWORD, map_tiles=origin + "/{z}/{x}/{y}.png", map_attribution="内部底图")
    try:
        with gallery(store, config) as base:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            answer = page.goto(f"{base}/login?next=/dashboard")
            assert f"img-src 'self' {origin};" in answer.headers["content-security-policy"]
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#dash-charts[data-ready='1']")
            page.wait_for_function("() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0")
            regions = {p.region_code for p in world.stations if any(i.picked_up for i in p.installations)}
            assert page.locator("#chart-map path.map-point").count() == len(regions)
            assert "内部底图" in page.text_content("#chart-map .leaflet-control-attribution")
            assert TileHandler.asked and all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in TileHandler.asked)
            page.locator("#chart-map path.map-point").first.click()
            page.wait_for_url("**/dashboard?region=*")
            assert problems == [], problems
            page.close()
    finally:
        tiles.shutdown()


def test_charts_and_map_render_and_narrow(served, browser):
    world, base = served
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/dashboard")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")  # back where the sign-in started
    page.wait_for_selector("#dash-charts[data-ready='1']")
    # Not chart-collected: this index of the world's records has no media (test_gallery_browser_reports draws it).
    for chart in ("chart-picked", "chart-capacity", "chart-coverage", "chart-groups", "chart-map"):
        assert page.eval_on_selector(f"#{chart}", DRAWN), chart
    regions = {p.region_code for p in world.stations if any(i.picked_up for i in p.installations)}
    assert page.eval_on_selector("#chart-map", MAP_POINTS) == len(regions)
    shot(page, "dashboard")

    # A region's bar narrows every figure to the region: its stations in the groups chart.
    x, y = page.eval_on_selector("#chart-groups", FIRST_BAR)
    page.mouse.click(x, y)
    page.wait_for_url("**region=*")
    page.wait_for_selector("#dash-charts[data-ready='1']")
    region = page.url.split("region=")[1].split("&")[0]
    stations = [p for p in world.stations if p.region_code == region and any(i.picked_up for i in p.installations)]
    assert page.locator("#dash-groups tbody tr").count() == len(stations)

    # A station's bar: its installations on the map, each a link to its page.
    x, y = page.eval_on_selector("#chart-groups", FIRST_BAR)
    page.mouse.click(x, y)
    page.wait_for_url("**station=*")
    page.wait_for_selector("#dash-charts[data-ready='1']")
    station = page.url.split("station=")[1].split("&")[0]
    picked = [i for i in world.station(station).installations if i.picked_up]
    assert page.eval_on_selector("#chart-map", MAP_POINTS) == len(picked)
    x, y = page.eval_on_selector("#chart-map", FIRST_POINT)
    page.mouse.click(x, y)
    page.wait_for_url(f"**/station/{station}/installation/*")
    assert problems == [], problems
    assert outside == []
    context.close()

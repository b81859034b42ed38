"""The gallery in a real browser: Playwright driving Debian's Chromium against the real server
(uvicorn on a free loopback port) - login, overview, station, thumbnails rendered, installation,
keyboard stepping, video playing and seeking through Range requests, search by the last 4 ID
characters, and no object key or raw ID number in any page or URL the browser saw.

Screenshots of each page go to test-artifacts/gallery/ (ignored by git).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import GalleryData, build_gallery_data, served_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "gallery"
PASSWORD = "browser-test-password-7f3a"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
)


def browser_data(directory: Path) -> GalleryData:
    """The data the browser looks at. The one place to switch to the demo's store once it writes an
    index: run the demo into `directory` and return `GalleryData.from_store(LocalDirObjectStore(...))`;
    the tests below derive every station, record and ID digit they use from it."""
    return build_gallery_data(LocalDirObjectStore(directory))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = browser_data(tmp_path_factory.mktemp("gallery-browser"))
    with served_app(create_app(data.store, GalleryConfig(password=PASSWORD))) as base:
        yield data, base


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


ALL_RENDERED = "sel => Array.from(document.querySelectorAll(sel)).every(i => i.complete && i.naturalWidth > 0)"


IN_VIEW = "imgs => imgs.filter(i => i.getBoundingClientRect().top < innerHeight)"
VIEW_RENDERED = (
    "sel => Array.from(document.querySelectorAll(sel)).filter(i => i.getBoundingClientRect().top < innerHeight)"
    ".every(i => i.complete && i.naturalWidth > 0)"
)


def test_a_supervisor_walks_through_the_gallery(served, browser):
    """Every target is derived from the data, so the same walk runs on the demo's index."""
    data, base = served
    station_id, record_id = data.showcase()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    seen_urls: list[str] = []
    video_statuses: list[int] = []
    page.on("request", lambda request: seen_urls.append(request.url))
    page.on("response", lambda r: video_statuses.append(r.status) if r.url.endswith("/original") else None)
    page.set_default_timeout(15_000)
    contents: list[str] = []

    # Log in: any page sends us to the login form first.
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    shot(page, "login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # Overview: every station, the largest coverage gap first.
    assert page.locator("#stations tbody tr").count() == min(100, len(data.stations()))
    gaps = page.eval_on_selector_all("#stations tbody td.gap", "tds => tds.map(t => Number(t.textContent))")
    assert gaps == sorted(gaps, reverse=True)
    contents.append(page.content())
    shot(page, "overview")

    # Station: cards with thumbnails the browser actually decoded.
    page.click(f"#stations a.station-link[href='/station/{station_id}']")
    page.wait_for_url(f"{base}/station/{station_id}")
    records = data.records(station_id)
    assert page.locator(".card").count() == min(48, len(records))
    page.wait_for_function(VIEW_RENDERED, arg="img.thumb")
    widths = page.eval_on_selector_all("img.thumb", f"imgs => ({IN_VIEW})(imgs).map(i => i.naturalWidth)")
    assert widths and all(0 < w <= 320 for w in widths), widths
    contents.append(page.content())
    shot(page, "station")

    # Search by the last 4 characters of the ID number (one that only one installation has).
    last4 = {}
    for row in data.rows:
        if row["station_id"] == station_id and row["id_card_masked"]:
            last4.setdefault(row["id_card_masked"][-4:], set()).add(row["record_id"])
    digits, (found,) = next((k, v) for k, v in sorted(last4.items()) if len(v) == 1)
    page.fill("#search", digits)
    page.press("#search", "Enter")
    page.wait_for_url(f"**q={digits}**")
    assert page.locator(".card .record").all_inner_texts() == [found]
    contents.append(page.content())

    # Installation (found by its record id): medium renditions, keyboard stepping, full size on click.
    page.fill("#search", record_id)
    page.press("#search", "Enter")
    page.wait_for_url(f"**q={record_id}**")
    assert page.locator(".card-link").count() == 1
    page.click(".card-link")  # addressed by an opaque key, never by the record id
    page.wait_for_url("**/installation/*")
    assert record_id not in page.url
    photos = data.stored(station_id, record_id, "photo")
    shown = [f"/media/{p['item_id']}/{'medium' if p['medium_key'] else 'original'}" for p in photos]
    page.wait_for_function(ALL_RENDERED, arg="#viewer-image")
    assert page.get_attribute("#viewer-image", "src") == shown[0]
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#viewer-position") == "2"
    assert page.get_attribute("#viewer-image", "src") == shown[1]
    page.wait_for_function(ALL_RENDERED, arg="#viewer-image")
    assert 0 < page.eval_on_selector("#viewer-image", "i => i.naturalWidth") <= 1280
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # wraps to the last photo
    assert page.inner_text("#viewer-position") == str(len(photos))
    page.click("#viewer-image")
    assert page.is_visible("#lightbox")
    last = photos[-1]
    if last["content_type"] in ("image/jpeg", "image/png"):
        page.wait_for_function(ALL_RENDERED, arg="#lightbox-image")
        width = page.eval_on_selector("#lightbox-image", "i => i.naturalWidth")
        assert last["width"] and width == last["width"]  # the original, full size
    page.keyboard.press("Escape")
    assert page.is_hidden("#lightbox")
    shot(page, "installation")

    # The video plays, and seeking is served by Range requests (206) from the store.
    state = page.evaluate(
        """async () => {
            const v = document.querySelector('video');
            v.muted = true;
            await v.play();
            await new Promise(r => {
                if (v.currentTime > 0) r(); else v.addEventListener('timeupdate', r, {once: true});
            });
            v.pause();
            const target = Math.min(3.0, v.duration * 0.75);
            const seeked = new Promise(r => v.addEventListener('seeked', r, {once: true}));
            v.currentTime = target;
            await seeked;
            return {time: v.currentTime, target: target, ready: v.readyState, error: v.error && v.error.code};
        }"""
    )
    assert state["error"] is None and abs(state["time"] - state["target"]) < 0.25, state
    assert state["ready"] >= 2
    assert 206 in video_statuses, video_statuses
    contents.append(page.content())

    # Nothing the browser saw names an object key or holds a raw ID number.
    secrets = data.secrets()
    assert secrets
    for text in seen_urls + contents:
        for secret in secrets:
            assert secret not in text
    context.close()


def test_the_pages_read_in_english_too(served, browser):
    data, base = served
    station_id, record_id = data.showcase()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "No photo" in page.inner_text("#stations thead")
    page.goto(f"{base}/station/{station_id}?q={record_id}")
    page.click(".card-link")
    page.wait_for_url("**/installation/*")
    assert f"Installation {record_id}" in page.inner_text("h1")
    shot(page, "installation-en")
    context.close()

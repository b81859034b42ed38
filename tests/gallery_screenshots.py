"""The README's gallery screenshots: `python -m tests.gallery_screenshots docs/img`.

The same data and server as the browser tests (gallery_fixtures), Debian's Chromium, one PNG per
page, reduced to a 128-colour palette so they stay small in the repository.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image
from playwright.sync_api import sync_playwright

from bench.stack import free_port
from pv_gallery.app import create_app
from pv_gallery.config import GalleryConfig
from pv_gallery.installations import installation_key
from resources.object_store import LocalDirObjectStore
from tests.gallery_fixtures import build_gallery_data
from tests.test_gallery_browser import CHROMIUM, CHROMIUM_ARGS

SECRET = "screenshot-session-secret-0123456789"  # noqa: S105 - keys the installation links of a throwaway server
PAGES = {
    "gallery-overview": "/",
    "gallery-station": "/station/GAL-01",
    "gallery-installation": "/station/GAL-01/installation/"
    + installation_key(
        GalleryConfig(password="x" * 12, session_secret=SECRET).key("installation-ids"), "GAL-01", "R001"
    ),
}


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    password = "screenshot-password"  # noqa: S105 - a throwaway server on loopback
    with tempfile.TemporaryDirectory() as tmp:
        data = build_gallery_data(LocalDirObjectStore(Path(tmp)))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(data.store, GalleryConfig(password=password, session_secret=SECRET)),
                port=port,
                log_level="warning",
            )
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            page.goto(f"{base}/login")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for name, path in PAGES.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                target = out / f"{name}.png"
                page.screenshot(path=str(target))
                Image.open(target).convert("RGB").quantize(colors=128).save(target, optimize=True)
                print(f"{target} {target.stat().st_size // 1024} KiB")
            browser.close()
        server.should_exit = True
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))

"""The gallery web app (Starlette + Jinja2): overview, station, installation pages and the media stream.

Read-only. Pages and media need a signed-in session (or a trusted proxy's user header). Every
request is bounded before a handler sees it: its Host must be one of the gallery's names, its body
at most MAX_BODY_BYTES; X-Forwarded-For counts only from the configured proxies.
"""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pv_gallery.auth import login, logout
from pv_gallery.config import GalleryConfig
from pv_gallery.dashboard import dashboard, dashboard_data
from pv_gallery.evidence import EvidenceFindings
from pv_gallery.export import export_missing, export_overview, export_station
from pv_gallery.health_history import HealthHistory
from pv_gallery.index import INDEX_KEY, GalleryIndex
from pv_gallery.media import StripPlans, media
from pv_gallery.middleware import HostCheckMiddleware, SecurityHeadersMiddleware
from pv_gallery.pages import installation, overview, search, station
from pv_gallery.reports import installation_report, station_report
from pv_gallery.sessions import SessionStore
from pv_gallery.supervision import export_supervision, supervision
from pv_gallery.throttle import KnownBrowsers, LoginThrottle
from pv_gallery.timefmt import local_time, zone_label
from pv_gallery.web import url_part
from resources.object_store import ObjectStore

HERE = Path(__file__).parent
MAX_BODY_BYTES = 8 * 1024  # the login form is the only body the gallery reads


def favicon(request) -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def create_app(store: ObjectStore, config: GalleryConfig, *, index_key: str = INDEX_KEY) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["urlpart"] = url_part
    templates.env.filters["localtime"] = functools.partial(local_time, zone=config.time_zone)
    templates.env.globals["time_zone"] = zone_label(config.time_zone)
    templates.env.globals["run_url"] = config.run_url
    middleware = [
        Middleware(SecurityHeadersMiddleware, img_sources=(config.map_tile_origin,) if config.map_tile_origin else ()),
        Middleware(HostCheckMiddleware, names=config.host_names),
    ]
    if config.trusted_proxies:  # never by default: uvicorn's own default trusts 127.0.0.1, where a proxy sits
        middleware.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.trusted_proxies)))
    app = Starlette(
        routes=[
            Route("/", overview),
            Route("/favicon.ico", favicon),  # browsers ask for it whatever the page says
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/search", search),
            Route("/supervision", supervision),
            Route("/dashboard", dashboard),
            Route("/dashboard/data", dashboard_data),
            Route("/export/overview.xlsx", export_overview),
            Route("/export/missing.xlsx", export_missing),
            Route("/export/supervision.xlsx", export_supervision),
            Route("/station/{station_id}/export.xlsx", export_station),
            Route("/station/{station_id}/report", station_report),
            Route("/station/{station_id}/installation/{key}/report", installation_report),
            Route("/station/{station_id}", station),
            Route("/station/{station_id}/installation/{key}", installation),
            Route("/media/{item_id}/{rendition}", media),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=middleware,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.config = config
    app.state.store = store
    app.state.index = GalleryIndex(store, index_key, secret=config.key("installation-ids"))
    app.state.strip_plans = StripPlans(store)
    app.state.evidence = EvidenceFindings(store)
    app.state.health_history = HealthHistory(store)
    app.state.throttle = LoginThrottle(
        config.max_failed_logins, config.max_failed_logins_account, config.failed_login_window_s
    )
    app.state.sessions = SessionStore(config.session_max_age_s)
    app.state.browsers = KnownBrowsers(config.key("known-browser"))
    app.state.templates = templates
    return app

"""The gallery web app (Starlette + Jinja2): overview, station, installation pages and the media stream.

Read-only. Pages and media need a signed-in session (or a trusted proxy's user header). Media is
addressed by the index's opaque item id and streamed from the object store with Range support;
no object key (whose file name holds the owner's ID number) is ever put into a URL or a page.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pv_gallery.i18n import Translator, pick_language
from pv_gallery.index import (
    INDEX_KEY,
    RENDITIONS,
    GalleryIndex,
    IndexMissing,
    IndexSnapshot,
    IndexUnreadable,
    Installation,
    RegionSummary,
    StationSummary,
)
from pv_gallery.ranges import RangeNotSatisfiable, parse_range
from pv_gallery.security import GalleryConfig, LoginThrottle, SecurityHeadersMiddleware
from resources.object_store import ObjectStore, ObjectStoreError

log = logging.getLogger("pv_gallery")
HERE = Path(__file__).parent
LANG_COOKIE = "pv_gallery_lang"
SESSION_COOKIE = "pv_gallery_session"
STATION_PAGE_SIZE = 48
OVERVIEW_PAGE_SIZE = 100
SORT_COLUMNS = ("station", "picked_up", "with_photo", "with_video", "media_items", "failed", "gap", "last_collected")
KINDS = ("photo", "video", "none")
PREVIEW_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PREVIEW_CACHE = "private, max-age=31536000, immutable"  # previews never change under their item id
ORIGINAL_CACHE = "private, max-age=3600"
MAX_LOGIN_BODY = 4096


def url_part(value: object) -> str:
    return quote(str(value), safe="")


def current_user(request: Request) -> str | None:
    config: GalleryConfig = request.app.state.config
    if config.trusted_user_header:
        user = request.headers.get(config.trusted_user_header, "").strip()
        if user:
            return user
    return request.session.get("user")


def language(request: Request) -> str:
    return pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def render(request: Request, template: str, status_code: int = 200, **context) -> Response:
    lang = language(request)
    t = Translator(lang)
    other = "en" if lang == "zh" else "zh"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "user": current_user(request),
            "lang_url": f"{quote(request.url.path)}?{urlencode(params)}",
            **context,
        },
        status_code=status_code,
    )
    # Pages show personal data (masked IDs, addresses): never kept by a shared cache or the back button.
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


def error_page(request: Request, status_code: int, message_key: str) -> Response:
    return render(request, "error.html", status_code=status_code, message_key=message_key)


def protected(page: bool = True) -> Callable:
    """Sign-in required; the index missing and store failures become clear pages, not tracebacks."""

    def decorate(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        @functools.wraps(handler)
        def wrapped(request: Request) -> Response:
            if not current_user(request):
                if not page:
                    return PlainTextResponse("sign in first", status_code=401)
                if request.app.state.config.password is None:
                    return error_page(request, 401, "proxy_only")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
            try:
                return handler(request)
            except IndexMissing:
                if not page:
                    return PlainTextResponse("no gallery index yet", status_code=503)
                return error_page(request, 503, "no_index")
            except IndexUnreadable as exc:
                log.error("gallery index %s unreadable: %s", INDEX_KEY, exc)
                if not page:
                    return PlainTextResponse("gallery index unreadable", status_code=503)
                return error_page(request, 503, "bad_index")
            except ObjectStoreError:
                if not page:
                    return PlainTextResponse("object store unavailable", status_code=502)
                return error_page(request, 502, "store_error")

        return wrapped

    return decorate


def snapshot(request: Request) -> IndexSnapshot:
    return request.app.state.index.snapshot()


def page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def sort_key(name: str) -> Callable:
    if name == "station":
        return lambda s: s.station_name if isinstance(s, StationSummary) else s.label
    return lambda s: getattr(s, name)


@protected()
def overview(request: Request) -> Response:
    snap = snapshot(request)
    sort = request.query_params.get("sort", "gap")
    sort = sort if sort in SORT_COLUMNS else "gap"
    descending = request.query_params.get("order", "desc" if sort != "station" else "asc") != "asc"
    region_filter = request.query_params.get("region") or ""
    regions: list[RegionSummary] = sorted(snap.regions.values(), key=sort_key(sort), reverse=descending)
    stations = (
        list(snap.regions[region_filter].stations) if region_filter in snap.regions else list(snap.stations.values())
    )
    stations.sort(key=sort_key(sort), reverse=descending)
    pages = max(1, math.ceil(len(stations) / OVERVIEW_PAGE_SIZE))
    page = min(page_number(request), pages)

    def link(**changes) -> str:
        params = {"sort": sort, "order": "desc" if descending else "asc", "region": region_filter, "page": page}
        params.update(changes)
        return "/?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    sort_links = {
        column: link(sort=column, order="asc" if (column == sort and descending) else "desc", page=1)
        for column in SORT_COLUMNS
    }
    return render(
        request,
        "overview.html",
        regions=regions,
        stations=stations[(page - 1) * OVERVIEW_PAGE_SIZE : page * OVERVIEW_PAGE_SIZE],
        station_count=len(stations),
        region_filter=region_filter,
        region_filter_label=snap.regions[region_filter].label if region_filter in snap.regions else region_filter,
        sort=sort,
        descending=descending,
        sort_links=sort_links,
        region_link=lambda region: link(region=region, page=1),
        page=page,
        pages=pages,
        prev_link=link(page=page - 1) if page > 1 else None,
        next_link=link(page=page + 1) if page < pages else None,
    )


def matches(installation: Installation, status: str, kind: str, query: str) -> bool:
    if status and installation.pickup_status != status:
        return False
    if kind == "photo" and not installation.photo_count:
        return False
    if kind == "video" and not installation.video_count:
        return False
    if kind == "none" and installation.photo_count:
        return False
    if query:
        q = query.strip().upper()
        by_id = len(q) == 4 and installation.id_last4 == q
        if not by_id and q not in installation.record_id.upper():
            return False
    return True


@protected()
def station(request: Request) -> Response:
    snap = snapshot(request)
    station_id = request.path_params["station_id"]
    summary = snap.stations.get(station_id)
    installations = snap.installations(station_id)
    if summary is None or installations is None:
        return error_page(request, 404, "not_found")
    status = request.query_params.get("status", "")
    kind = request.query_params.get("kind", "")
    kind = kind if kind in KINDS else ""
    query = request.query_params.get("q", "")[:64]
    shown = [i for i in installations if matches(i, status, kind, query)]
    pages = max(1, math.ceil(len(shown) / STATION_PAGE_SIZE))
    page = min(page_number(request), pages)
    statuses: dict[str, str] = {}
    for installation in installations:
        statuses.setdefault(installation.pickup_status, installation.pickup_status_raw or installation.pickup_status)

    def link(**changes) -> str:
        params = {"status": status, "kind": kind, "q": query, "page": page, **changes}
        return f"/station/{url_part(station_id)}?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return render(
        request,
        "station.html",
        summary=summary,
        installations=shown[(page - 1) * STATION_PAGE_SIZE : page * STATION_PAGE_SIZE],
        total=len(installations),
        matching=len(shown),
        statuses=statuses,
        status=status,
        kind=kind,
        kinds=KINDS,
        query=query,
        page=page,
        pages=pages,
        prev_link=link(page=page - 1) if page > 1 else None,
        next_link=link(page=page + 1) if page < pages else None,
    )


@protected()
def installation(request: Request) -> Response:
    snap = snapshot(request)
    station_id, record_id = request.path_params["station_id"], request.path_params["record_id"]
    summary = snap.stations.get(station_id)
    found = next((i for i in snap.installations(station_id) or [] if i.record_id == record_id), None)
    if summary is None or found is None:
        return error_page(request, 404, "not_found")
    return render(request, "installation.html", summary=summary, installation=found)


def preview_type(key: str) -> str:
    return PREVIEW_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


@protected(page=False)
def media(request: Request) -> Response:
    rendition = request.path_params["rendition"]
    row = snapshot(request).item_row(request.path_params["item_id"]) if rendition in RENDITIONS else None
    key = row and row[RENDITIONS[rendition]]
    if not key or (rendition == "original" and row["status"] != "stored"):
        return PlainTextResponse("not found", status_code=404)
    store: ObjectStore = request.app.state.store
    info = store.stat(key)
    if info is None:
        return PlainTextResponse("not found", status_code=404)
    if rendition == "original":
        content_type = row["content_type"] or info.content_type or "application/octet-stream"
        cache = ORIGINAL_CACHE
    else:
        content_type, cache = preview_type(key), PREVIEW_CACHE
    etag = f'"{info.etag}"' if info.etag else None
    headers = {"accept-ranges": "bytes", "cache-control": cache, "content-type": content_type}
    if etag:
        headers["etag"] = etag
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers={k: v for k, v in headers.items() if k != "content-type"})
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and if_range != etag:
        range_header = None  # the client's partial copy is of another version: send it all
    try:
        wanted = parse_range(range_header, info.size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "content-range": f"bytes */{info.size}"})
    start, end = wanted if wanted else (0, info.size - 1)
    headers["content-length"] = str(max(0, end - start + 1))
    status = 206 if wanted else 200
    if wanted:
        headers["content-range"] = f"bytes {start}-{end}/{info.size}"
    if request.method == "HEAD" or info.size == 0:
        return Response(status_code=status, headers=headers)
    try:
        chunks = store.open_range(key, start, end)
    except KeyError:
        return PlainTextResponse("not found", status_code=404)
    return StreamingResponse(chunks, status_code=status, headers=headers)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or an absolute URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login(request: Request) -> Response:
    config: GalleryConfig = request.app.state.config
    if config.password is None:
        return error_page(request, 404, "proxy_only")
    if request.method == "GET":
        if current_user(request):
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return render(request, "login.html", next=safe_next(request.query_params.get("next")), problem=None)
    throttle: LoginThrottle = request.app.state.throttle
    client = client_address(request)
    wait = throttle.retry_after(client)
    if wait:
        response = render(request, "login.html", status_code=429, next="/", problem="login_throttled")
        response.headers["retry-after"] = str(wait)
        return response
    body = await request.body()
    form = parse_qs(body[:MAX_LOGIN_BODY].decode("utf-8", "replace"))
    target = safe_next((form.get("next") or ["/"])[0])
    if not config.password_ok((form.get("password") or [""])[0]):
        throttle.failed(client)
        return render(request, "login.html", status_code=401, next=target, problem="login_failed")
    throttle.succeeded(client)
    request.session.clear()
    request.session["user"] = "gallery"
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def create_app(store: ObjectStore, config: GalleryConfig, *, index_key: str = INDEX_KEY) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["urlpart"] = url_part
    app = Starlette(
        routes=[
            Route("/", overview),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/station/{station_id}", station),
            Route("/station/{station_id}/installation/{record_id:path}", installation),
            Route("/media/{item_id}/{rendition}", media),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                SessionMiddleware,
                secret_key=config.session_secret,
                session_cookie=SESSION_COOKIE,
                max_age=config.session_max_age_s,
                same_site="lax",  # lax, so a link from the Dagster UI opens signed in
                https_only=config.secure_cookie,
            ),
        ],
    )
    app.state.config = config
    app.state.store = store
    app.state.index = GalleryIndex(store, index_key)
    app.state.throttle = LoginThrottle(config.max_failed_logins, config.failed_login_window_s)
    app.state.templates = templates
    return app

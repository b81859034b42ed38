"""What every page handler shares: who is signed in, rendering a template, the sign-in guard."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pv_gallery.config import GalleryConfig
from pv_gallery.i18n import Translator, pick_language
from pv_gallery.index import INDEX_KEY, IndexMissing, IndexSnapshot, IndexUnreadable
from resources.object_store import ObjectStoreError

log = logging.getLogger("pv_gallery")
LANG_COOKIE = "pv_gallery_lang"
SESSION_COOKIE = "pv_gallery_session"
BROWSER_COOKIE = "pv_gallery_browser"


def url_part(value: object) -> str:
    return quote(str(value), safe="")


def current_user(request: Request) -> str | None:
    config: GalleryConfig = request.app.state.config
    if config.trusted_user_header:
        user = request.headers.get(config.trusted_user_header, "").strip()
        if user:
            return user
    return request.app.state.sessions.user(request.cookies.get(SESSION_COOKIE))


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
        return max(1, int(request.query_params.get("page", "1")[:9]))
    except ValueError:
        return 1

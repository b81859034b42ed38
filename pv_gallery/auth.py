"""Signing in and out with the shared password (docs/security.md: limits, sessions, known browsers)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pv_gallery.config import GalleryConfig
from pv_gallery.throttle import LoginThrottle, Reservation
from pv_gallery.web import BROWSER_COOKIE, SESSION_COOKIE, current_user, error_page, render

BODY_DEADLINE_S = 10.0  # a login form arrives in one packet; one that drips in is cut off
USER = "gallery"  # the one account the shared password opens


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or an absolute URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_address(request: Request) -> str:
    """The TCP peer, or the address a configured proxy forwarded (uvicorn's ProxyHeadersMiddleware)."""
    return request.client.host if request.client else "unknown"


async def _form(request: Request, held: Reservation, throttle: LoginThrottle) -> dict[str, list[str]] | Response:
    """The login form, read within the body limit and BODY_DEADLINE_S; an answer when it cannot be."""
    try:
        async with asyncio.timeout(BODY_DEADLINE_S):
            body = await request.body()
    except TimeoutError:
        throttle.release(held)
        return PlainTextResponse("request body too slow", status_code=408)
    except (HTTPException, ClientDisconnect):  # over the body limit (413), or the client went away
        throttle.release(held)
        raise
    try:
        return parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    except ValueError:  # more fields than a login form has: no password was tried
        throttle.release(held)
        return PlainTextResponse("not a login form", status_code=400)


async def login(request: Request) -> Response:
    config: GalleryConfig = request.app.state.config
    if config.password is None:
        return error_page(request, 404, "proxy_only")
    if request.method == "GET":
        if current_user(request):
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return render(request, "login.html", next=safe_next(request.query_params.get("next")), problem=None)
    throttle: LoginThrottle = request.app.state.throttle
    browser = request.app.state.browsers.verify(request.cookies.get(BROWSER_COOKIE))
    # Reserved before anything is awaited: concurrent guesses see the limit one after another.
    held = throttle.reserve(client_address(request), browser)
    if isinstance(held, int):
        response = render(request, "login.html", status_code=429, next="/", problem="login_throttled")
        response.headers["retry-after"] = str(held)
        return response
    form = await _form(request, held, throttle)
    if isinstance(form, Response):
        return form
    target = safe_next((form.get("next") or ["/"])[0])
    if not config.password_ok((form.get("password") or [""])[0]):
        return render(request, "login.html", status_code=401, next=target, problem="login_failed")
    throttle.succeeded(held)
    sessions = request.app.state.sessions
    sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(target, status_code=303)
    cookie = {"httponly": True, "samesite": "lax", "secure": config.secure_cookie}
    response.set_cookie(SESSION_COOKIE, sessions.start(USER), max_age=config.session_max_age_s, **cookie)
    if not browser:
        response.set_cookie(BROWSER_COOKIE, request.app.state.browsers.issue(), max_age=400 * 86400, **cookie)
    return response


async def logout(request: Request) -> Response:
    request.app.state.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response

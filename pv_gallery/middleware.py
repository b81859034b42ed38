"""What every request and answer goes through: the Host check and the security headers."""

from __future__ import annotations

from starlette.responses import PlainTextResponse

# Scripts, styles and media only from the gallery itself; nothing inline, no framing, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def security_headers(img_sources: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    """The headers, with the map's approved tile service (PV_GALLERY_MAP_TILES) as one more image source."""
    if not img_sources:
        return SECURITY_HEADERS
    policy = CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' " + " ".join(img_sources))
    return [(b"content-security-policy", policy.encode()), *SECURITY_HEADERS[1:]]


def host_name(header: str) -> str:
    """The name in a Host header: without the port, brackets or a final dot, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0].rstrip(".") if header.count(":") == 1 else header.rstrip(".")


class HostCheckMiddleware:
    """Answers only requests whose Host is one of the gallery's names.

    A page on another site whose name has been made to resolve to the gallery's address (DNS
    rebinding) sends its own name as Host: refused here, it cannot read the gallery with the
    visitor's session or from behind the proxy that signs users in.
    """

    def __init__(self, app, names: frozenset[str]):
        self.app, self.names = app, names

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host_name(host) not in self.names:
                await PlainTextResponse("unknown Host", status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP answer, static files and errors included."""

    def __init__(self, app, img_sources: tuple[str, ...] = ()):
        self.app = app
        self.headers = security_headers(img_sources)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.headers if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

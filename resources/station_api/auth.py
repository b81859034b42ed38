"""How a request carries its credentials, per the dialect's authentication scheme, pure.

Schemes: `login` (a token from a login call, in a header and/or a cookie), `api_key` (a key
in a header or a query parameter, no login), `oauth2` (client credentials, a bearer token),
`signing` (an HMAC over a declared canonical string, Solis-style) and `hook` (a Python
function named by the dialect). Credentials go on requests to the station's own origin only;
the caller decides that, this module only writes them.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pv_model.dialect import HOOK_GROUP, Signing, StationInterface, load_hook, transform_password

__all__ = ["HOOK_GROUP", "OutgoingRequest", "authorise", "load_hook", "token_delivery", "transform_password"]
# RFC 6265 cookie-octet: printable US-ASCII without space, '"', ',', ';' and '\'.
_COOKIE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\%')


class UnsendableToken(ValueError):
    """A token that no HTTP header can carry (non-ASCII); said clearly instead of a UnicodeEncodeError."""


def header_value(value: str) -> str:
    """A token for a header: ASCII only (RFC 9110 field values); anything else is refused clearly."""
    if not value.isascii() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UnsendableToken("the token holds characters an HTTP header cannot carry (non-ASCII or control)")
    return value


def cookie_value(value: str) -> str:
    """A token for a cookie: percent-encoded outside RFC 6265's cookie-octets."""
    return quote(value, safe=_COOKIE_SAFE)


@dataclass
class OutgoingRequest:
    """One request as a signing scheme or a hook sees it; they add headers or query parameters."""

    method: str
    url: str
    # Headers, params and body may carry a token, an API key or a password: never in a repr (a hook that
    # prints the request prints only the method and the URL).
    headers: dict[str, str] = field(repr=False)
    params: dict[str, Any] = field(repr=False)
    body: bytes | None = field(repr=False)
    content_type: str | None
    key_id: str = field(repr=False)  # the registry's account variable
    secret: str = field(repr=False)  # the registry's password variable

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def encode_body(body: dict | None, form: bool) -> tuple[bytes | None, str | None]:
    """The body bytes as they go out (a signature covers exactly these) and their type."""
    if body is None:
        return None, None
    if form:
        return urlencode(body).encode("ascii"), "application/x-www-form-urlencoded"
    # As requests' json= writes it, so switching to signed bytes changes nothing on the wire.
    return json.dumps(body, allow_nan=False).encode("utf-8"), "application/json"


def sign(request: OutgoingRequest, signing: Signing, now: float | None = None) -> None:
    """Solis-style request signing: HMAC over the declared canonical string, in the declared header."""
    body = request.body or b""
    content_md5 = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")  # noqa: S324 - the vendor's choice
    date = email.utils.formatdate(now, usegmt=True)
    content_type = request.content_type or "application/json"
    query = urlencode(sorted((str(k), str(v)) for k, v in request.params.items()))
    canonical = signing.canonical.format(
        method=request.method,
        content_md5=content_md5,
        content_type=content_type,
        date=date,
        path=request.path,
        query=query,
        key_id=request.key_id,
    )
    algorithm = "sha1" if signing.algorithm == "hmac-sha1" else "sha256"
    mac = hmac.new(request.secret.encode("utf-8"), canonical.encode("utf-8"), algorithm).digest()
    signature = base64.b64encode(mac).decode("ascii") if signing.signature_encoding == "base64" else mac.hex()
    request.headers["Content-Type"] = content_type
    request.headers[signing.date_header] = date
    if signing.content_md5_header:
        request.headers[signing.content_md5_header] = content_md5
    request.headers[signing.header] = header_value(signing.value.format(key_id=request.key_id, signature=signature))


def token_delivery(interface: StationInterface) -> str:
    """How this dialect sends its token, in words, for the error a wrong delivery ends in."""
    if interface.auth_scheme == "oauth2":
        return f"in the header {interface.oauth2.send_header!r} (oauth2.send_header)"
    login = interface.login
    if login is None:
        return f"by the {interface.auth_scheme} scheme"
    places = []
    if login.send_header:
        places.append(f"in the header {login.send_header!r} with the prefix {login.send_prefix!r} (login.send_header)")
    if login.send_cookie:
        places.append(f"in the cookie {login.send_cookie!r} (login.send_cookie)")
    if login.send_query:
        places.append(f"in the query parameter {login.send_query!r} (login.send_query)")
    return " and ".join(places)


def authorise(
    interface: StationInterface,
    request: OutgoingRequest,
    token: str | None,
) -> None:
    """Add the scheme's credentials to a request bound for the station's own origin."""
    scheme = interface.auth_scheme
    if scheme == "login" and token is not None:
        login = interface.login
        if login.send_header:
            request.headers[login.send_header] = header_value(f"{login.send_prefix}{token}")
        if login.send_cookie:
            # Built here, for this request: no cookie jar decides where a token goes.
            request.headers["Cookie"] = f"{login.send_cookie}={cookie_value(token)}"
        if login.send_query:
            # In the query of every call, downloads too; log lines and audit tables redact it (pv_model.scrub).
            request.params[login.send_query] = token
    elif scheme == "oauth2" and token is not None:
        oauth = interface.oauth2
        request.headers[oauth.send_header] = header_value(f"{oauth.send_prefix}{token}")
    elif scheme == "api_key":
        key = interface.api_key
        if key.send_header:
            request.headers[key.send_header] = header_value(f"{key.send_prefix}{request.secret}")
        else:
            request.params[key.send_query] = request.secret
    elif scheme == "signing":
        sign(request, interface.signing)
    if interface.hook:
        load_hook(interface.hook)(request)

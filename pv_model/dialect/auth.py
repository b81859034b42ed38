"""How calls are authorised: `login`, `api_key`, `oauth2` or `signing`, and how a password is written."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

from pydantic import Field, model_validator

from pv_model.dialect.base import ApiPath, FieldPath, Method, NonEmpty, _Section
from pv_model.dialect.paths import check_field_path

TOKEN_SOURCES = ("json", "header", "cookie")

PasswordTransform = Literal["none", "md5_lower", "md5_upper", "sha256_lower", "sha256_upper", "base64"]


class Login(_Section):
    """Scheme `login`: a login call whose answer carries a token for the later calls."""

    method: Method = "POST"
    path: ApiPath
    body: dict[str, Any] = Field(
        default_factory=dict, description="{account} and {password} in values are filled from the registry's env vars"
    )
    body_format: Literal["json", "form"] = "json"
    password_transform: PasswordTransform = Field(
        "none", description="how {password} is written: as is, md5/sha256 hex (lower or upper case), base64"
    )
    token_from: Literal["json", "header", "cookie"] = "json"  # noqa: S105 - a location, not a secret
    token: NonEmpty = Field(description="the token's JSON path, or the header / cookie name")
    expires_in: FieldPath | None = Field(None, description="JSON path of the token lifetime in seconds")
    send_header: NonEmpty | None = None
    send_prefix: str = ""
    send_cookie: NonEmpty | None = None
    send_query: NonEmpty | None = Field(
        None, description="a query parameter that carries the token on every call, downloads included"
    )
    api_base: FieldPath | None = Field(None, description="JSON path of the base URL all later calls use")

    @model_validator(mode="after")
    def _goes_out(self) -> Login:
        # No default: a token sent where the vendor does not look fails every call with "token rejected".
        if not self.send_header and not self.send_cookie and not self.send_query:
            raise ValueError(
                "says nowhere how the token goes out with each call: add send_header (e.g. Authorization, with "
                "send_prefix 'Bearer '), send_cookie (the cookie's name) or send_query (the query parameter's "
                "name), as the vendor's API description says"
            )
        if self.token_from == "json":  # noqa: S105
            check_field_path(self.token)
        return self


class ApiKey(_Section):
    """Scheme `api_key`: no login; the key (the registry's password variable) on every call."""

    send_header: NonEmpty | None = None
    send_prefix: str = ""
    send_query: NonEmpty | None = Field(None, description="a query parameter that carries the key")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKey:
        if bool(self.send_header) == bool(self.send_query):
            raise ValueError("exactly one of 'send_header' or 'send_query' says where the key goes")
        return self


class OAuth2(_Section):
    """Scheme `oauth2`: client credentials (RFC 6749 4.4). The registry's account variable holds
    the client id, its password variable the client secret."""

    token_path: ApiPath
    scope: str | None = None
    client_auth: Literal["body", "basic"] = Field("body", description="client id/secret in the form body or Basic")
    send_header: NonEmpty = "Authorization"
    send_prefix: str = "Bearer "


class Signing(_Section):
    """Scheme `signing`: every call signed with an HMAC over a declared canonical string
    (Solis-style). The registry's account variable holds the key id, its password variable the secret."""

    algorithm: Literal["hmac-sha1", "hmac-sha256"]
    canonical: str = Field(
        "{method}\n{content_md5}\n{content_type}\n{date}\n{path}",
        description="placeholders: method, content_md5, content_type, date, path, query, key_id",
    )
    signature_encoding: Literal["base64", "hex"] = "base64"
    header: NonEmpty = "Authorization"
    value: str = Field("API {key_id}:{signature}", description="the header value: {key_id} and {signature}")
    date_header: NonEmpty = "Date"
    content_md5_header: NonEmpty | None = "Content-MD5"


def transform_password(password: str, transform: str) -> str:
    """The password as the vendor wants it sent: as is, md5 / sha256 hex (lower or upper), base64."""
    raw = password.encode("utf-8")
    if transform == "none":
        return password
    if transform == "base64":
        return base64.b64encode(raw).decode("ascii")
    algorithm, case = transform.split("_")
    digest = hashlib.new(algorithm, raw).hexdigest()
    return digest.upper() if case == "upper" else digest

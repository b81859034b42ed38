"""How a simulated station speaks its dialect: requests read and responses rendered per a StationInterface.

The world keeps its records in the v1 shape of docs/station-api.md (recordId, pickupStatus
已提货, "YYYY-MM-DD HH:MM:SS" times, one photoUrls field ...). `Dialect` reads the same
`pv_model.dialect.StationInterface` object as the station client and translates at the
edge: login bodies, tokens, paging parameters and times in; envelopes, records and tokens out.

The default dialect (v1 itself) renders exactly what v1 documents, including the HTTP-status
flavour of its errors (a real HTTP 401 now and then, HTTP 400 for a malformed login, scripted
codes sent literally). Vendor dialects answer every business error with HTTP 200 and the
dialect's own code for its meaning.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from pv_model.dialect import ROOT_PATH, TOKEN_SOURCES, StationInterface, load_hook, load_interface, transform_password

from .documents import business_code, cookie_value, json_code, put, sibling, split_urls
from .file_ids import download_path
from .records_voice import V1_TIME_FORMAT, Paging, RecordsVoice

__all__ = ["Dialect", "Paging", "StatusDocument", "V1_TIME_FORMAT", "put", "sibling", "split_urls"]

REGIONAL_PREFIX = "/api"  # a regional host serves the API under <regional base>/api/<interface path>
WRONG_HOST = "wrong_host"  # route of an API call sent to the login host of a dialect with regional hosts
IN_JSON, IN_HEADER, IN_COOKIE = TOKEN_SOURCES  # where a login's token comes back

# The v1 codes the simulator's scripts and handlers speak ("code401"), translated by meaning.
TOKEN_EXPIRED, RATE_LIMITED, TRANSIENT, BAD_CREDENTIALS, LOCKED = 401, 429, 500, 1001, 1002
# A plain REST dialect says them with the HTTP status.
PLAIN_STATUS = {
    TOKEN_EXPIRED: 401,
    RATE_LIMITED: 429,
    TRANSIENT: 503,
    BAD_CREDENTIALS: 401,
    LOCKED: 403,
    404: 404,
    405: 405,
    400: 400,
}
# The world's pickup statuses (v1 values) and what they mean.
WORLD_PICKUP = {"已提货": "picked_up", "未提货": "not_picked_up", "部分提货": "partly_picked_up"}


class StatusDocument(dict):
    """A JSON answer that travels with its own HTTP status (plain REST dialects say it with the status)."""

    def __init__(self, document: Any, http_status: int):
        super().__init__(document)
        self.http_status = http_status


class Dialect(RecordsVoice):
    """One station's voice: stateful only for the deterministic alternation of codes."""

    def __init__(self, iface: StationInterface | str = "default", *, url_shapes: str = "text"):
        self.iface = load_interface(iface) if isinstance(iface, str) else iface
        iface = self.iface
        self.v1 = iface.name == "default"
        self.scheme = iface.auth_scheme
        self.url_shapes = url_shapes  # "text" (the URL fields as v1 writes them) or "mixed" (every shape)
        self.tz = ZoneInfo(iface.timezone)
        self.plain = iface.envelope.style == "none"
        login = iface.login
        self.token_is_object = login is not None and login.token_from == IN_JSON and login.token == iface.envelope.data
        self.business_code = business_code(iface)
        self._fill_dashes = not self.v1 and "--" in iface.placeholders
        self._lock = threading.Lock()
        self._turns: Counter[str] = Counter()
        self.account_field, self.password_field = "client_id", "client_secret"  # OAuth2
        if login is not None:
            templates = {template: field for field, template in login.body.items() if isinstance(template, str)}
            if "{account}" not in templates or "{password}" not in templates:
                raise ValueError(f"{iface.source}: login.body must hold {{account}} and {{password}}")
            self.account_field, self.password_field = templates["{account}"], templates["{password}"]
        raw_by_canonical: dict[str, str] = {}
        for raw, canonical in sorted(iface.pickup_status.items()):
            raw_by_canonical.setdefault(canonical, raw)
        self._raw_pickup = {world: raw_by_canonical.get(canonical, world) for world, canonical in WORLD_PICKUP.items()}
        fields = iface.fields
        self._renames = {
            "recordId": fields.record_id,
            "idCardNo": fields.id_card_no,
            "pickupStatus": fields.pickup_status,
            "updatedAt": fields.updated_at or "updatedAt",
        }

    @property
    def name(self) -> str:
        return self.iface.name

    @property
    def has_regional_host(self) -> bool:
        return self.iface.login is not None and self.iface.login.api_base is not None

    @property
    def login_path(self) -> str | None:
        if self.iface.login is not None:
            return self.iface.login.path
        return self.iface.oauth2.token_path if self.iface.oauth2 is not None else None

    # ------------------------------------------------------------------------- routing

    def routes(self, *, regional: bool) -> dict[str, str]:
        """Raw path -> route name, for the login host or for the regional host."""
        api = {self.iface.records.path: "records"}
        if self.iface.station_info is not None:
            api[self.iface.station_info.path] = "info"
        for template in self.iface.fields.url_templates.values():
            api[download_path(template)] = "download"
        if regional:
            return {REGIONAL_PREFIX + path: route for path, route in api.items()}
        if self.has_regional_host:  # the login host refuses the API, however the path is written
            api = {p: WRONG_HOST for path in api for p in (path, REGIONAL_PREFIX + path)}
        return {**({self.login_path: "login"} if self.login_path else {}), **api}

    def api_prefixes(self) -> tuple[str, ...]:
        """First path segments of the API: unknown paths under them get a JSON 404."""
        info = self.iface.station_info
        paths = [p for p in (self.login_path, info.path if info else None, self.iface.records.path) if p]
        prefixes = {"/" + path.split("/")[1] + "/" for path in paths}
        if self.has_regional_host:
            prefixes.add(REGIONAL_PREFIX + "/")
        return tuple(sorted(prefixes))

    def station_param_error(self, route: str, raw_query: str, body: bytes, station_code: str) -> str | None:
        """A call whose parameters should name the station (`{station_code}` in the dialect) but name another."""
        call = self.iface.records if route == "records" else self.iface.station_info
        wanted = [name for name, value in (call.params if call else {}).items() if value == "{station_code}"]
        if not wanted:
            return None
        try:
            sent = json.loads(body) if call.method == "POST" and body.strip() else {}
        except ValueError:
            sent = {}
        if not isinstance(sent, dict):
            sent = {}
        sent |= {name: values[0] for name, values in parse_qs(raw_query).items()}
        wrong = [name for name in wanted if str(sent.get(name)) != station_code]
        return f"{wrong[0]}不正确" if wrong else None

    def method_allowed(self, route: str, command: str) -> bool:
        method = {
            "login": self.iface.login.method if self.iface.login else "POST",
            "info": self.iface.station_info.method if self.iface.station_info else "GET",
            "records": self.iface.records.method,
        }.get(route, "GET")
        return command in ("GET", "HEAD") if method == "GET" else command == method

    # ------------------------------------------------------------------------- envelope

    def success(self, data: Any = None, *, message: str = "success", code_as_string: bool = False) -> dict:
        code = self._next("success", self.iface.envelope.success) if self.iface.envelope.success else ""
        return self._document(code, message, data, ok=True, code_as_string=code_as_string)

    def error(self, v1_code: int, message: str) -> dict:
        """An error envelope with the dialect's code for what `v1_code` means in v1; for a plain REST
        dialect, the error body with the HTTP status that says it."""
        if self.plain:
            status = PLAIN_STATUS.get(v1_code, 400 if v1_code < 1000 or v1_code >= 9000 else 401)
            if v1_code in (BAD_CREDENTIALS, LOCKED) and self.scheme == "oauth2":
                return StatusDocument({"error": "invalid_client", "error_description": message}, 400)
            document: dict = {}
            envelope = self.iface.envelope
            if envelope.message:
                put(document, envelope.message, message)
            codes = {TOKEN_EXPIRED: envelope.token_expired, BAD_CREDENTIALS: envelope.bad_credentials}.get(v1_code)
            if envelope.code and codes:
                put(document, envelope.code, sorted(codes)[0])
            return StatusDocument(document, status)
        return self._document(self.code_for(v1_code), message, None, ok=False)

    def code_for(self, v1_code: int) -> str:
        if self.v1:
            return str(v1_code)
        envelope = self.iface.envelope
        family = {
            TOKEN_EXPIRED: envelope.token_expired,
            RATE_LIMITED: envelope.rate_limited,
            TRANSIENT: envelope.transient,
        }.get(v1_code)
        if family:
            return self._next(str(v1_code), family)
        if v1_code in (BAD_CREDENTIALS, LOCKED) and envelope.bad_credentials:
            codes = sorted(envelope.bad_credentials)
            return codes[1] if v1_code == LOCKED and len(codes) > 1 else codes[0]
        return self.business_code

    def http_status(self, v1_status: int) -> int:
        """The HTTP status of a business error that v1 sends with an HTTP status (400)."""
        return v1_status if self.v1 else 200

    def mirrors_auth_failures_as_http(self) -> bool:
        """v1 documents "code 401, or HTTP 401"; vendor dialects always answer 200."""
        return self.v1

    def _document(self, code: str, message: str, data: Any, *, ok: bool, code_as_string: bool = False) -> dict:
        envelope = self.iface.envelope
        if self.plain:
            return dict(data) if isinstance(data, dict) else {}
        document: dict = {}
        if envelope.style == "flag":
            put(document, envelope.success_flag, ok)
        if envelope.style == "field":
            put(document, envelope.success_field, json_code(envelope.success_value) if ok else "ERROR")
            if ok:
                code = code or "0"
        if envelope.code:
            put(document, envelope.code, code if code_as_string else json_code(code))
        if envelope.message:
            put(document, envelope.message, message)
        if envelope.data != ROOT_PATH:
            put(document, envelope.data, data)
        return document

    def _next(self, key: str, codes) -> str:
        """Deterministic rotation through a family of codes (sorted)."""
        ordered = sorted(codes)
        with self._lock:
            turn = self._turns[key]
            self._turns[key] += 1
        return ordered[turn % len(ordered)]

    # ------------------------------------------------------------------------- login and tokens

    def credentials(self, body: bytes, headers: Any = None) -> tuple[Any, Any]:
        """(account, password as sent) from a login body (JSON or form) or OAuth2 Basic; ValueError when none."""
        form = self.iface.login is None or self.iface.login.body_format == "form"
        try:
            if form:
                payload = {k: v[0] for k, v in parse_qs(body.decode("ascii"), keep_blank_values=True).items()}
                basic = (headers.get("Authorization") or "") if headers is not None else ""
                if self.scheme == "oauth2" and basic.startswith("Basic "):
                    account, _, password = base64.b64decode(basic[6:]).decode().partition(":")
                    return account, password
                if self.scheme == "oauth2" and payload.get("grant_type") != "client_credentials":
                    raise ValueError
            else:
                payload = json.loads(body)
            return payload[self.account_field], payload[self.password_field]
        except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError):
            raise ValueError("malformed login body") from None

    def password_matches(self, sent: Any, password: str) -> bool:
        transform = self.iface.login.password_transform if self.iface.login else "none"
        return sent == transform_password(password, transform)

    def keyless_check(
        self, headers: Any, method: str, raw_path: str, raw_query: str, body: bytes, spec: Any
    ) -> bool | None:
        """For schemes without a token (API key, signing): whether the request carries valid credentials.
        None for token schemes (the token is checked by the station state)."""
        if self.scheme == "api_key":
            key = self.iface.api_key
            if key.send_header:
                raw = headers.get(key.send_header) or ""
                return raw.startswith(key.send_prefix) and raw[len(key.send_prefix) :] == spec.password
            return parse_qs(raw_query).get(key.send_query, [None])[0] == spec.password
        if self.scheme == "signing":
            return self._signature_ok(headers, method, raw_path, body, spec)
        if self.scheme == "hook":
            check = getattr(load_hook(self.iface.hook), "verify", None)  # a hook's own station-side check
            return bool(check and check(headers, method, raw_path, spec.account, spec.password))
        return None

    def _signature_ok(self, headers: Any, method: str, raw_path: str, body: bytes, spec: Any) -> bool:
        signing = self.iface.signing
        content_md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - as the vendor does
        if signing.content_md5_header and headers.get(signing.content_md5_header) != content_md5:
            return False
        date = headers.get(signing.date_header) or ""
        try:
            sent_at = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        if abs(time.time() - sent_at) > 900:
            return False
        canonical = signing.canonical.format(
            method=method,
            content_md5=content_md5,
            content_type=headers.get("Content-Type") or "",
            date=date,
            path=raw_path,
            query="",
            key_id=spec.account,
        )
        algorithm = "sha1" if signing.algorithm == "hmac-sha1" else "sha256"
        mac = hmac.new(spec.password.encode(), canonical.encode(), algorithm).digest()
        signature = base64.b64encode(mac).decode() if signing.signature_encoding == "base64" else mac.hex()
        expected = signing.value.format(key_id=spec.account, signature=signature)
        return hmac.compare_digest(headers.get(signing.header) or "", expected)

    def login_response(self, token: str, *, ttl_s: int, account: str, api_base_url: str | None) -> tuple[dict, dict]:
        """The login document and the response headers that carry the token."""
        login = self.iface.login
        if login is None:  # OAuth2 client credentials (RFC 6749 5.1)
            return {"access_token": token, "token_type": "Bearer", "expires_in": ttl_s}, {"Cache-Control": "no-store"}
        document, headers = self.success(), {}
        if login.token_from == IN_JSON:
            put(document, login.token, self.token_object(token, account) if self.token_is_object else token)
        elif login.token_from == IN_HEADER:
            headers[login.token] = token
        else:
            headers["Set-Cookie"] = f"{login.token}={token}; Path=/"
        if login.expires_in:
            put(document, login.expires_in, ttl_s)
        if login.api_base:
            put(document, login.api_base, api_base_url)
        return document, headers

    @staticmethod
    def token_object(token: str, account: str) -> dict:
        """A SEMS-like login object; the client sends it back JSON-encoded, the opaque token inside."""
        return {
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sim-station:{account}")),
            "timestamp": int(time.time() * 1000),
            "token": token,
            "client": "web",
            "version": "",
            "language": "zh_CN",
        }

    def request_token(self, headers, raw_query: str = "") -> str | None:
        """The opaque token a request carries, where the dialect says it goes."""
        login = self.iface.login
        if login is None:
            oauth = self.iface.oauth2
            if oauth is None:
                return None
            raw = headers.get(oauth.send_header)
            return raw[len(oauth.send_prefix) :].strip() if raw and raw.startswith(oauth.send_prefix) else None
        value = None
        if login.send_header:
            raw = headers.get(login.send_header)
            if raw is not None and raw.startswith(login.send_prefix):
                value = raw[len(login.send_prefix) :].strip()
        if value is None and login.send_cookie:
            value = cookie_value(headers.get("Cookie"), login.send_cookie)
        if value is None and login.send_query:
            value = parse_qs(raw_query).get(login.send_query, [None])[0]
        if value and self.token_is_object:
            try:
                sent = json.loads(value)
            except ValueError:
                return None
            token = sent.get("token") if isinstance(sent, dict) else None
            return token if isinstance(token, str) else None
        return value

    def credential_header(self, headers) -> str | None:
        """The raw header that carries the token in this dialect (for the request log)."""
        login = self.iface.login
        if login is None:
            header = {"oauth2": "Authorization", "signing": self.iface.signing and self.iface.signing.header}.get(
                self.scheme
            ) or (self.iface.api_key.send_header if self.iface.api_key else None)
            return headers.get(header) if header else None
        value = headers.get(login.send_header) if login.send_header else None
        if value is None and login.send_cookie:
            value = headers.get("Cookie")
        return value

    # ------------------------------------------------------------------------- station info

    def station_info(self, info: dict, *, code_as_string: bool = False) -> dict:
        call = self.iface.station_info
        document = self.success(code_as_string=code_as_string)
        if self.plain:
            document = {}
        put(document, call.station_code, info["stationCode"])
        if call.station_name:
            put(document, call.station_name, info["stationName"])
        if call.region_company_code:
            put(document, call.region_company_code, info["regionCompanyCode"])
            put(document, sibling(call.region_company_code, "regionCompanyName"), info["regionCompanyName"])
        return document

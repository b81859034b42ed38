"""How a simulated station speaks its dialect: requests read and responses rendered per a StationInterface.

The world keeps its records in the v1 shape of docs/station-api.md (recordId, pickupStatus
已提货, "YYYY-MM-DD HH:MM:SS" times, one photoUrls field ...). `Dialect` reads the same
`resources.interface.StationInterface` object as the station client and translates at the
edge: login bodies, tokens, paging parameters and times in; envelopes, records and tokens out.

The default dialect (v1 itself) renders exactly what v1 documents, including the HTTP-status
flavour of its errors (a real HTTP 401 now and then, HTTP 400 for a malformed login, scripted
codes sent literally). Vendor dialects answer every business error with HTTP 200 and the
dialect's own code for its meaning.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from resources.interface import (
    EPOCH_MS,
    EPOCH_S,
    ROOT_PATH,
    TOKEN_SOURCES,
    StationInterface,
    load_hook,
    load_interface,
    transform_password,
)

V1_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REGIONAL_PREFIX = "/api"  # a regional host serves the API under <regional base>/api/<interface path>
WRONG_HOST = "wrong_host"  # route of an API call sent to the login host of a dialect with regional hosts
DEFAULT_PAGE_SIZE = 20
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


@dataclass(frozen=True)
class Paging:
    page_no: int  # 1-based, as the world counts
    page: int  # the page number as the dialect counts (echoed back)
    page_size: int  # after clamping
    updated_since: str | None  # v1 local time "YYYY-MM-DD HH:MM:SS"
    start: int = 0  # index of the first record (offset, cursor and next-link paging)


class StatusDocument(dict):
    """A JSON answer that travels with its own HTTP status (plain REST dialects say it with the status)."""

    def __init__(self, document: Any, http_status: int):
        super().__init__(document)
        self.http_status = http_status


NEXT_START = "start"  # the simulator's own parameter in the next-page links it writes


class Dialect:
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
        self.business_code = _business_code(iface)
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

    def request_token(self, headers) -> str | None:
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
            value = _cookie(headers.get("Cookie"), login.send_cookie)
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

    # ------------------------------------------------------------------------- records

    def paging(self, raw_query: str, body: bytes) -> Paging:
        """The paging parameters of a records request; ValueError (Chinese) when they are wrong."""
        call = self.iface.records
        if call.params_in == "query":
            params = {name: values[0] for name, values in parse_qs(raw_query, keep_blank_values=True).items()}
        else:
            try:
                params = json.loads(body) if body.strip() else {}
            except ValueError:
                raise ValueError("请求体不是合法的JSON") from None
            if not isinstance(params, dict):
                raise ValueError("请求体必须是JSON对象")
        size_default = call.page_size if call.paging in ("none", "next_link", "cursor") else DEFAULT_PAGE_SIZE
        page_size = call.page_size
        if call.page_size_param:
            page_size = min(_int_param(params, call.page_size_param, size_default, minimum=1), call.page_size)
        since = self._time_param(params, call.updated_since_param) if call.updated_since_param else None
        if call.paging == "page":
            page = _int_param(params, call.page_param, call.first_page, minimum=call.first_page)
            return Paging(page - call.first_page + 1, page, page_size, since, (page - call.first_page) * page_size)
        if call.paging == "offset":
            start = _int_param(params, call.offset_param, 0, minimum=0)
        elif call.paging == "cursor":
            start = _decode_cursor(params.get(call.cursor_param))
        elif call.paging == "next_link":
            start = _int_param(params, NEXT_START, 0, minimum=0)
        else:
            start, page_size = 0, 10**9
        return Paging(start // page_size + 1, start // page_size + 1, page_size, since, start)

    def records_document(self, page: dict, paging: Paging, region: str | None = None) -> Any:
        """`page` is StationState.records_page(): {"total": n, "records": [v1 records]}."""
        call = self.iface.records
        items = [self.render_record(record, region) for record in page["records"]]
        if call.items == ROOT_PATH:
            return items
        document = self.success()
        if self.plain:
            document = {}
        if call.total:
            put(document, call.total, page["total"])
        if call.paging == "page":
            put(document, sibling(call.items, call.page_param), paging.page)
            if call.page_size_param:
                put(document, sibling(call.items, call.page_size_param), paging.page_size)
        following = paging.start + len(page["records"])
        more = following < page["total"] and bool(page["records"])
        if call.paging == "cursor" and more:
            put(document, call.cursor_path, _encode_cursor(following))
        if call.paging == "next_link" and more and call.next_link_path:
            size = f"{call.page_size_param}={paging.page_size}&" if call.page_size_param else ""
            put(document, call.next_link_path, f"{call.path}?{size}{NEXT_START}={following}")
        put(document, call.items, items)
        return document

    def next_link_header(self, page: dict, paging: Paging) -> dict:
        """A `Link: <...>; rel="next"` header, for next-link paging without a body field."""
        call = self.iface.records
        following = paging.start + len(page["records"])
        if call.paging != "next_link" or call.next_link_path or following >= page["total"] or not page["records"]:
            return {}
        size = f"{call.page_size_param}={paging.page_size}&" if call.page_size_param else ""
        return {"Link": f'<{call.path}?{size}{NEXT_START}={following}>; rel="next"'}

    def render_record(self, record: dict, region: str | None = None) -> dict:
        """A v1 record of the world in the dialect's field paths, values and URL shapes."""
        fields = self.iface.fields
        rendered: dict = {}
        for name, value in record.items():
            if name not in ("photoUrls", "videoUrls"):
                put(rendered, self._renames.get(name, name), self._value(record, name, value))
        if fields.region_company_code and region is not None:
            put(rendered, fields.region_company_code, region)
        for kind, paths, other in (
            ("photo", fields.photo_urls, fields.video_urls),
            ("video", fields.video_urls, fields.photo_urls),
        ):
            text = record.get("photoUrls" if kind == "photo" else "videoUrls")
            paths = paths or other[:1]  # one list of typed attachments for both kinds
            objects = [p for p in paths if "[*]." in p]
            if objects:
                self._url_objects(rendered, objects[0], kind, text)
            elif self.url_shapes == "mixed" and not self.v1:
                for path, part in zip(paths, split_urls(text, len(paths), self.iface.url_separators), strict=True):
                    put(rendered, path, self._shaped(record, path, kind, part))
            else:
                for path, part in self._url_fields(record, paths, text).items():
                    put(rendered, path, part)
        return rendered

    def _url_objects(self, rendered: dict, path: str, kind: str, text: str | None) -> None:
        """`attachments[*].url`: one object per URL in the list at `attachments`, typed when it can be."""
        parent, _, key = path.partition("[*].")
        attachments = _get_path(rendered, parent)
        if not isinstance(attachments, list):
            attachments = []
            put(rendered, parent, attachments)
        fields = self.iface.fields
        video_type = _video_type(fields.video_types)
        for url in _items(text, self.iface.url_separators):
            item = {key: url}
            if fields.type_key:
                item[fields.type_key] = video_type if kind == "video" else "photo"
            attachments.append(item)

    def _shaped(self, record: dict, path: str, kind: str, text: str | None) -> Any:
        """One URL field in one of the shapes stations use, chosen per record and field."""
        items = _items(text, self.iface.url_separators)
        shape = hashlib.sha256(f"{record.get('recordId')}:{path}".encode()).digest()[0] % 5
        if not items:
            return [None, "", [], "--" if "--" in self.iface.placeholders else None, None][shape]
        if shape == 1:
            return items  # a JSON array of strings
        if shape == 2:
            return json.dumps(items, ensure_ascii=False)  # a string holding a JSON array
        if shape == 3:
            fields = self.iface.fields
            video_type = _video_type(fields.video_types)
            typed = {fields.type_key: video_type if kind == "video" else "photo"} if fields.type_key else {}
            return [{fields.url_key: url, **typed} for url in items]  # objects with a URL key
        return "，".join(items) if shape == 4 and "，" in self.iface.url_separators else text

    def _value(self, record: dict, name: str, value: Any) -> Any:
        if name == "pickupStatus":
            raw = self._raw_pickup.get(value, value) if value is not None else None
            if self.url_shapes == "mixed" and isinstance(raw, str) and raw.isdigit() and _sometimes(record, name):
                return int(raw)  # 2 and "2" are the same status
            return raw
        if name == "updatedAt":
            return self.format_time(value)
        if name == "phone" and value == "--" and "--" not in self.iface.placeholders:
            return None
        if name == "pickupTime" and value is None and self._fill_dashes and _sometimes(record, name):
            return "--"
        return value

    def _url_fields(self, record: dict, names: tuple[str, ...], text: str | None) -> dict:
        parts = split_urls(text, len(names), self.iface.url_separators)
        rendered = {}
        for index, (name, part) in enumerate(zip(names, parts, strict=True)):
            missing = part is None or (index > 0 and not part)
            if missing and self._fill_dashes and _sometimes(record, name):
                part = "--"
            rendered[name] = None if missing and part != "--" else part
        return rendered

    def format_time(self, v1_time: Any) -> Any:
        """A world time ("YYYY-MM-DD HH:MM:SS", station local) as the dialect writes it."""
        time_format = self.iface.records.time_format
        if not isinstance(v1_time, str) or time_format == V1_TIME_FORMAT:
            return v1_time
        try:
            moment = dt.datetime.strptime(v1_time, V1_TIME_FORMAT)
        except ValueError:
            return v1_time
        if time_format == EPOCH_MS:
            return int(moment.replace(tzinfo=self.tz).timestamp() * 1000)
        if time_format == EPOCH_S:
            return int(moment.replace(tzinfo=self.tz).timestamp())
        return moment.strftime(time_format)

    def _time_param(self, params: dict, name: str) -> str | None:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        time_format = self.iface.records.time_format
        try:
            if time_format in (EPOCH_MS, EPOCH_S):
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise ValueError
                divisor = 1000 if time_format == EPOCH_MS else 1
                moment = dt.datetime.fromtimestamp(int(value) / divisor, self.tz).replace(tzinfo=None)
            else:
                moment = dt.datetime.strptime(str(value).strip(), time_format)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"{name} 格式应为 {_readable(time_format)}") from None
        return moment.strftime(V1_TIME_FORMAT)


# ----------------------------------------------------------------------------- documents


def put(document: dict, dotted_path: str, value: Any) -> None:
    """Set a dotted path in a JSON document, creating objects (or lists, for digit segments) on the way."""
    parts = dotted_path.split(".")
    node: Any = document
    for part, following in zip(parts, parts[1:], strict=False):
        child = _get(node, part)
        if not isinstance(child, dict | list):
            child = [] if following.isdigit() else {}
            _set(node, part, child)
        node = child
    _set(node, parts[-1], value)


def sibling(dotted_path: str, name: str) -> str:
    """The path of a field next to `dotted_path` ("data.records", "pageNo" -> "data.pageNo")."""
    parent = dotted_path.rpartition(".")[0]
    return f"{parent}.{name}" if parent else name


def _get(node: Any, part: str) -> Any:
    if isinstance(node, list):
        index = int(part)
        return node[index] if index < len(node) else None
    return node.get(part)


def _set(node: Any, part: str, value: Any) -> None:
    if isinstance(node, list):
        index = int(part)
        node.extend([None] * (index + 1 - len(node)))
        node[index] = value
    else:
        node[part] = value


def json_code(code: str) -> int | str:
    """Digit-only codes without leading zeros go out as JSON numbers, the rest as strings."""
    return int(code) if code.isdigit() and (code == "0" or not code.startswith("0")) else code


def split_urls(text: str | None, fields: int, separators: tuple[str, ...]) -> list[str | None]:
    """Spread one URL list over `fields` fields, cutting at a middle separator; quirks are kept."""
    if fields <= 1:
        return [text]
    pattern = "|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True) if s)
    cuts = list(re.finditer(pattern, text)) if text and pattern else []
    if not cuts:
        return [text] + [None] * (fields - 1)
    cut = cuts[(len(cuts) + 1) // 2 - 1]
    return [text[: cut.start()], *split_urls(text[cut.end() :], fields - 1, separators)]


def _get_path(document: dict, dotted_path: str) -> Any:
    node: Any = document
    for part in dotted_path.split("."):
        node = _get(node, part) if isinstance(node, dict | list) else None
    return node


def _video_type(video_types: frozenset[str]) -> str:
    return "video" if "video" in video_types or not video_types else sorted(video_types)[0]


def _items(text: str | None, separators: tuple[str, ...]) -> list[str]:
    """The URL items of a v1 URL field, stripped, empties dropped (as every client reads them)."""
    if not text:
        return []
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [item.strip() for item in text.split(separators[0])] if separators else [text.strip()]


def _encode_cursor(start: int) -> str:
    return base64.urlsafe_b64encode(f"after:{start}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: Any) -> int:
    if cursor in (None, ""):
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        return max(0, int(text.removeprefix("after:")))
    except ValueError:
        raise ValueError("cursor 无效") from None


def _business_code(iface: StationInterface) -> str:
    """A business error code that is in none of the dialect's lists, shaped like its codes."""
    envelope = iface.envelope
    listed = (
        envelope.success
        | envelope.token_expired
        | envelope.rate_limited
        | envelope.transient
        | envelope.bad_credentials
    )
    model = min(envelope.bad_credentials, default="1001")
    if envelope.style == "none":
        return "9999"
    prefix = re.match(r"\D*", model).group()
    code = prefix + "9999".rjust(len(model) - len(prefix), "0") if prefix else "9999"
    while code in listed:
        code += "9"
    return code


def _sometimes(record: dict, field: str) -> bool:
    digest = hashlib.sha256(f"{record.get('recordId')}:{field}".encode()).digest()
    return digest[0] % 3 == 0


def _cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _int_param(params: dict, name: str, default: int, *, minimum: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} 必须是整数")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} 必须是整数") from None
    if number < minimum:
        raise ValueError(f"{name} 必须大于{minimum - 1}")
    return number


def _readable(time_format: str) -> str:
    if time_format == EPOCH_MS:
        return "毫秒时间戳"
    for strftime, java in (("%Y", "yyyy"), ("%m", "MM"), ("%d", "dd"), ("%H", "HH"), ("%M", "mm"), ("%S", "ss")):
        time_format = time_format.replace(strftime, java)
    return time_format

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

import datetime as dt
import hashlib
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

from resources.interface import EPOCH_MS, TOKEN_SOURCES, StationInterface, load_interface

V1_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REGIONAL_PREFIX = "/api"  # a regional host serves the API under <regional base>/api/<interface path>
WRONG_HOST = "wrong_host"  # route of an API call sent to the login host of a dialect with regional hosts
DEFAULT_PAGE_SIZE = 20
IN_JSON, IN_HEADER, IN_COOKIE = TOKEN_SOURCES  # where a login's token comes back

# The v1 codes the simulator's scripts and handlers speak ("code401"), translated by meaning.
TOKEN_EXPIRED, RATE_LIMITED, TRANSIENT, BAD_CREDENTIALS, LOCKED = 401, 429, 500, 1001, 1002
# The world's pickup statuses (v1 values) and what they mean.
WORLD_PICKUP = {"已提货": "picked_up", "未提货": "not_picked_up", "部分提货": "partly_picked_up"}


@dataclass(frozen=True)
class Paging:
    page_no: int  # 1-based, as the world counts
    page: int  # the page number as the dialect counts (echoed back)
    page_size: int  # after clamping
    updated_since: str | None  # v1 local time "YYYY-MM-DD HH:MM:SS"


class Dialect:
    """One station's voice: stateful only for the deterministic alternation of codes."""

    def __init__(self, iface: StationInterface | str = "default"):
        self.iface = load_interface(iface) if isinstance(iface, str) else iface
        iface = self.iface
        self.v1 = iface.name == "default"
        self.tz = ZoneInfo(iface.timezone)
        self.token_is_object = iface.login.token_from == IN_JSON and iface.login.token == iface.envelope.data
        self.business_code = _business_code(iface)
        self._fill_dashes = not self.v1 and "--" in iface.placeholders
        self._lock = threading.Lock()
        self._turns: Counter[str] = Counter()
        templates = {template: field for field, template in iface.login.body.items() if isinstance(template, str)}
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
        return self.iface.login.api_base is not None

    # ------------------------------------------------------------------------- routing

    def routes(self, *, regional: bool) -> dict[str, str]:
        """Raw path -> route name, for the login host or for the regional host."""
        api = {self.iface.station_info.path: "info", self.iface.records.path: "records"}
        if regional:
            return {REGIONAL_PREFIX + path: route for path, route in api.items()}
        if self.has_regional_host:  # the login host refuses the API, however the path is written
            api = {p: WRONG_HOST for path in api for p in (path, REGIONAL_PREFIX + path)}
        return {self.iface.login.path: "login", **api}

    def api_prefixes(self) -> tuple[str, ...]:
        """First path segments of the API: unknown paths under them get a JSON 404."""
        paths = (self.iface.login.path, self.iface.station_info.path, self.iface.records.path)
        prefixes = {"/" + path.split("/")[1] + "/" for path in paths}
        if self.has_regional_host:
            prefixes.add(REGIONAL_PREFIX + "/")
        return tuple(sorted(prefixes))

    def method_allowed(self, route: str, command: str) -> bool:
        method = {
            "login": self.iface.login.method,
            "info": self.iface.station_info.method,
            "records": self.iface.records.method,
        }.get(route, "GET")
        return command in ("GET", "HEAD") if method == "GET" else command == method

    # ------------------------------------------------------------------------- envelope

    def success(self, data: Any = None, *, message: str = "success", code_as_string: bool = False) -> dict:
        code = self._next("success", self.iface.envelope.success)
        return self._document(code, message, data, ok=True, code_as_string=code_as_string)

    def error(self, v1_code: int, message: str) -> dict:
        """An error envelope with the dialect's code for what `v1_code` means in v1."""
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
        document: dict = {}
        if envelope.success_flag:
            put(document, envelope.success_flag, ok)
        put(document, envelope.code, code if code_as_string else json_code(code))
        put(document, envelope.message, message)
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

    def credentials(self, body: bytes) -> tuple[Any, Any]:
        """(account, password) from a login body; ValueError when it is not one."""
        try:
            payload = json.loads(body)
            return payload[self.account_field], payload[self.password_field]
        except (ValueError, TypeError, KeyError, IndexError):
            raise ValueError("malformed login body") from None

    def login_response(self, token: str, *, ttl_s: int, account: str, api_base_url: str | None) -> tuple[dict, dict]:
        """The login document and the response headers that carry the token."""
        login = self.iface.login
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
        value = headers.get(login.send_header) if login.send_header else None
        if value is None and login.send_cookie:
            value = headers.get("Cookie")
        return value

    # ------------------------------------------------------------------------- station info

    def station_info(self, info: dict, *, code_as_string: bool = False) -> dict:
        call = self.iface.station_info
        document = self.success(code_as_string=code_as_string)
        put(document, call.station_code, info["stationCode"])
        put(document, call.station_name, info["stationName"])
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
        page = _int_param(params, call.page_param, call.first_page, minimum=call.first_page)
        page_size = min(_int_param(params, call.page_size_param, DEFAULT_PAGE_SIZE, minimum=1), call.page_size)
        since = self._time_param(params, call.updated_since_param) if call.updated_since_param else None
        return Paging(page - call.first_page + 1, page, page_size, since)

    def records_document(self, page: dict, paging: Paging) -> dict:
        """`page` is StationState.records_page(): {"total": n, "records": [v1 records]}."""
        call = self.iface.records
        document = self.success()
        if call.total:
            put(document, call.total, page["total"])
        put(document, sibling(call.items, call.page_param), paging.page)
        put(document, sibling(call.items, call.page_size_param), paging.page_size)
        put(document, call.items, [self.render_record(record) for record in page["records"]])
        return document

    def render_record(self, record: dict) -> dict:
        """A v1 record of the world in the dialect's field names and values."""
        fields = self.iface.fields
        rendered: dict = {}
        for name, value in record.items():
            if name == "photoUrls":
                rendered.update(self._url_fields(record, fields.photo_urls, value))
            elif name == "videoUrls":
                rendered.update(self._url_fields(record, fields.video_urls, value))
            else:
                rendered[self._renames.get(name, name)] = self._value(record, name, value)
        return rendered

    def _value(self, record: dict, name: str, value: Any) -> Any:
        if name == "pickupStatus":
            return self._raw_pickup.get(value, value) if value is not None else None
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
        return moment.strftime(time_format)

    def _time_param(self, params: dict, name: str) -> str | None:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        time_format = self.iface.records.time_format
        try:
            if time_format == EPOCH_MS:
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise ValueError
                moment = dt.datetime.fromtimestamp(int(value) / 1000, self.tz).replace(tzinfo=None)
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

"""The station simulator itself, over HTTP: protocol, world, quirks and scripted faults."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from urllib.parse import urlsplit

import pytest
import requests
from stdnum.cn import ric

from pv_model.dialect import InterfaceError, dig, load_interface, top_field
from pv_simulator import SimStationSpec, StationSimulator, iter_media, media_sha256
from pv_simulator.__main__ import build_specs
from pv_simulator.dialect import put, split_urls

pytestmark = pytest.mark.integration  # the simulator over HTTP (tests/tiers.py)

RECORDS = "/api/v1/infrastructure/records"
TIMEOUT = 10
TIME = "%Y-%m-%d %H:%M:%S"
MAGIC = {".jpg": b"\xff\xd8\xff\xe0", ".png": b"\x89PNG\r\n\x1a\n", ".gif": b"GIF89a"}


@pytest.fixture(scope="module")
def sim():
    specs = [SimStationSpec("ST-0001"), SimStationSpec("ST-0002", quirks=False, records=12)]
    with StationSimulator(specs) as simulator:
        yield simulator


@pytest.fixture
def small():
    """A fresh one-station simulator whose switches a test may flip freely."""
    with StationSimulator([SimStationSpec("ST-0009", records=25, max_connections=2)]) as simulator:
        yield simulator


def login(simulator, station_id="ST-0001") -> requests.Session:
    spec = simulator.station(station_id).spec
    response = requests.post(
        simulator.base_url(station_id) + "/api/v1/auth/login",
        json={"account": spec.account, "password": spec.password},
        timeout=TIMEOUT,
    )
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + response.json()["data"]["token"]
    return session


def fetch(simulator, session: requests.Session, url: str) -> requests.Response:
    """GET a media URL sending the token only to the station's own host."""
    station_host = urlsplit(simulator.base_url("ST-0001")).netloc
    if urlsplit(url).netloc == station_host:
        return session.get(url)
    return requests.get(url, timeout=TIMEOUT)


def records_page(simulator, session, station_id="ST-0001", **params) -> dict:
    return session.get(simulator.base_url(station_id) + RECORDS, params=params).json()["data"]


def all_records(simulator, session, station_id="ST-0001", page_size=7) -> list[dict]:
    records, page_no = [], 1
    while True:
        data = records_page(simulator, session, station_id, pageNo=page_no, pageSize=page_size)
        if not data["records"]:
            return records
        records += data["records"]
        page_no += 1


# ----------------------------------------------------------------------------- media generation


def test_iter_media_streams_exact_size_and_stable_digest():
    chunks = list(iter_media("mp4", 5, 200_003, chunk=4096))
    body = b"".join(chunks)
    assert len(body) == 200_003 and max(map(len, chunks)) == 4096
    assert body[4:12] == b"ftypisom"
    assert hashlib.sha256(body).hexdigest() == media_sha256("mp4", 5, 200_003)
    assert b"".join(iter_media("mp4", 6, 200_003)) != body


# ----------------------------------------------------------------------------- API


def test_login_ok_wrong_malformed_and_locked(small):
    url = small.base_url("ST-0009") + "/api/v1/auth/login"

    def login_with(password):
        return requests.post(url, json={"account": "st-0009", "password": password}, timeout=TIMEOUT).json()

    ok = login_with("pw-st-0009")
    assert ok["code"] == 0 and ok["data"]["token"] and ok["data"]["expiresIn"] == 7200
    assert login_with("nope") == {"code": 1001, "msg": "账号或密码错误", "data": None}
    malformed = requests.post(url, data=b"{not json", timeout=TIMEOUT)
    assert malformed.status_code == 400 and malformed.json()["code"] == 400
    small.station("ST-0009").locked = True
    assert login_with("pw-st-0009")["code"] == 1002
    assert small.station("ST-0009").logins == 1


def test_station_info_code_is_a_string_on_quirky_stations(sim):
    info = login(sim).get(sim.base_url("ST-0001") + "/api/v1/station/info").json()
    assert info["code"] == "0"
    assert info["data"]["stationCode"] == "ST-0001" and info["data"]["regionCompanyCode"] == "RC-320100"


def test_paging_clamps_page_size_and_ends_with_an_empty_page(sim):
    session = login(sim)
    data = records_page(sim, session, pageNo=1, pageSize=500)
    assert data["pageSize"] == 200 and data["total"] == 30 and len(data["records"]) == 30
    assert records_page(sim, session, pageNo=2, pageSize=200)["records"] == []
    paged = all_records(sim, session)
    assert [r["recordId"] for r in paged] == [r["recordId"] for r in sim.records("ST-0001")]


def test_updated_since_filters_records(sim):
    records = sim.records("ST-0001")
    cutoff = sorted(r["updatedAt"] for r in records)[15]
    data = records_page(sim, login(sim), pageNo=1, pageSize=100, updatedSince=cutoff)
    expected_ids = {r["recordId"] for r in records if r["updatedAt"] >= cutoff}
    assert {r["recordId"] for r in data["records"]} == expected_ids


def test_id_cards_have_valid_check_digits_and_quirks(sim):
    ids = [r["idCardNo"] for r in sim.records("ST-0001") + sim.records("ST-0002")]
    assert all(ric.is_valid(i.strip().upper()) for i in ids)
    assert any(i.endswith("x") for i in ids) and any(i != i.strip() for i in ids)


def test_missing_token_answers_code_401_or_http_401(sim):
    url = sim.base_url("ST-0001") + RECORDS
    no_token = requests.get(url, timeout=TIMEOUT)
    bogus_token = requests.get(url, headers={"Authorization": "Bearer bogus"}, timeout=TIMEOUT)
    answers = sorted((r.status_code, r.json()["code"]) for r in (no_token, bogus_token))
    assert answers == [(200, 401), (401, 401)]


# ----------------------------------------------------------------------------- media


def test_every_expected_media_is_served_as_described(sim):
    session = login(sim)
    sim.clear_requests()
    expected = sim.expected_media("ST-0001")
    for item in expected:
        if item.outcome == "rejected":
            continue
        response = fetch(sim, session, item.canonical_url)
        if item.outcome == "ok":
            assert response.status_code == 200, item
            assert hashlib.sha256(response.content).hexdigest() == item.sha256
            assert len(response.content) == item.size
            assert response.content.startswith(MAGIC.get(item.ext, b"")), item
            if item.ext == ".mp4":
                assert response.content[4:12] == b"ftypisom"
        elif item.outcome == "html":
            assert response.status_code == 200 and response.content.startswith(b"<!DOCTYPE html>")
        else:
            assert response.status_code == {"not_found": 404, "gone": 410}[item.outcome]
    cdn_requests = [r for r in sim.requests if r.server == "cdn"]
    assert cdn_requests and all(r.authorization is None for r in cdn_requests)
    assert {".jpg", ".png", ".mp4", ".gif"} <= {e.ext for e in expected}


def test_world_contains_the_documented_quirks(sim):
    records = sim.records("ST-0001")
    photo_fields = " ".join(r["photoUrls"] or "" for r in records)
    assert "，" in photo_fields and ",," in photo_fields and "/files/R" in photo_fields
    assert "%E7" in photo_fields and "现场照片" in photo_fields and "Signature=" in photo_fields
    assert "/redirect/" in photo_fields and "file:///etc/passwd" in photo_fields
    assert any(r["videoUrls"] == "" for r in records) and any(r["videoUrls"] is None for r in records)
    expected = sim.expected_media("ST-0001")
    outcomes = {e.outcome for e in expected if e.picked_up}
    assert outcomes == {"ok", "html", "not_found", "gone", "rejected"}
    shared = [e.canonical_url for e in expected if e.picked_up]
    assert len(shared) > len(set(shared))  # one URL in two picked-up records


def test_chunked_media_has_no_content_length(sim):
    session = login(sim)
    chunked_video = next(e for e in sim.expected_media("ST-0001") if "%E5%AE%89" in e.canonical_url)
    response = session.get(chunked_video.canonical_url)
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert hashlib.sha256(response.content).hexdigest() == chunked_video.sha256


def test_cdn_checks_the_raw_signature(sim):
    cdn_item = next(e for e in sim.expected_media("ST-0001") if "/cdn/" in e.canonical_url)
    assert "%2B" in cdn_item.canonical_url
    assert requests.get(cdn_item.canonical_url, timeout=TIMEOUT).status_code == 200
    assert requests.get(cdn_item.canonical_url.replace("%2B", "%252B"), timeout=TIMEOUT).status_code == 403
    assert requests.get(cdn_item.canonical_url.split("?")[0], timeout=TIMEOUT).status_code == 403
    leaked = {"Authorization": "Bearer leaked"}
    assert requests.get(cdn_item.canonical_url, headers=leaked, timeout=TIMEOUT).status_code == 400


def test_clean_world_has_only_plain_jpegs(sim):
    expected = sim.expected_media("ST-0002")
    assert {(e.outcome, e.ext) for e in expected} == {("ok", ".jpg")}
    for record in sim.records("ST-0002"):
        assert "，" not in (record["photoUrls"] or "") and record["idCardNo"] == record["idCardNo"].strip()


def test_registry_entries(sim):
    entries, env = sim.registry_entries(wrong_password_for=("ST-0002",))
    assert entries[0]["region_company_code"] == "RC-320100" and "region_company_code" not in entries[1]
    assert entries[0]["account_env"] == "ST_0001_ACCOUNT" and entries[0]["media_hosts"] == [sim.cdn_host]
    assert env["ST_0001_PASSWORD"] == "pw-st-0001" and env["ST_0002_PASSWORD"] != "pw-st-0002"


def test_world_is_deterministic():
    def world():
        with StationSimulator([SimStationSpec("ST-0001", records=20, seed=7)]) as simulator:
            base = simulator.base_url("ST-0001")
            return [
                str(r).replace(base, "BASE").replace(simulator.cdn_host, "CDN") for r in simulator.records("ST-0001")
            ]

    assert world() == world()


# ----------------------------------------------------------------------------- faults


def test_scripted_api_faults(small):
    session = login(small, "ST-0009")
    url = small.base_url("ST-0009") + RECORDS
    small.station("ST-0009").script("records", [503, "code429", "html", "html200", "reset", "slow:0.2"])
    unavailable = session.get(url)
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "1"
    assert session.get(url).json() == {"code": 429, "msg": "请求过于频繁", "data": None}
    gateway = session.get(url)
    assert gateway.status_code == 502 and gateway.headers["Content-Type"].startswith("text/html")
    assert session.get(url).text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.ConnectionError):
        session.get(url)
    assert session.get(url, timeout=5).json()["code"] == 0
    small.station("ST-0009").script("records", ["slow:1"])
    with pytest.raises(requests.ReadTimeout):
        session.get(url, timeout=0.3)


def test_truncated_media_body(small):
    session = login(small, "ST-0009")
    expected = small.expected_media("ST-0009")
    item = next(e for e in expected if e.outcome == "ok" and "/files/" in e.canonical_url)
    small.station("ST-0009").script("media", ["truncate"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(item.canonical_url)
    assert hashlib.sha256(session.get(item.canonical_url).content).hexdigest() == item.sha256


def test_token_death(small):
    state = small.station("ST-0009")
    session = login(small, "ST-0009")
    info = small.base_url("ST-0009") + "/api/v1/station/info"
    state.token_max_uses = 2
    assert [session.get(info).json()["code"] for _ in range(3)] == ["0", "0", 401]
    state.token_max_uses = None
    session = login(small, "ST-0009")
    state.expire_tokens()
    assert session.get(info).json()["code"] == 401


def test_moving_records_and_lying_total(small):
    state = small.station("ST-0009")
    state.move_records_between_pages = True
    session = login(small, "ST-0009")
    ids = [r["recordId"] for r in all_records(small, session, "ST-0009", page_size=10)]
    assert len(ids) > len(set(ids))  # one record came back twice
    assert {r["recordId"] for r in small.records("ST-0009")} - set(ids) == {"R9001"}  # only the new one
    state.total_lies = True
    page = records_page(small, session, "ST-0009", pageNo=2, pageSize=10)
    assert page["total"] != len(small.records("ST-0009"))


def test_politeness_limit_answers_429(small):
    small.latency_ms = 500
    url = small.base_url("ST-0009") + "/api/v1/auth/login"
    credentials = {"account": "st-0009", "password": "pw-st-0009"}
    statuses = []

    def call():
        statuses.append(requests.post(url, json=credentials, timeout=TIMEOUT).status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 429, 429]
    assert small.station("ST-0009").max_concurrent_seen >= 3


# ----------------------------------------------------------------------------- dialects

VENDOR_DIALECTS = ["fusionsolar", "isolarcloud", "sems"]
WORLD_PICKUP = {"已提货": "picked_up", "未提货": "not_picked_up", "部分提货": "partly_picked_up"}


@pytest.fixture(params=VENDOR_DIALECTS)
def vendor(request):
    """A fresh one-station simulator speaking a vendor dialect, and that dialect."""
    spec = SimStationSpec("ST-0101", records=30, dialect=request.param)
    with StationSimulator([spec]) as simulator:
        yield simulator, load_interface(request.param)


def code_of(iface, document) -> str:
    return str(dig(document, iface.envelope.code))


def dialect_login(simulator, iface, password=None) -> tuple[requests.Response, dict]:
    """Log in as the dialect says; the response and the headers that carry the token."""
    spec = simulator.station("ST-0101").spec
    values = {"{account}": spec.account, "{password}": password or spec.password}
    body = {name: values.get(template, template) for name, template in iface.login.body.items()}
    response = requests.request(
        iface.login.method, simulator.base_url("ST-0101") + iface.login.path, json=body, timeout=TIMEOUT
    )
    if iface.login.token_from == "json":
        token = dig(response.json(), iface.login.token)
    elif iface.login.token_from == "header":
        token = response.headers.get(iface.login.token)
    else:
        token = response.cookies.get(iface.login.token)
    token = json.dumps(token) if isinstance(token, dict) else token
    return response, {iface.login.send_header: iface.login.send_prefix + (token or "")}


def dialect_call(simulator, iface, call, headers, params=None, base=None) -> requests.Response:
    url = (base or simulator.api_url("ST-0101")) + call.path
    in_query = getattr(call, "params_in", "query") == "query"
    return requests.request(
        call.method,
        url,
        headers=headers,
        timeout=TIMEOUT,
        params=params if in_query else None,
        json=None if in_query else (params or {}),
    )


def url_items(text: str | None) -> list[str]:
    return [url.strip() for url in re.split("[,，]", text or "") if url.strip()]


def records_params(iface, page, size) -> dict:
    return {iface.records.page_param: page, iface.records.page_size_param: size}


def test_dialect_login_and_first_page_of_records(vendor):
    simulator, iface = vendor
    login_response, headers = dialect_login(simulator, iface)
    assert login_response.status_code == 200 and code_of(iface, login_response.json()) in iface.envelope.success
    if iface.envelope.success_flag:
        assert dig(login_response.json(), iface.envelope.success_flag) is True
    page_size = iface.records.page_size
    response = dialect_call(
        simulator, iface, iface.records, headers, records_params(iface, iface.records.first_page, 500)
    )
    document = response.json()
    assert response.status_code == 200 and code_of(iface, document) in iface.envelope.success
    items, world = dig(document, iface.records.items), simulator.records("ST-0101")
    assert dig(document, iface.records.total) == len(world) and len(items) == min(page_size, len(world))
    fields = iface.fields
    dialect_names = {fields.record_id, fields.id_card_no, fields.pickup_status, fields.updated_at}
    dialect_names |= {top_field(path) for path in (*fields.photo_urls, *fields.video_urls)}
    untyped = [name for name in fields.photo_urls if name not in fields.photo_types]
    assert items
    for item, record in zip(items, world, strict=False):
        assert dialect_names <= set(item) and not {"recordId", "pickupStatus", "photoUrls", "videoUrls"} & set(item)
        assert item[fields.record_id] == record["recordId"] and item[fields.id_card_no] == record["idCardNo"]
        raw = item[fields.pickup_status]
        if record["pickupStatus"] is None:
            assert raw is None
        else:  # the dialect's raw value, which the dialect maps back to the world's meaning
            assert iface.pickup_status[raw] == WORLD_PICKUP[record["pickupStatus"]]
        updated = item[fields.updated_at]
        if iface.records.time_format == "epoch_ms":
            assert isinstance(updated, int)
        else:
            assert dt.datetime.strptime(updated, iface.records.time_format).strftime(TIME) == record["updatedAt"]
        spread = [url for name in untyped if item[name] != "--" for url in url_items(item[name])]
        assert spread == url_items(record["photoUrls"])  # spread over the untyped photo fields, in order
        assert all(dig(item, name) in (None, "--") for name in fields.photo_types)  # nothing typed in this world
    raw_statuses = {item[fields.pickup_status] for item in items}
    assert raw_statuses - {None} <= set(iface.pickup_status) and not raw_statuses & set(WORLD_PICKUP) - set(
        iface.pickup_status
    )


def test_dialect_station_info(vendor):
    simulator, iface = vendor
    _, headers = dialect_login(simulator, iface)
    document = dialect_call(simulator, iface, iface.station_info, headers).json()
    assert code_of(iface, document) in iface.envelope.success
    assert dig(document, iface.station_info.station_code) == "ST-0101"
    assert dig(document, iface.station_info.region_company_code) == "RC-320100"


def test_dialect_wrong_password_locked_and_expired_token(vendor):
    simulator, iface = vendor
    envelope = iface.envelope
    wrong, _ = dialect_login(simulator, iface, password="nope")
    assert wrong.status_code == 200 and code_of(iface, wrong.json()) in envelope.bad_credentials
    assert dig(wrong.json(), envelope.message) == "账号或密码错误"
    if envelope.success_flag:
        assert dig(wrong.json(), envelope.success_flag) is False
    _, headers = dialect_login(simulator, iface)
    state = simulator.station("ST-0101")
    state.expire_tokens()
    expired = [dialect_call(simulator, iface, iface.records, headers, records_params(iface, 1, 5)) for _ in range(2)]
    assert all(r.status_code == 200 for r in expired)  # business errors come with HTTP 200
    codes = {code_of(iface, r.json()) for r in expired}
    assert codes <= envelope.token_expired and len(codes) == min(2, len(envelope.token_expired))
    state.locked = True
    assert code_of(iface, dialect_login(simulator, iface)[0].json()) in envelope.bad_credentials


def test_dialect_scripted_faults_speak_the_dialect(vendor):
    simulator, iface = vendor
    _, headers = dialect_login(simulator, iface)
    envelope = iface.envelope
    simulator.station("ST-0101").script("records", ["code429", "code500", "code1003", "code401", 503])
    answers = [dialect_call(simulator, iface, iface.records, headers, records_params(iface, 1, 5)) for _ in range(5)]
    codes = [code_of(iface, r.json()) for r in answers[:4]]
    assert codes[0] in envelope.rate_limited and codes[1] in envelope.transient and codes[3] in envelope.token_expired
    listed = envelope.success | envelope.token_expired | envelope.rate_limited | envelope.transient
    assert codes[2] not in listed | envelope.bad_credentials
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 503]


def test_sems_api_lives_on_the_regional_host():
    iface = load_interface("sems")
    with StationSimulator([SimStationSpec("ST-0101", records=8, dialect="sems")]) as simulator:
        login_response, headers = dialect_login(simulator, iface)
        document = login_response.json()
        token = dig(document, iface.login.token)
        assert isinstance(token, dict) and token["token"] in simulator.station("ST-0101").issued_tokens
        api = urlsplit(dig(document, iface.login.api_base))
        primary = urlsplit(simulator.base_url("ST-0101"))
        assert api.hostname == primary.hostname and api.port != primary.port and api.path == "/api/"
        assert simulator.api_url("ST-0101") == dig(document, iface.login.api_base).rstrip("/")
        on_primary = dialect_call(
            simulator, iface, iface.records, headers, records_params(iface, 1, 5), base=simulator.base_url("ST-0101")
        ).json()
        assert code_of(iface, on_primary) not in iface.envelope.success | iface.envelope.token_expired
        regional = dialect_call(simulator, iface, iface.records, headers, records_params(iface, 1, 5)).json()
        assert code_of(iface, regional) in iface.envelope.success and len(dig(regional, iface.records.items)) == 5
        assert {r.server for r in simulator.requests} == {"ST-0101"}
        assert any(
            r.path == "/api" + iface.records.path and r.authorization == headers["Token"] for r in simulator.requests
        )
        # The token object goes back JSON-encoded; only a live token inside it counts.
        bogus = {"Token": json.dumps({**token, "token": "bogus"})}
        refused = dialect_call(simulator, iface, iface.records, bogus, records_params(iface, 1, 5)).json()
        assert code_of(iface, refused) in iface.envelope.token_expired
        # Media stay on the login host, with the same token header.
        item = next(
            e for e in simulator.expected_media("ST-0101") if e.outcome == "ok" and "/files/" in e.canonical_url
        )
        assert urlsplit(item.canonical_url).netloc == primary.netloc
        assert requests.get(item.canonical_url, headers=headers, timeout=TIMEOUT).status_code == 200
        entries, _ = simulator.registry_entries()
        assert entries[0]["dialect"] == "sems" and entries[0]["media_hosts"][1] == api.netloc


def test_registry_entries_name_only_vendor_dialects():
    specs = [SimStationSpec("ST-0001", records=2), SimStationSpec("ST-0002", records=2, dialect="fusionsolar")]
    with StationSimulator(specs) as simulator:
        entries, _ = simulator.registry_entries()
        assert "dialect" not in entries[0] and entries[1]["dialect"] == "fusionsolar"
        assert entries[1]["media_hosts"] == [simulator.cdn_host]
    with pytest.raises(InterfaceError, match="unknown dialect"):
        StationSimulator([SimStationSpec("ST-0003", dialect="nope")])
    assert {s.dialect for s in build_specs(2, 3, 1, dialect="sems")} == {"sems"}


def test_url_lists_are_spread_over_several_fields_with_their_quirks():
    separators = (",", "，")
    assert split_urls(" a ，b , c ", 2, separators) == [" a ", "b , c "]
    assert split_urls("a,,b,", 2, separators) == ["a,", "b,"]
    assert split_urls("a", 2, separators) == ["a", None]
    assert split_urls(None, 3, separators) == [None, None, None]
    assert split_urls("a,b", 1, separators) == ["a,b"]
    document: dict = {}
    put(document, "data.0.stationCode", "ST-1")
    put(document, "data.0.stationName", "x")
    put(document, "total", 3)
    assert document == {"data": [{"stationCode": "ST-1", "stationName": "x"}], "total": 3}

"""The station client against the simulator over HTTP: every quirk and fault of station-api.md."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pv_model.dialect import load_interface
from pv_simulator import SimStationSpec
from pv_simulator.station_world import region_company_name
from resources.net_guard import MediaUrlPolicy
from resources.station_api import (
    ClientSettings,
    LoginFailed,
    MediaFailure,
    StationApiError,
    StationClient,
    StationEndpoint,
)
from tests.conftest import sha256

FAST = ClientSettings(backoff_initial_s=0.01, backoff_max_s=0.05, read_timeout_s=2.0, max_attempts=4)


class Sleeps(list):
    """Records the waits the client asks for, instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory([SimStationSpec("ST-0001", records=30, seed=5)])


def make_client(sim, *, password=None, settings=FAST, sleep=None, station_id="ST-0001") -> StationClient:
    spec = sim.station(station_id).spec
    endpoint = StationEndpoint(
        station_id,
        sim.base_url(station_id),
        spec.account,
        password or spec.password,
        spec.max_connections,
        (sim.cdn_host,),
    )
    return StationClient(endpoint, load_interface("default"), settings, sleep=sleep if sleep is not None else Sleeps())


def ok_media(sim, where: str, station_id="ST-0001"):
    for media in sim.expected_media(station_id):
        if media.outcome == "ok" and where in media.canonical_url:
            return media
    raise LookupError(where)


def test_login_and_records_with_paging_clamp_and_dedup(sim):
    client = make_client(sim)
    record = client.login()
    assert record.token_fingerprint.startswith("sha256:")
    records = list(client.iter_records())
    assert sorted(r["recordId"] for r in records) == sorted(r["recordId"] for r in sim.records("ST-0001"))
    # pageSize asked is the clamp (200): 30 records come on page 1, page 2 is empty.
    pages = [r.query for r in sim.requests if "/infrastructure/records" in r.path]
    assert len(pages) == 2 and "pageSize=200" in pages[0]


def test_paging_until_an_empty_page_with_moving_records_and_a_lying_total(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=45, seed=3)])
    state = sim.station("ST-0001")
    state.move_records_between_pages = True
    state.total_lies = True
    client = make_client(sim)
    # Small pages, so that a record inserted at the front pushes one from page 1 onto page 2.
    v1 = load_interface("default")
    client.interface = v1.model_copy(update={"records": v1.records.model_copy(update={"page_size": 10})})
    before = {r["recordId"] for r in sim.records("ST-0001")}
    ids = [r["recordId"] for r in client.iter_records()]
    assert len(sim.records("ST-0001")) > len(before)  # the station really shifted its pages
    assert len(ids) == len(set(ids)) == len(before)  # de-duplicated by recordId, none missed
    assert set(ids) == before  # and not stopped by the lying total (reported as half)


def test_wrong_password_is_permanent_with_the_station_code_and_message(sim):
    client = make_client(sim, password="not-the-password")
    with pytest.raises(LoginFailed) as info:
        client.login()
    assert str(info.value) == "station ST-0001: login failed: code 1001: 账号或密码错误"
    assert "not-the-password" not in str(info.value)
    assert len([r for r in sim.requests if r.path.endswith("/auth/login")]) == 1  # not retried


def test_locked_account(sim):
    sim.station("ST-0001").locked = True
    with pytest.raises(LoginFailed, match="code 1002"):
        make_client(sim).login()


@pytest.mark.parametrize("expiry", ["code401", 401])
def test_expired_token_logs_in_again_once_and_replays(sim, expiry):
    client = make_client(sim)
    client.login()
    sim.station("ST-0001").script("records", [expiry])
    records = list(client.iter_records())
    assert len(records) == len(sim.records("ST-0001"))
    assert sim.station("ST-0001").logins == 2


def test_a_token_that_dies_at_every_call_still_gets_everything(sim, tmp_path):
    state = sim.station("ST-0001")
    state.token_max_uses = 1
    client = make_client(sim)
    client.login()
    records = list(client.iter_records())
    info = client.station_info()
    assert len(records) == len(sim.records("ST-0001")) and info["station_code"] == "ST-0001"
    spec = sim.station("ST-0001").spec
    assert info["region_company_name"] == region_company_name(spec.region_company_code) != spec.region_company_code
    media = ok_media(sim, "/files/")
    result, data = download(client, media, tmp_path)
    assert sha256(data) == media.sha256


def test_token_rejected_twice_is_an_error_not_a_loop(sim):
    client = make_client(sim)
    client.login()
    sim.station("ST-0001").script("info", ["code401", "code401"])
    with pytest.raises(StationApiError, match="token rejected again right after a fresh login"):
        client.station_info()


def test_429_honours_retry_after(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=5, seed=1)], retry_after="7")
    sleeps = Sleeps()
    client = make_client(sim, sleep=sleeps)
    client.login()
    sim.station("ST-0001").script("info", [429, 429])
    assert client.station_info()["station_code"] == "ST-0001"
    assert sleeps == [7.0, 7.0]


@pytest.mark.parametrize("fault", [500, 502, 503, 504, "code500", "code429", "html", "html200", "reset"])
def test_transient_faults_are_retried_with_backoff(sim, fault):
    sleeps = Sleeps()
    client = make_client(sim, sleep=sleeps)
    client.login()
    sim.station("ST-0001").script("records", [fault, fault])
    assert len(list(client.iter_records())) == len(sim.records("ST-0001"))
    assert len(sleeps) == 2 and all(0 <= s <= FAST.backoff_max_s + 1 for s in sleeps)


def test_a_slow_answer_is_cut_by_the_read_timeout_and_retried(sim):
    client = make_client(sim, settings=ClientSettings(read_timeout_s=0.3, backoff_initial_s=0.01, max_attempts=3))
    client.login()
    sim.station("ST-0001").script("info", ["slow:1.5"])
    assert client.station_info()["station_code"] == "ST-0001"


def test_transient_faults_beyond_the_budget_fail_the_call_with_the_reason(sim):
    client = make_client(sim)
    client.login()
    sim.station("ST-0001").script("info", [503] * FAST.max_attempts)
    with pytest.raises(StationApiError, match=r"station info failed: code HTTP 503: gave up after 4 attempts"):
        client.station_info()


def test_business_error_names_code_and_message(sim):
    client = make_client(sim)
    client.login()
    sim.station("ST-0001").script("info", ["code1003"])
    with pytest.raises(StationApiError, match="station ST-0001: station info failed: code 1003: 业务错误"):
        client.station_info()


def test_station_down_at_login_fails_the_login_after_the_budget(sim):
    sim.station("ST-0001").script("login", ["reset"] * FAST.max_attempts)
    with pytest.raises(LoginFailed, match="station unreachable after 4 attempts"):
        make_client(sim).login()


# -- media ---------------------------------------------------------------------------------


def download(client, media, tmp_path):
    result = client.download(media.canonical_url, tmp_path)
    data = result.path.read_bytes()
    result.path.unlink()
    return result, data


@pytest.mark.parametrize("where", ["/files/", "/cdn/", "/redirect/"])
def test_media_bytes_arrive_whole_wherever_they_live(sim, tmp_path, where):
    client = make_client(sim)
    media = ok_media(sim, where)
    result, data = download(client, media, tmp_path)
    assert sha256(data) == result.sha256 == media.sha256
    assert result.media_type.extension == media.ext
    assert list(tmp_path.iterdir()) == []


def test_token_goes_to_the_station_host_only_even_through_redirects(sim, tmp_path):
    client = make_client(sim)
    for media in sim.expected_media("ST-0001"):
        if media.outcome == "ok" and "/redirect/" in media.canonical_url:
            download(client, media, tmp_path)
    station_media = [r for r in sim.requests if r.server == "ST-0001" and "/redirect/" in r.path]
    cdn = [r for r in sim.requests if r.server == "cdn"]
    assert station_media and all(r.authorization and r.authorization.startswith("Bearer ") for r in station_media)
    assert cdn and all(r.authorization is None for r in cdn)


def test_a_redirect_into_a_forbidden_host_is_refused(sim, tmp_path):
    client = make_client(sim)
    # Without media_hosts, the CDN (a loopback host that is not the station's) is forbidden.
    client.policy = MediaUrlPolicy.for_station(sim.base_url("ST-0001"), ())
    media = ok_media(sim, "/redirect/")
    with pytest.raises(MediaFailure, match="forbidden_target: host localhost resolves to .* loopback"):
        client.download(media.canonical_url, tmp_path)
    assert not [r for r in sim.requests if r.server == "cdn"]


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        ("html", "not_media: HTML page instead of media"),
        ("not_found", "not_found: HTTP 404"),
        ("gone", "gone: HTTP 410"),
    ],
)
def test_broken_media_fail_with_a_reason_and_leave_no_file(sim, tmp_path, outcome, reason):
    client = make_client(sim)
    media = next(m for m in sim.expected_media("ST-0001") if m.outcome == outcome)
    with pytest.raises(MediaFailure) as info:
        client.download(media.canonical_url, tmp_path)
    assert str(info.value) == reason
    assert list(tmp_path.iterdir()) == []


def test_a_body_cut_off_mid_way_is_retried_never_kept(sim, tmp_path):
    client = make_client(sim)
    media = ok_media(sim, "/files/")
    sim.station("ST-0001").script("media", ["truncate"])
    result, data = download(client, media, tmp_path)
    assert sha256(data) == media.sha256
    sim.station("ST-0001").script("media", ["truncate"] * FAST.max_attempts)
    with pytest.raises(MediaFailure, match="transient: gave up after 4 attempts: download cut off"):
        client.download(media.canonical_url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_size_cap_cuts_the_stream(sim, tmp_path):
    client = make_client(sim)
    media = ok_media(sim, "/files/")
    with pytest.raises(MediaFailure, match="too_large"):
        client.download(media.canonical_url, tmp_path, max_bytes=media.size - 1)
    assert list(tmp_path.iterdir()) == []


def test_media_5xx_beyond_the_budget_is_a_transient_failure(sim, tmp_path):
    client = make_client(sim)
    media = ok_media(sim, "/files/")
    sim.station("ST-0001").script("media", [503] * FAST.max_attempts)
    with pytest.raises(MediaFailure) as info:
        client.download(media.canonical_url, tmp_path)
    assert info.value.reason == "transient" and info.value.transient


def test_expired_token_on_media_logs_in_again(sim, tmp_path):
    client = make_client(sim)
    client.login()
    sim.station("ST-0001").expire_tokens()
    media = ok_media(sim, "/files/")
    result, data = download(client, media, tmp_path)
    assert sha256(data) == media.sha256 and sim.station("ST-0001").logins == 2


def test_concurrent_downloads_stay_within_max_connections(simulator_factory, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=40, seed=8, max_connections=3, quirks=False)], latency_ms=20
    )
    client = make_client(sim)
    client.login()
    medias = [m for m in sim.expected_media("ST-0001") if m.outcome == "ok"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda m: client.download(m.canonical_url, tmp_path), medias))
    assert [r.sha256 for r in results] == [m.sha256 for m in medias]
    state = sim.station("ST-0001")
    assert state.busy_rejections == 0 and state.max_concurrent_seen <= 3


def test_a_record_without_its_id_field_is_a_clear_error(sim):
    client = make_client(sim)
    first = sim.records("ST-0001")[0]["recordId"]
    sim.station("ST-0001").update_record(first, recordId=None)
    with pytest.raises(StationApiError, match="station ST-0001: records page 1 failed: record 0 has no 'recordId'"):
        list(client.iter_records())


def test_a_dns_answer_that_changes_after_the_check_is_caught_at_connect(sim, tmp_path):
    # The check's resolver says "public"; the connection really reaches 127.0.0.1 (DNS rebinding).
    spec = sim.station("ST-0001").spec
    endpoint = StationEndpoint("ST-0001", sim.base_url("ST-0001"), spec.account, spec.password, 4, ())
    client = StationClient(
        endpoint, load_interface("default"), FAST, sleep=Sleeps(), resolver=lambda host, port: ["93.184.216.34"]
    )
    media = ok_media(sim, "/cdn/")
    with pytest.raises(MediaFailure, match=r"forbidden_target: host localhost connected to 127\.0\.0\.1"):
        client.download(media.canonical_url, tmp_path)
    assert not [r for r in sim.requests if r.server == "cdn"]


def test_a_refused_login_sticks_instead_of_locking_the_account(sim, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    client = make_client(sim)
    client.login()
    state = sim.station("ST-0001")
    state.spec.password = "changed-at-the-station"  # someone changed it mid-run
    state.expire_tokens()
    sim.clear_requests()
    medias = [m for m in sim.expected_media("ST-0001") if m.outcome == "ok" and "/files/" in m.canonical_url]

    def try_download(media):
        try:
            client.download(media.canonical_url, tmp_path)
        except LoginFailed as exc:
            return str(exc)
        return "downloaded"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(try_download, medias))
    assert set(outcomes) == {"station ST-0001: login failed: code 1001: 账号或密码错误"}
    assert len([r for r in sim.requests if r.path.endswith("/auth/login")]) == 1


def test_a_trickling_body_is_cut_off(simulator_factory, tmp_path):
    sim = simulator_factory([SimStationSpec("ST-0001", records=3, seed=7, quirks=False)], bandwidth_bytes_per_s=4_000)
    settings = replace(FAST, slow_grace_s=0.3, min_bytes_per_s=50_000, max_attempts=2)
    client = make_client(sim, settings=settings)
    media = ok_media(sim, "/files/")
    with pytest.raises(MediaFailure, match=r"transient: gave up after 2 attempts: too slow: \d+ bytes in"):
        client.download(media.canonical_url, tmp_path)
    assert list(tmp_path.iterdir()) == []

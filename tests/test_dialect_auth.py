"""Authentication schemes beyond login-then-token, against the simulator: the dialect hook
(the shipped example, by entry point and by module:function), hashed passwords, and the token
rules of issue 9 (cookies only to the station's exact origin, a token no header can carry)."""

from __future__ import annotations

import hashlib

import pytest

from pv_model.dialect import load_interface
from pv_simulator import SimStationSpec
from resources.station_api import LoginFailed, StationClient, StationEndpoint
from resources.station_api.auth import UnsendableToken, cookie_value, header_value, transform_password

HOOKED = """\
name: hooked
hook: {hook}
envelope: {{style: none, message: error}}
records:
  path: /api/v1/infrastructure/records
  paging: none
  items: data.records
fields:
  record_id: recordId
  id_card_no: idCardNo
  pickup_status: pickupStatus
  photo_urls: photoUrls
  video_urls: videoUrls
pickup_status: {{已提货: picked_up, 未提货: not_picked_up, 部分提货: partly_picked_up}}
"""


def client_for(sim, dialect: str, password: str | None = None) -> StationClient:
    spec = sim.specs[0]
    endpoint = StationEndpoint(
        "ST-0001", sim.base_url("ST-0001"), spec.account, password or spec.password, 4, (sim.cdn_host,)
    )
    return StationClient(endpoint, load_interface(dialect))


@pytest.mark.parametrize("hook", ["timestamp_hmac", "resources.dialect_hooks:sign_timestamp"])
def test_the_shipped_hook_signs_every_call_and_a_wrong_secret_fails_the_login(
    hook, simulator_factory, tmp_path, monkeypatch
):
    (tmp_path / "hooked.yaml").write_text(HOOKED.format(hook=hook), "utf-8")
    monkeypatch.setenv("PV_DIALECTS_DIR", str(tmp_path))
    sim = simulator_factory([SimStationSpec("ST-0001", records=12, seed=81, dialect="hooked")])
    client = client_for(sim, "hooked")
    records = list(client.iter_records())
    assert sorted(r["recordId"] for r in records) == sorted(r["recordId"] for r in sim.records("ST-0001"))
    media = next(m for m in sim.expected_media("ST-0001") if m.outcome == "ok" and "/files/" in m.canonical_url)
    downloaded = client.download(media.canonical_url, tmp_path / "staging")
    assert hashlib.sha256(downloaded.path.read_bytes()).hexdigest() == media.sha256
    signed = [r for r in sim.requests if r.server == "ST-0001"]
    assert signed and all(r.status == 200 for r in signed)
    with pytest.raises(LoginFailed, match="station ST-0001: login failed: the station refused the hook credentials"):
        list(client_for(sim, "hooked", password="wrong").iter_records())


def test_password_transforms_as_vendors_hash_them():
    assert transform_password("password", "md5_lower") == "5f4dcc3b5aa765d61d8327deb882cf99"
    assert transform_password("password", "md5_upper") == "5F4DCC3B5AA765D61D8327DEB882CF99"
    assert transform_password("password", "sha256_lower").startswith("5e884898da28047151d0e56f8dc6292773603d0d")
    assert transform_password("password", "base64") == "cGFzc3dvcmQ="
    assert transform_password("password", "none") == "password"


def test_a_cookie_token_goes_to_the_stations_exact_origin_only(simulator_factory):
    sim = simulator_factory([SimStationSpec("ST-0001", records=5, seed=82, dialect="growatt")])
    client = client_for(sim, "growatt")
    client.login()
    token = client.session._token
    assert token and len(client.session.http.cookies) == 0  # no jar holds it
    station = sim.base_url("ST-0001")
    port = int(station.rsplit(":", 1)[1])
    assert client.session.auth_headers(f"{station}/files/x.jpg", token) == {"Cookie": f"JSESSIONID={token}"}
    for elsewhere in (
        f"http://127.0.0.1:{port + 1}/files/x.jpg",
        f"https://127.0.0.1:{port}/x",
        f"http://{sim.cdn_host}/x",
    ):
        assert client.session.auth_headers(elsewhere, token) == {}


def test_a_token_no_header_can_carry_is_refused_clearly(simulator_factory):
    assert cookie_value("令牌 a;b").isascii()
    with pytest.raises(UnsendableToken):
        header_value("令牌")
    sim = simulator_factory([SimStationSpec("ST-0001", records=5, seed=83)])
    state = sim.station("ST-0001")
    issue = state.issue_token

    def chinese_token() -> str:
        token = issue()
        state._tokens["令牌" + token] = state._tokens.pop(token)
        return "令牌" + token

    state.issue_token = chinese_token
    with pytest.raises(LoginFailed, match="the token holds characters an HTTP header cannot carry"):
        client_for(sim, "default").login()


@pytest.mark.parametrize("dialect", ["enphase", "default"])
def test_refused_credentials_stick_in_every_answer_style(simulator_factory, dialect):
    """OAuth2's `invalid_client` is not among the station envelope's codes: a refusal must stick all the same,
    or every later call tries the wrong secret again and brings the account closer to a lock."""
    sim = simulator_factory([SimStationSpec("ST-0001", records=3, seed=81, dialect=dialect)])
    client = client_for(sim, dialect, password="wrong-secret")
    with pytest.raises(LoginFailed) as first:
        client.login()
    assert first.value.refused
    sim.clear_requests()
    for _ in range(3):
        with pytest.raises(LoginFailed):
            client.login()
    assert sim.requests == []  # the refusal is remembered, not tried again

"""The envelope rules of station-api.md and the dialect loader, pure."""

import json
from pathlib import Path

import pytest

from pv_model.dialect import InterfaceError, load_interface, load_interface_file
from resources.envelope import classify_reply, parse_retry_after

V1 = load_interface("default")


def reply(body, status=200, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return classify_reply(V1, status, headers or {}, raw)


@pytest.mark.parametrize("code", [0, "0", " 0 "])
def test_success_with_numeric_or_string_code(code):
    r = reply({"code": code, "msg": "success", "data": {"token": "t"}})
    assert r.kind == "ok" and r.document["data"]["token"] == "t"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"code": 1001, "msg": "账号或密码错误"}, 200, "bad_credentials"),
        ({"code": 1002, "msg": "账号已锁定"}, 200, "bad_credentials"),
        ({"code": 401, "msg": "token已过期"}, 200, "token_expired"),
        (b"", 401, "token_expired"),
        ({"code": 429, "msg": "请求过于频繁"}, 200, "rate_limited"),
        (b"slow down", 429, "rate_limited"),
        ({"code": 500, "msg": "系统繁忙"}, 200, "transient"),
        (b"<html><body>502 Bad Gateway</body></html>", 502, "transient"),
        (b"<!DOCTYPE html><html>gateway</html>", 200, "transient"),
        (b"{not json", 200, "transient"),
        ({"code": 1003, "msg": "业务错误"}, 200, "error"),
        ([1, 2, 3], 200, "error"),
        ({"msg": "no code"}, 200, "error"),
    ],
)
def test_every_code_and_status_maps_to_what_the_client_does(body, status, kind):
    assert reply(body, status).kind == kind


def test_business_error_keeps_code_and_message():
    r = reply({"code": 1003, "msg": "业务错误"})
    assert (r.code, r.message) == ("1003", "业务错误")


def test_a_one_megabyte_message_is_cut_short():
    r = reply({"code": 1003, "msg": "错" * 1_000_000})
    assert len(r.message) <= 200


def test_array_where_an_object_was_expected_is_named():
    assert reply([{"code": 0}]).message == "expected a JSON object, got array"


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412475.0) == pytest.approx(5.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert reply(b"", 429, {"Retry-After": "7"}).retry_after == 7.0


def test_the_default_dialect_declares_station_api_v1():
    assert V1.login.path == "/api/v1/auth/login" and V1.login.send_prefix == "Bearer "
    assert (V1.records.page_param, V1.records.page_size_param, V1.records.first_page) == ("pageNo", "pageSize", 1)
    assert V1.records.page_size == 200
    assert V1.pickup_status["已提货"] == "picked_up"


def test_a_broken_dialect_names_the_file_and_the_key(tmp_path: Path):
    source = Path(load_interface("default").source).read_text(encoding="utf-8")
    broken = tmp_path / "vendor.yaml"
    broken.write_text(source.replace("path: /api/v1/infrastructure/records", "path: api/records"), "utf-8")
    with pytest.raises(InterfaceError, match=r"vendor\.yaml:37: key 'records\.path' must start with '/'"):
        load_interface_file(broken)
    broken.write_text(source.replace("  items: data.records\n", ""), "utf-8")
    with pytest.raises(InterfaceError, match=r"key 'records\.items' is missing"):
        load_interface_file(broken)


def test_unknown_dialect_lists_the_known_ones():
    with pytest.raises(InterfaceError, match="unknown dialect 'nope' .*default"):
        load_interface("nope")

"""The dialect language as typed models: validation messages, the published JSON Schema, field
paths and the envelope styles, pure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pv_model.dialect import (
    SCHEMA_DIR,
    InterfaceError,
    dig,
    known_dialects,
    load_interface,
    load_interface_file,
    parse_interface,
    schema_text,
)
from resources.envelope import classify_reply
from resources.schemas import schemas

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
name: vendor
api_key:
  send_header: X-Key
records:
  path: /records
  paging: none
  items: $
fields:
  record_id: id
  id_card_no: owner.idNumber
  pickup_status: state
  photo_urls: attachments
pickup_status: {1: picked_up, 0: not_picked_up}
"""


@pytest.mark.parametrize("name", sorted(schemas()))
def test_the_published_schemas_are_generated_from_the_models(name):
    # Regenerate with `python -m resources.schemas` when the models change.
    published = (SCHEMA_DIR / name).read_text("utf-8")
    assert published == schema_text(schemas()[name]), f"conf/schema/{name} is stale"
    assert json.loads(published)["additionalProperties"] is False


def test_every_shipped_dialect_validates():
    shipped = sorted(p.stem for p in (ROOT / "conf" / "dialects").glob("*.yaml"))
    assert "default" in shipped and len(shipped) >= 8
    assert known_dialects() == shipped
    for name in shipped:
        assert load_interface(name).name == name


def test_unknown_keys_are_errors_with_a_did_you_mean_and_the_line(tmp_path: Path):
    bad = tmp_path / "vendor.yaml"
    bad.write_text(MINIMAL.replace("  items: $", "  itmes: $").replace("  send_header: X-Key", "  sendheader: X"))
    with pytest.raises(InterfaceError) as caught:
        load_interface_file(bad)
    message = str(caught.value)
    assert f"{bad}:3: key 'api_key.sendheader' is not a known key; did you mean 'send_header'?" in message
    assert f"{bad}:7: key 'records.itmes' is not a known key; did you mean 'items'?" in message
    assert f"{bad}:4: key 'records.items' is missing" in message


def test_a_bad_value_names_the_key_and_what_was_wrong(tmp_path: Path):
    bad = tmp_path / "vendor.yaml"
    bad.write_text(MINIMAL.replace("paging: none", "paging: cursor"))
    with pytest.raises(InterfaceError, match=r"vendor.yaml:4: key 'records' paging 'cursor' needs 'cursor_param'"):
        load_interface_file(bad)
    bad.write_text(MINIMAL.replace("photo_urls: attachments", "photo_urls: attachments..url"))
    with pytest.raises(InterfaceError, match=r"vendor.yaml:12: key 'fields.photo_urls.0' .* is not a field path"):
        load_interface_file(bad)
    bad.write_text(MINIMAL + "login: {path: /login, token: t, send_header: Authorization}\n")
    with pytest.raises(InterfaceError, match="only one authentication scheme, got login and api_key"):
        load_interface_file(bad)


def test_pickup_values_are_text_whatever_their_yaml_type():
    import yaml

    iface = parse_interface(yaml.safe_load(MINIMAL), "inline")
    assert iface.pickup_status == {"1": "picked_up", "0": "not_picked_up"}
    assert iface.envelope.style == "none" and iface.auth_scheme == "api_key"


def test_field_paths_one_syntax():
    record = {"owner": {"idNumber": "X"}, "attachments": [{"url": "a"}, {"url": "b", "type": "video"}, {}]}
    assert dig(record, "owner.idNumber") == "X"
    assert dig(record, "attachments.1.url") == dig(record, "attachments[1].url") == "b"
    assert dig(record, "attachments[*].url") == ["a", "b"]
    assert dig(record, "attachments.7.url") is None and dig(record, "owner.nope.deeper") is None
    assert dig([1, 2], "$") == [1, 2]


def iface_with(envelope: str):
    import yaml

    document = yaml.safe_load(MINIMAL)
    document["envelope"] = yaml.safe_load(envelope)
    return parse_interface(document, "inline")


def kind(iface, body, status=200):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = classify_reply(iface, status, {}, raw)
    return reply.kind, reply.code, reply.message


FIELD_STYLE = """
success_field: status
success_value: OK
code: error.code
message: error.text
token_expired: [TOKEN_EXPIRED]
rate_limited: [SLOW_DOWN]
transient: [BUSY]
bad_credentials: [BAD_LOGIN]
"""
PLAIN = """
style: none
message: error.message
code: error.code
token_expired: [invalid_token]
bad_credentials: [invalid_client]
"""


@pytest.mark.parametrize(
    ("envelope", "body", "status", "expected"),
    [
        (FIELD_STYLE, {"status": "OK", "data": []}, 200, ("ok", None, "")),
        (
            FIELD_STYLE,
            {"status": "ERROR", "error": {"code": "TOKEN_EXPIRED"}},
            200,
            ("token_expired", "TOKEN_EXPIRED", ""),
        ),
        (FIELD_STYLE, {"status": "ERROR", "error": {"code": "SLOW_DOWN"}}, 200, ("rate_limited", "SLOW_DOWN", "")),
        (FIELD_STYLE, {"status": "ERROR", "error": {"code": "BUSY"}}, 200, ("transient", "BUSY", "")),
        (
            FIELD_STYLE,
            {"status": "ERROR", "error": {"code": "BAD_LOGIN", "text": "no"}},
            200,
            ("bad_credentials", "BAD_LOGIN", "no"),
        ),
        (FIELD_STYLE, {"status": "ERROR", "error": {"code": "X", "text": "why"}}, 200, ("error", "X", "why")),
        (PLAIN, [{"id": 1}], 200, ("ok", None, "")),
        (
            PLAIN,
            {"error": {"message": "expired", "code": "invalid_token"}},
            401,
            ("token_expired", "HTTP 401", "token rejected"),
        ),
        (PLAIN, b"", 403, ("token_expired", "HTTP 403", "token rejected")),
        (PLAIN, b"", 429, ("rate_limited", "HTTP 429", "too many requests")),
        (PLAIN, b"", 503, ("transient", "HTTP 503", "station unavailable")),
        (
            PLAIN,
            {"error": {"message": "wrong secret", "code": "invalid_client"}},
            400,
            ("bad_credentials", "invalid_client", "wrong secret"),
        ),
        (PLAIN, {"error": {"message": "no such site"}}, 404, ("error", "HTTP 404", "no such site")),
    ],
)
def test_every_envelope_style_recognises_every_meaning(envelope, body, status, expected):
    assert kind(iface_with(envelope), body, status) == expected


def test_every_url_shape_is_read_and_keeps_its_field():
    import yaml

    from pv_assets.collection.record_table import media_refs, record_rows

    document = yaml.safe_load(MINIMAL)
    document["fields"].update(
        photo_urls=["comma", "array", "objects", "json_text", "empty", "dashes", "gone[*].url"],
        video_urls=["nested.clips[*].src"],
    )
    document["placeholders"] = ["--"]
    iface = parse_interface(document, "inline")
    record = {
        "id": 7,
        "owner": {"idNumber": "X"},
        "state": 1.0,
        "comma": "a.jpg, b.jpg，c.jpg",
        "array": ["d.jpg", " ", None],
        "objects": [{"url": "e.mp4", "type": "video"}, {"url": "f.jpg", "type": "photo"}, {"type": "photo"}],
        "json_text": '["g,1.jpg", "h.jpg"]',
        "empty": "",
        "dashes": "--",
        "nested": {"clips": [{"src": "i.mp4"}]},
    }
    refs = [(r.kind, r.field, r.url) for r in media_refs(record, iface)]
    assert refs == [
        ("photo", "comma", "a.jpg"),
        ("photo", "comma", "b.jpg"),
        ("photo", "comma", "c.jpg"),
        ("photo", "array", "d.jpg"),
        ("video", "objects", "e.mp4"),
        ("photo", "objects", "f.jpg"),
        ("photo", "json_text", "g,1.jpg"),  # an item of a JSON array is one URL, commas and all
        ("photo", "json_text", "h.jpg"),
        ("video", "nested.clips[*].src", "i.mp4"),
    ]
    (row,) = record_rows([record], iface, "ST-1", "RC-1")
    # 1.0, 1 and "1" are the same station value; nested paths reach the owner.
    assert (row["record_id"], row["id_card_no"], row["pickup_status"]) == ("7", "X", "picked_up")
    assert json.loads(row["media_items"])[6] == ["photo", "json_text", "g,1.jpg", "other"]


def test_times_as_strftime_epoch_seconds_or_milliseconds():
    from datetime import UTC, datetime

    from pv_model.dialect import format_time, parse_time

    moment = datetime(2026, 11, 3, 12, 0, 5, tzinfo=UTC)
    for time_format in ("%Y-%m-%d %H:%M:%S", "epoch_s", "epoch_ms"):
        assert parse_time(format_time(moment, time_format), time_format) == moment
    assert format_time(moment, "epoch_s") == "1793707205" and format_time(moment, "epoch_ms") == "1793707205000"
    assert parse_time("soon", "epoch_ms") is None and parse_time(True, "epoch_s") is None

"""Dialect mistakes that used to pass without a word (issue 22, items 1-3, 5, 9, 16): each is now either
read as the vendor meant it or refused with the file, the line, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pv_assets.collection.record_table import record_rows
from pv_model.dialect import InterfaceError, load_hook, load_interface, load_interface_file
from pv_model.dialect.hooks import HOOK_MODULES_ENV

BASE = """\
name: vendor
api_key:
  send_header: X-Key
records:
  path: /records
  paging: none
  items: $
fields:
  record_id: id
  id_card_no: owner
  pickup_status: state
  photo_urls: attachments
"""


def dialect(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vendor.yaml"
    path.write_text(text, "utf-8")
    return path


def test_video_types_are_compared_without_case_on_both_sides(tmp_path):
    iface = load_interface_file(dialect(tmp_path, BASE + "  video_types: [VIDEO]\npickup_status: {1: picked_up}\n"))
    record = {"id": 1, "owner": "X", "state": 1, "attachments": [{"type": "video", "url": "a.mp4"}]}
    record["attachments"].append({"type": "Video", "url": "b.mp4"})
    record["attachments"].append({"type": "IMAGE", "url": "c.jpg"})
    (row,) = record_rows([record], iface, "ST-1", "RC-1")
    assert (row["video_urls"], row["photo_urls"]) == ("a.mp4,b.mp4", "c.jpg")


def test_pickup_status_keys_are_stripped_like_the_station_values(tmp_path):
    iface = load_interface_file(
        dialect(tmp_path, BASE + 'pickup_status: {"已提货 ": picked_up, " 未提货": not_picked_up}\n')
    )
    records = [{"id": 1, "owner": "X", "state": "已提货 ", "attachments": "a.jpg"}]
    records.append({"id": 2, "owner": "X", "state": "未提货", "attachments": "b.jpg"})
    assert [r["pickup_status"] for r in record_rows(records, iface, "ST-1", "RC-1")] == ["picked_up", "not_picked_up"]


def test_two_status_keys_that_are_the_same_value_are_refused(tmp_path):
    path = dialect(tmp_path, BASE + 'pickup_status: {"已提货": picked_up, "已提货 ": not_picked_up}\n')
    with pytest.raises(InterfaceError, match=r"vendor\.yaml:13: key 'pickup_status' keys '已提货' are written twice"):
        load_interface_file(path)


def test_dialects_are_read_as_yaml_1_2_as_the_registry_is(tmp_path):
    """YAML 1.1 read 00000 as 0, 010 as 8 and on as True: codes and status maps changed meaning."""
    text = BASE.replace("api_key:", "envelope: {code: code, success: [00000, 010]}\napi_key:")
    iface = load_interface_file(dialect(tmp_path, text + "pickup_status: {on: picked_up, off: not_picked_up}\n"))
    assert iface.envelope.success == frozenset({"00000", "010"})
    assert iface.pickup_status == {"on": "picked_up", "off": "not_picked_up"}


def test_statuses_written_01_and_1_are_two_keys(tmp_path):
    text = BASE + "pickup_status: {01: picked_up, 1: not_picked_up}\n"
    iface = load_interface_file(dialect(tmp_path, text))
    assert iface.pickup_status == {"01": "picked_up", "1": "not_picked_up"}


def test_a_duplicate_key_is_refused_with_its_line(tmp_path):
    path = dialect(tmp_path, BASE + "pickup_status: {1: picked_up}\nname: again\n")
    with pytest.raises(InterfaceError, match=r"vendor\.yaml:14: not valid YAML: .*duplicate key 'name'"):
        load_interface_file(path)


def test_a_login_must_say_how_its_token_goes_out(tmp_path):
    text = BASE.replace("api_key:\n  send_header: X-Key\n", "login: {path: /login, token: data.token}\n")
    with pytest.raises(InterfaceError) as caught:
        load_interface_file(dialect(tmp_path, text + "pickup_status: {1: picked_up}\n"))
    message = str(caught.value)
    assert "vendor.yaml:2: key 'login' says nowhere how the token goes out with each call" in message
    assert "add send_header (e.g. Authorization, with send_prefix 'Bearer '), send_cookie" in message
    assert "or send_query (the query parameter's name)" in message


def test_a_station_value_meaning_unknown_has_a_status_of_its_own(tmp_path):
    iface = load_interface_file(dialect(tmp_path, BASE + "pickup_status: {1: picked_up, 未知: undetermined}\n"))
    (row,) = record_rows([{"id": 1, "owner": "X", "state": "未知", "attachments": "a.jpg"}], iface, "ST", "RC")
    assert row["pickup_status"] == "undetermined"  # not "unknown", which the known_pickup_statuses check warns of


@pytest.mark.parametrize("name", ["../secrets", "/etc/passwd", "sub/vendor", "default.yaml/..", ""])
def test_a_dialect_is_named_never_given_as_a_path(name):
    with pytest.raises(InterfaceError, match="a dialect is named, not given as a path"):
        load_interface(name)


def test_a_dialects_folder_in_the_working_directory_shadows_nothing(tmp_path, monkeypatch):
    (tmp_path / "conf" / "dialects").mkdir(parents=True)
    (tmp_path / "conf" / "dialects" / "default.yaml").write_text("name: impostor\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PV_DIALECTS_DIR", raising=False)
    assert load_interface("default").name == "default"


def test_a_hook_comes_only_from_an_entry_point_or_an_allowed_module(tmp_path, monkeypatch):
    monkeypatch.delenv(HOOK_MODULES_ENV, raising=False)
    text = BASE.replace("api_key:\n  send_header: X-Key\n", "hook: builtins:print\n")
    with pytest.raises(InterfaceError) as caught:
        load_interface_file(dialect(tmp_path, text + "pickup_status: {1: picked_up}\n"))
    assert "vendor.yaml:2: key 'hook' hook 'builtins:print': a hook is code, so its module must be allowed" in str(
        caught.value
    )
    assert f"list 'builtins' in ${HOOK_MODULES_ENV}" in str(caught.value)
    with pytest.raises(ValueError, match="a hook is code"):
        load_hook("os:system")
    monkeypatch.setenv(HOOK_MODULES_ENV, "tests.test_dialect_mistakes")
    path = dialect(
        tmp_path,
        text.replace("builtins:print", "tests.test_dialect_mistakes:dialect") + "pickup_status: {1: picked_up}\n",
    )
    assert load_interface_file(path).hook == "tests.test_dialect_mistakes:dialect"
    assert load_hook("resources.dialect_hooks:sign_timestamp").__name__ == "sign_timestamp"  # the shipped example


def test_a_request_a_hook_prints_shows_no_params_body_or_headers():
    from resources.station_api.auth import OutgoingRequest

    request = OutgoingRequest(
        "POST",
        "https://st.example/api",
        {"Authorization": "Bearer tok-123"},
        {"api_key": "key-456"},
        b'{"password": "pw-789"}',
        "application/json",
        key_id="id",
        secret="sec-000",
    )
    shown = repr(request)
    assert "https://st.example/api" in shown
    assert not any(secret in shown for secret in ("tok-123", "key-456", "pw-789", "sec-000"))


def test_the_dialect_variables_are_the_settings_the_readme_lists():
    from pv_model.dialect import DIALECTS_DIR_ENV
    from resources.settings import env_name

    assert env_name("dialects_dir") == DIALECTS_DIR_ENV
    assert env_name("dialect_hook_modules") == HOOK_MODULES_ENV

"""URL templates and station placeholders (issue 23), pure: validation with file, line and key, and filling."""

from __future__ import annotations

from pathlib import Path

import pytest

from pv_assets.collection.record_table import media_refs
from pv_model.dialect import InterfaceError, fill, fill_url_template, load_interface_file, station_names
from pv_model.registry import RegistryError
from resources.registry import load_registry

BASE = """\
name: vendor
api_key:
  send_header: X-Key
records:
  path: /records/{org}
  params: {stationCode: "{station_code}"}
  paging: none
  items: $
fields:
  record_id: id
  id_card_no: owner
  pickup_status: state
  photo_urls: photoFileIds
  video_urls: videos
  url_templates:
    photoFileIds: /file/{station_code}/get?fileId={item}&group={record.group}
pickup_status: {1: picked_up}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vendor.yaml"
    path.write_text(text, "utf-8")
    return path


def test_an_item_becomes_the_templated_url_with_every_value_encoded(tmp_path):
    iface = load_interface_file(write(tmp_path, BASE))
    record = {"id": 1, "owner": "X", "state": 1, "photoFileIds": "f 1,f/2", "group": "甲", "videos": "v.mp4"}
    refs = media_refs(record, iface, {"station_code": "ST 01"})
    assert [r.url for r in refs] == [
        "/file/ST%2001/get?fileId=f%201&group=%E7%94%B2",
        "/file/ST%2001/get?fileId=f%2F2&group=%E7%94%B2",
        "v.mp4",  # a field without a template is read as URLs
    ]
    assert station_names(iface) == {"org", "station_code"}
    assert fill({"a": ["{org}", 2], "b": "{unknown}"}, {"org": "42"}) == {"a": ["42", 2], "b": "{unknown}"}
    assert fill_url_template("/f?id={item}", "a&b=c", {}, {}) == "/f?id=a%26b%3Dc"  # no parameter smuggled in


@pytest.mark.parametrize(
    ("template_line", "message"),
    [
        ("    other: /file?id={item}\n", "url_templates names 'other', not one of the media fields"),
        ("    videos: /file/video\n", "url_templates for 'videos' must hold {item}"),
    ],
)
def test_a_wrong_template_is_refused_with_its_key(tmp_path, template_line, message):
    broken = BASE.replace("pickup_status: {1: picked_up}", template_line + "pickup_status: {1: picked_up}")
    with pytest.raises(InterfaceError) as caught:
        load_interface_file(write(tmp_path, broken))
    assert "vendor.yaml:9: key 'fields' " + message in str(caught.value)


def registry(tmp_path: Path, params: str) -> Path:
    dialects = tmp_path / "dialects"
    dialects.mkdir()
    (dialects / "vendor.yaml").write_text(BASE, "utf-8")
    path = tmp_path / "stations.yaml"
    path.write_text(
        "stations:\n  - id: ST-1\n    base_url: https://st.example\n    region_company_code: RC-1\n"
        f"    account_env: A\n    password_env: P\n    dialect: vendor\n{params}",
        "utf-8",
    )
    return path


def test_a_placeholder_the_registry_cannot_fill_is_refused_when_it_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("PV_DIALECTS_DIR", str(tmp_path / "dialects"))
    with pytest.raises(RegistryError) as caught:
        load_registry(registry(tmp_path, ""))
    assert "stations.yaml:2: station ST-1: " in str(caught.value)
    assert "dialect 'vendor' writes {org} in its calls or URL templates: give the value under dialect_params" in str(
        caught.value
    )


def test_dialect_params_fill_the_station_values_and_secrets_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PV_DIALECTS_DIR", str(tmp_path / "dialects"))
    station = load_registry(registry(tmp_path, "    dialect_params: {org: '0042'}\n")).get("ST-1")
    assert station.placeholders == {
        "station_id": "ST-1", "station_code": "ST-1", "region_company_code": "RC-1", "org": "0042"
    }  # fmt: skip
    (tmp_path / "stations.yaml").unlink()
    (tmp_path / "dialects" / "vendor.yaml").unlink()
    (tmp_path / "dialects").rmdir()
    with pytest.raises(RegistryError, match="'api_token' looks like a secret: secrets go in environment variables"):
        load_registry(registry(tmp_path, "    dialect_params: {org: '1', api_token: abc}\n"))

"""Required photo types: the registry's three levels, and the dialects' typed photos reaching the records."""

from __future__ import annotations

import json

import pytest

from pv_assets.collection.record_table import record_rows
from pv_model.dialect import load_interface
from pv_model.photo_types import DEFAULT_REQUIRED_PHOTO_TYPES, completeness, missing_types
from pv_model.registry import RegistryError
from resources.registry import load_registry

REGISTRY = """
defaults:
  required_photo_types: [roof_panorama, inverter, meter_box]
region_photo_types:
  RC-1: [roof_panorama]
stations:
  - {id: A, base_url: "http://a.example", region_company_code: RC-1, account_env: X, password_env: Y}
  - {id: B, base_url: "http://b.example", region_company_code: RC-2, account_env: X, password_env: Y}
  - {id: C, base_url: "http://c.example", region_company_code: RC-1, account_env: X, password_env: Y,
     required_photo_types: [nameplate, modules]}
"""


def test_station_beats_region_beats_group(tmp_path):
    path = tmp_path / "stations.yaml"
    path.write_text(REGISTRY)
    registry = load_registry(path)
    required = {s.id: registry.required_photo_types(s) for s in registry.stations}
    assert required == {"A": ("roof_panorama",), "B": ("roof_panorama", "inverter", "meter_box"),
                        "C": ("modules", "nameplate")}  # fmt: skip


def test_without_a_setting_the_six_types_are_required(tmp_path):
    path = tmp_path / "stations.yaml"
    path.write_text(REGISTRY.split("stations:")[0].replace("required_photo_types", "max_connections: 2 #") +
                    "stations:" + REGISTRY.split("stations:")[1].replace("RC-1,", "RC-9,"))  # fmt: skip
    registry = load_registry(path)
    assert registry.required_photo_types(registry.stations[0]) == DEFAULT_REQUIRED_PHOTO_TYPES
    assert len(DEFAULT_REQUIRED_PHOTO_TYPES) == 6 and "other" not in DEFAULT_REQUIRED_PHOTO_TYPES


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("[roof_panorama, inverter, meter_box]", "[roof, inverter]", "unknown photo type 'roof'"),
        ("RC-1: [roof_panorama]", "RC-1: [drone]", "region_photo_types: RC-1: unknown photo type 'drone'"),
        ("[nameplate, modules]", "[nameplat]", "field 'required_photo_types'"),
    ],
)
def test_an_unknown_type_is_refused_naming_it(tmp_path, old, new, says):
    path = tmp_path / "stations.yaml"
    path.write_text(REGISTRY.replace(old, new))
    with pytest.raises(RegistryError, match=says):
        load_registry(path)


def test_missing_and_completeness():
    assert missing_types(["inverter", "other"], DEFAULT_REQUIRED_PHOTO_TYPES) == (
        "roof_panorama", "modules", "meter_box", "grid_connection", "nameplate")  # fmt: skip
    assert completeness(3, 4) == 75.0 and completeness(0, 0) is None


@pytest.mark.parametrize("dialect", ["solaredge", "default"])
def test_records_carry_each_photo_type(dialect):
    interface = load_interface(dialect)
    if dialect == "solaredge":
        record = {"id": "R1", "owner": {"idNumber": "x"}, "status": "1",
                  "documents": [{"url": "http://h/r.jpg", "type": "roof"}, {"url": "http://h/m.jpg", "type": "METER"}],
                  "photos": ["http://h/p.jpg"]}  # fmt: skip
        expected = [["photo", "photos", "http://h/p.jpg", "other"],
                    ["photo", "documents[*].url", "http://h/r.jpg", "roof_panorama"],
                    ["photo", "documents[*].url", "http://h/m.jpg", "meter_box"]]  # fmt: skip
    else:
        record = {"recordId": "R1", "idCardNo": "x", "pickupStatus": "1", "inverterPhotoUrls": "http://h/i.jpg",
                  "photoUrls": "http://h/p.jpg"}  # fmt: skip
        expected = [["photo", "photoUrls", "http://h/p.jpg", "other"],
                    ["photo", "inverterPhotoUrls", "http://h/i.jpg", "inverter"]]  # fmt: skip
    row = record_rows([record], interface, "ST", "RC-1")[0]
    assert sorted(json.loads(row["media_items"])) == sorted(expected)


def test_gallery_rows_carry_the_photo_type_and_the_required_types():
    from pv_assets.gallery.previews.gallery import gallery_rows

    record = {"station_id": "ST-1", "region_company_code": "RC-1", "pickup_status": "picked_up",
              "pickup_status_raw": "已提货", "record_id": "R1", "id_card_no": "110105194912310021",
              "media_items": json.dumps([["photo", "roofPhotoUrls", "http://h/r.jpg", "roof_panorama"],
                                         ["photo", "photoUrls", "http://h/p.jpg", "other"]])}  # fmt: skip
    outcomes = [
        {"station_id": "ST-1", "record_id": "R1", "url_hash": f"aaaa000{n}", "media_field": "photo", "raw_url": url,
         "outcome": "uploaded", "object_key": f"RC-1/ST-1/x_aaaa000{n}.jpg", "size": 10, "media_type": "image/jpeg"}
        for n, url in enumerate(["http://h/r.jpg", "http://h/p.jpg", "http://h/unknown.jpg"])
    ]  # fmt: skip
    rows = gallery_rows([record], outcomes, [], station_name="一号站", accepted_statuses=["已提货"],
                        required_photo_types=("roof_panorama", "inverter"))  # fmt: skip
    assert [r["photo_type"] for r in rows] == ["roof_panorama", "other", "other"]
    assert {r["required_photo_types"] for r in rows} == {"roof_panorama,inverter"}

"""Building the manifest (c/d1) from records: pure, no server."""

from __future__ import annotations

import pandas as pd
import pytest

from pv_assets.collection.checks import check_no_identity_collisions
from pv_assets.collection.manifest_rows import MANIFEST_COLUMNS, build_manifest, manifest_rows, plain_rows
from pv_assets.collection.record_table import records_frame
from pv_model.dialect import load_interface

BASE = "http://st.example.com"
ID = "11010519491231002X"


def frame(*records):
    rows = [
        {
            "recordId": f"R{i}",
            "idCardNo": ID,
            "pickupStatus": "已提货",
            "photoUrls": None,
            "videoUrls": None,
            "updatedAt": "2026-11-01 00:00:00",
            **r,
        }
        for i, r in enumerate(records)
    ]
    return records_frame(rows, load_interface("default"), "ST-1", "RC-1")


def manifest(records, **kwargs):
    return build_manifest(plain_rows(records), base_url=BASE, accepted_statuses=("已提货",), **kwargs)


def test_only_accepted_pickup_statuses_are_collected():
    records = frame(
        {"photoUrls": "/a.jpg"},
        {"pickupStatus": "未提货", "photoUrls": "/b.jpg"},
        {"pickupStatus": "部分提货", "photoUrls": "/c.jpg"},
        {"pickupStatus": None, "photoUrls": "/d.jpg"},
        {"pickupStatus": " 已提货 ", "photoUrls": "/e.jpg"},
    )
    assert sorted(manifest(records).source_url) == [f"{BASE}/a.jpg", f"{BASE}/e.jpg"]
    both = build_manifest(plain_rows(records), base_url=BASE, accepted_statuses=("已提货", "partly_picked_up"))
    assert len(both) == 3  # raw or canonical values may be configured


def test_one_row_per_distinct_file_of_an_owner_with_its_key_stem():
    records = frame(
        {"photoUrls": "/a.jpg, /a.jpg ，/files/../a.jpg", "videoUrls": "/v.mp4"}, {"photoUrls": f"{BASE}/a.jpg"}
    )
    result = manifest(records)
    assert list(result.media_field) == ["photo", "video"]
    first = result.iloc[0]
    assert first.occurrences == 4  # three spellings in R0 (dot segments resolved) and once in R1: one object
    assert first.key_stem == f"RC-1/ST-1/{ID}_{first.url_hash}"
    assert result.problem.isna().all()


@pytest.mark.parametrize("bad_id", ["../../x", "a/b", "11010519491231\x00002X", "", None, "--"])
def test_a_field_that_is_not_an_id_number_never_reaches_a_key(bad_id):
    result = manifest(frame({"idCardNo": bad_id, "photoUrls": "/a.jpg"}))
    row = result.iloc[0]
    assert row.key_stem is None and row.problem.startswith("invalid ID card number")
    assert row.id_card_no is None


def test_lowercase_x_and_spaces_give_the_same_key_as_the_clean_number():
    messy = manifest(frame({"idCardNo": " 11010519491231002x ", "photoUrls": "/a.jpg"}))
    clean = manifest(frame({"photoUrls": "/a.jpg"}))
    assert messy.key_stem.tolist() == clean.key_stem.tolist()


def test_pseudonymized_keys_hold_no_id_number():
    result = manifest(frame({"photoUrls": "/a.jpg"}), pseudonym_secret=b"group-secret")
    stem = result.iloc[0].key_stem
    assert ID not in stem and len(stem.rsplit("/", 1)[1].split("_")[0]) == 24
    assert result.iloc[0].id_card_no == ID  # the audit manifest still says whose file it is


def test_no_region_code_is_a_problem_not_a_crash():
    records = frame({"photoUrls": "/a.jpg"})
    records["region_company_code"] = None
    assert manifest(records).iloc[0].problem == "no region company code (registry or station info)"


def test_ten_thousand_urls_in_one_field():
    urls = ",".join(f"/files/{i}.jpg" for i in range(10_000))
    result = manifest(frame({"photoUrls": urls}))
    assert len(result) == 10_000 and result.key_stem.is_unique


def test_placeholders_and_mixed_types_become_text_or_none():
    records = frame({"capacityKw": 12.6, "phone": "--", "photoUrls": "--"})
    assert records.loc[0, "capacityKw"] == "12.6" and records.loc[0, "phone"] is None
    assert len(manifest(records)) == 0
    assert isinstance(records, pd.DataFrame)


def _download_record(urls: str) -> dict:
    return {
        "station_id": "ST-0001",
        "record_id": "R1",
        "region_company_code": "RC-320100",
        "id_card_no": "11010519491231002X",
        "pickup_status_raw": "已提货",
        "pickup_status": "picked_up",
        "photo_urls": urls,
        "video_urls": None,
    }


def test_token_and_sign_name_the_file_by_default_so_three_downloads_stay_three():
    record = _download_record(
        "/attachment/download?token=a1,/attachment/download?token=b2,/attachment/download?sign=c3"
    )
    rows = manifest_rows([record], base_url="http://st.example", accepted_statuses=["已提货"])
    assert len({r["key_stem"] for r in rows}) == 3 and not any(r["problem"] for r in rows)
    # Object stores' signatures still drop: a freshly signed URL keeps its key.
    signed = _download_record(
        "https://oss.example/a.jpg?Expires=1&Signature=x%2B1,https://oss.example/a.jpg?Expires=2&Signature=y"
    )
    again = manifest_rows([signed], base_url="http://st.example", accepted_statuses=["已提货"])
    assert len(again) == 1 and again[0]["occurrences"] == 2


def test_a_station_signature_parameter_that_merges_distinct_urls_is_a_collision_row_and_a_failed_check():
    record = _download_record(
        "/attachment/download?token=a1,/attachment/download?token=b2,/attachment/download?token=c3"
    )
    rows = manifest_rows(
        [record], base_url="http://st.example", accepted_statuses=["已提货"], signature_params=("token",)
    )
    assert len(rows) == 3
    collisions = [r for r in rows if (r["problem"] or "").startswith("identity collision")]
    assert len(collisions) == 2 and all(r["key_stem"] is None for r in collisions)
    assert "token" in collisions[0]["problem"]
    check = check_no_identity_collisions(pd.DataFrame(rows, columns=MANIFEST_COLUMNS))
    assert not check.passed and check.metadata["collisions"].value == 2

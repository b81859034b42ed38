"""Text a station sends that UTF-8 cannot carry (issue 22, item 12): replaced and flagged on its row, never a
failed station. A lone surrogate ("\\ud83d") is valid JSON and decodes to a str no encoder accepts."""

from __future__ import annotations

import json

from pv_assets.collection.manifest_rows import build_manifest, plain_rows
from pv_assets.collection.record_table import TEXT_PROBLEM, records_frame
from pv_assets.io_manager import frame_to_parquet, parquet_to_frame
from pv_model.dialect import load_interface

ID = "11010519491231002X"


def record(i: int, **fields) -> dict:
    return {
        "recordId": f"R{i}",
        "idCardNo": ID,
        "pickupStatus": "已提货",
        "photoUrls": f"/files/{i}.jpg",
        "updatedAt": "2026-11-01 00:00:00",
        **fields,
    }


def test_a_lone_surrogate_is_replaced_and_flagged_on_its_row_only():
    decoded = json.loads('{"remark": "roof \\ud83d ok", "note": "fine"}')  # exactly what the JSON decoder gives
    records = [record(0, **decoded), *(record(i, remark="ok") for i in range(1, 10))]
    frame = records_frame(records, load_interface("default"), "ST-1", "RC-1")
    back = parquet_to_frame(frame_to_parquet(frame))  # the audit table is written without an error
    assert len(back) == 10
    assert back.loc[0, "remark"] == "roof \ufffd ok" and back.loc[0, "note"] == "fine"
    assert back.loc[0, TEXT_PROBLEM] == "text that UTF-8 cannot carry replaced with U+FFFD in: remark"
    assert back[TEXT_PROBLEM].iloc[1:].isna().all()
    manifest = build_manifest(plain_rows(back), base_url="http://st.example.com", accepted_statuses=("已提货",))
    assert len(manifest) == 10 and manifest.problem.isna().all()


def test_a_surrogate_in_the_record_id_and_in_a_url_is_replaced_too():
    records = [record(0, recordId="R\ud800", photoUrls="/files/a\udfff.jpg")]
    frame = records_frame(records, load_interface("default"), "ST-1", "RC-1")
    row = plain_rows(parquet_to_frame(frame_to_parquet(frame)))[0]
    assert row["record_id"] == "R\ufffd" and row["photo_urls"].endswith("/files/a\ufffd.jpg")
    assert row[TEXT_PROBLEM] == "text that UTF-8 cannot carry replaced with U+FFFD in: recordId, photoUrls"

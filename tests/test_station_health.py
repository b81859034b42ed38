"""Station health: every registry station, its last attempt, outcome, last success, and reasons in categories."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pv_assets.gallery.health import Attempts, health_rows
from pv_model.failure_categories import category_of


@dataclass(frozen=True)
class FakeStation:
    id: str
    name: str
    region_company_code: str | None


STATIONS = [FakeStation("S1", "一号站", "RC-1"), FakeStation("S2", "二号站", "RC-1"), FakeStation("S3", "三号站", None)]


def test_every_registry_station_has_a_row_with_its_outcome():
    attempts = {
        "S1": Attempts("2026-11-15T10:00:00+00:00", True, "2026-11-15T10:00:00+00:00", run_id="r1"),
        "S2": Attempts(
            "2026-11-15T11:00:00+00:00", False, None, "login failed: code 1001: 账号或密码错误 110105194912310021", "r2"
        ),  # fmt: skip
    }
    rows = health_rows(STATIONS, attempts, {"RC-1": "南京区域公司"})
    assert [(r["station_id"], r["last_outcome"], r["failure_category"]) for r in rows] == [
        ("S1", "succeeded", None),
        ("S2", "failed", "login_failed"),
        ("S3", "never", None),
    ]
    assert rows[1]["last_success_at"] is None and rows[1]["region_company_name"] == "南京区域公司"
    assert "110105194912310021" not in rows[1]["failure_reason"]  # reasons are masked like every page text
    assert rows[2]["last_attempt_at"] is None and rows[2]["region_company_name"] is None


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("login failed: code 1001: wrong password", "login_failed"),
        ("not_found: HTTP 404", "link_dead"),
        ("gone: HTTP 410", "file_deleted"),
        ("not_media: HTML page where an image was expected", "not_media"),
        ("forbidden_target: host 169.254.169.254 is link-local", "unsafe_address"),
        ("invalid_input: invalid URL: scheme 'ftp' is not http or https", "bad_link"),
        ("too_large: body exceeds the 104857600-byte cap", "too_large"),
        ("http_error: request failed (ReadTimeout)", "no_response"),
        ("store_rejected: quota", "other"),
        (None, "other"),
    ],
)
def test_reasons_fall_into_a_managers_categories(reason, category):
    assert category_of(reason) == category

"""Collection health over time (issue 26): the station_health asset keeps each month's states, the dashboard
draws the share of stations collecting successfully per month - narrowed by region and station like the rest."""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from pv_assets.gallery.health_history import merged_history, update_history
from pv_assets.gallery.previews.gallery_store import rows_to_table
from pv_gallery.health_history import HealthHistory, healthy_share
from pv_gallery.trends import Filter, figures, installation_table
from pv_model.gallery_contract import HEALTH_HISTORY_KEY
from resources.object_store import LocalDirObjectStore


def rows(**outcomes: str) -> list[dict]:
    return [
        {"station_id": sid, "region_company_code": "RC-1" if sid < "S3" else "RC-2", "last_outcome": outcome}
        for sid, outcome in outcomes.items()
    ]


def test_each_month_keeps_its_last_states_and_old_months_go():
    history = merged_history(None, rows(S1="succeeded", S2="failed"), "2026-10")
    history = merged_history(history, rows(S1="failed", S2="failed"), "2026-11")
    history = merged_history(history, rows(S1="succeeded", S2="succeeded", S3="failed"), "2026-11")  # replaces
    assert history.to_pylist() == [
        {"month": "2026-10", "station_id": "S1", "region_company_code": "RC-1", "last_outcome": "succeeded"},
        {"month": "2026-10", "station_id": "S2", "region_company_code": "RC-1", "last_outcome": "failed"},
        {"month": "2026-11", "station_id": "S1", "region_company_code": "RC-1", "last_outcome": "succeeded"},
        {"month": "2026-11", "station_id": "S2", "region_company_code": "RC-1", "last_outcome": "succeeded"},
        {"month": "2026-11", "station_id": "S3", "region_company_code": "RC-2", "last_outcome": "failed"},
    ]
    assert merged_history(history, rows(S1="never"), "2026-12", keep=2)["month"].unique().to_pylist() == [
        "2026-11",
        "2026-12",
    ]


def test_the_share_per_month_narrows_by_region_and_station(tmp_path):
    store = LocalDirObjectStore(tmp_path)
    assert HealthHistory(store).table() is None
    update_history(store, rows(S1="succeeded", S2="failed", S3="never"), "2026-10")
    update_history(store, rows(S1="succeeded", S2="succeeded", S3="failed"), "2026-11")
    table = HealthHistory(store).table()
    assert pq.read_table(io.BytesIO(store.get_bytes(HEALTH_HISTORY_KEY))).num_rows == 6 == table.num_rows
    assert healthy_share(table, None, None) == {"2026-10": round(1 / 3, 4), "2026-11": round(2 / 3, 4)}
    assert healthy_share(table, "RC-1", None) == {"2026-10": 0.5, "2026-11": 1.0}
    assert healthy_share(table, None, "S3") == {"2026-10": 0.0, "2026-11": 0.0}
    empty = installation_table(rows_to_table([]))
    found = figures(empty, Filter(start="2026-11"), None, healthy_share(table, None, None))
    assert (found["months"], found["series"]["healthy"]) == (["2026-11"], [round(2 / 3, 4)])

"""Issue 26: the planner's typed fields (pv_model.dialect.planner) and the audit tables' column types."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pv_assets.collection.collector import OUTCOME_COLUMNS, _outcome
from pv_assets.collection.manifest_rows import build_manifest
from pv_assets.collection.record_table import records_frame
from pv_assets.collection.typed_columns import OUTCOME_TYPES, PREVIEW_TYPES, typed
from pv_assets.gallery.previews.gallery import gallery_rows
from pv_assets.gallery.previews.gallery_store import conform, rows_to_table
from pv_assets.gallery.previews.plan import PREVIEW_COLUMNS
from pv_assets.io_manager import frame_to_parquet
from pv_model.dialect import PlannerFields, load_interface, read_planner
from pv_simulator.dialect import Dialect
from pv_simulator.world import group_world
from pv_simulator.world_station import world_record

SHANGHAI = ZoneInfo("Asia/Shanghai")


def schema_of(frame) -> pa.Schema:
    return pq.read_schema(io.BytesIO(frame_to_parquet(frame)))


def test_planner_values_read_typed_with_units_formats_and_placeholders():
    planner = PlannerFields(capacity="cap.w", capacity_unit="W", install_date="built", install_date_format="%Y/%m/%d")
    record = {"cap": {"w": "8800"}, "built": "2025/03/01", "pickupTime": "2025-03-31 23:30:00", "province": " 江苏省 ",
              "latitude": "32.06", "longitude": 118.79, "city": "--"}  # fmt: skip
    values, warnings = read_planner(record, planner, frozenset({"--"}), SHANGHAI)
    assert warnings == []
    assert values["capacity_kw"] == 8.8
    assert values["install_date"] == dt.date(2025, 3, 1)
    assert values["pickup_date"] == dt.date(2025, 3, 31)  # the station's local date, not UTC's 03-31 15:30
    assert (values["province"], values["city"], values["latitude"], values["longitude"]) == (
        "江苏省",
        None,
        32.06,
        118.79,
    )


def test_an_unreadable_value_is_a_row_warning_and_left_empty():
    record = {"capacityKw": "abc", "installDate": "2025-13-01", "latitude": 123, "longitude": True, "projectName": "P"}
    values, warnings = read_planner(record, PlannerFields(), frozenset(), SHANGHAI)
    assert values["capacity_kw"] is None and values["install_date"] is None and values["latitude"] is None
    assert values["project_name"] == "P"
    assert warnings == [
        "capacityKw: 'abc' does not read as kW; left empty",
        "installDate: '2025-13-01' does not read as a date (%Y-%m-%d); left empty",
        "latitude: '123' does not read as a latitude (-90..90); left empty",
        "longitude: 'True' does not read as a longitude (-180..180); left empty",
    ]


@pytest.mark.parametrize("dialect", ["default", "solaredge", "fusionsolar"])
def test_world_records_give_the_worlds_planner_figures_as_typed_columns(dialect):
    world = group_world("tiny", seed=3)
    plan = world.stations[0]
    voice = Dialect(dialect)
    records = [voice.render_record(world_record(i, {}, [])) for i in plan.installations]
    frame = records_frame(records, voice.iface, plan.station_id, plan.region_code)
    assert frame["field_warnings"].isna().all()
    for installation, row in zip(plan.installations, frame.to_dict("records"), strict=True):
        assert row["capacity_kw"] == installation.capacity_kw
        assert row["install_date"] == installation.install_date
        pickup = installation.pickup_time.date() if installation.pickup_time else None
        assert (row["pickup_date"] if row["pickup_date"] is not None else None) == pickup
        assert (row["latitude"], row["longitude"]) == (installation.lat, installation.lon)
        assert (row["county"], row["village"]) == (installation.county, installation.village)
        updated = installation.updated_at.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
        assert row["updated_at"].to_pydatetime() == updated
    schema = schema_of(frame)
    assert schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("capacity_kw").type == pa.float64()
    assert schema.field("install_date").type == pa.date32()
    assert schema.field("pickup_date").type == pa.date32()
    assert schema.field("latitude").type == pa.float64()


def test_an_unreadable_time_is_a_warning_on_its_row_not_a_failed_station():
    iface = load_interface("default")
    record = {"recordId": "R1", "idCardNo": None, "pickupStatus": "已提货", "updatedAt": "yesterday", "capacityKw": "x"}
    frame = records_frame([record, {**record, "recordId": "R2", "updatedAt": "2026-01-02 08:00:00"}], iface, "S", "RC")
    assert frame["field_warnings"].tolist()[0] == (
        "capacityKw: 'x' does not read as kW; left empty; updatedAt: 'yesterday' does not read as '%Y-%m-%d %H:%M:%S'; "
        "left empty"
    )
    assert frame["updated_at_raw"].tolist() == ["yesterday", "2026-01-02 08:00:00"]
    assert frame["updated_at"].isna().tolist() == [True, False]
    assert frame["updated_at"].tolist()[1].isoformat() == "2026-01-02T00:00:00+00:00"


def test_an_empty_station_still_writes_typed_columns():
    frame = records_frame([], load_interface("default"), "S", "RC")
    assert schema_of(frame).field("install_date").type == pa.date32()


def test_outcome_and_manifest_tables_have_integer_sizes_and_zoned_times():
    row = {"station_id": "S", "record_id": "R1", "url_hash": "ab"}
    rows = [_outcome(row, "uploaded", "run", 0.0, size=1234), _outcome(row, "failed", "run", 0.0, reason="x")]
    import pandas as pd

    schema = schema_of(typed(pd.DataFrame(rows, columns=OUTCOME_COLUMNS), OUTCOME_TYPES))
    assert schema.field("size").type == pa.int64()
    assert schema.field("duration_ms").type == pa.int64()
    assert schema.field("finished_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("occurrences").type == pa.int64()
    previews = typed(
        pd.DataFrame([{"size": 10, "width": None, "preview_bytes": 3}], columns=PREVIEW_COLUMNS), PREVIEW_TYPES
    )
    assert [str(schema_of(previews).field(c).type) for c in ("size", "width", "height", "duration_s")] == [
        "int64",
        "int64",
        "int64",
        "double",
    ]
    manifest = build_manifest([], base_url="http://x", accepted_statuses=["已提货"])
    assert schema_of(manifest).field("occurrences").type == pa.int64()


def test_the_gallery_index_carries_typed_planner_columns_with_the_project_name_masked():
    world = group_world("tiny", seed=3)
    plan = world.stations[0]
    installation = next(i for i in plan.installations if i.picked_up)
    iface = load_interface("default")
    frame = records_frame([world_record(installation, {}, [])], iface, plan.station_id, plan.region_code)
    from pv_assets.collection.manifest_rows import plain_rows

    rows = gallery_rows(plain_rows(frame), [], [], station_name="S", accepted_statuses=["已提货"])
    table = rows_to_table(rows)
    row = table.to_pylist()[0]
    assert row["capacity_kw"] == installation.capacity_kw and row["install_date"] == installation.install_date
    assert installation.owner_name not in row["project_name"]
    assert row["project_name"].startswith(installation.owner_name[0] + "*")
    assert table.schema.field("install_date").type == pa.date32()
    # A piece written before the columns existed reads with them empty.
    old = table.drop_columns(["capacity_kw", "install_date", "latitude"])
    assert conform(old).column("capacity_kw").to_pylist() == [None]

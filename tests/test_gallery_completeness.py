"""Completeness of required photo types, from the index rows: per installation, station and region."""

from __future__ import annotations

import pyarrow as pa

from pv_gallery.summaries import region_summaries, station_summaries
from pv_model.gallery_contract import INDEX_COLUMN_NAMES, INDEX_COLUMNS

REQUIRED = "roof_panorama,inverter"


def index_table(rows: list[dict]) -> pa.Table:
    full = [{**dict.fromkeys(INDEX_COLUMN_NAMES), **row} for row in rows]
    schema = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in INDEX_COLUMNS])
    return pa.Table.from_pylist(full, schema=schema)


def photo(station: str, record: str, kind: str | None, status: str = "stored", required: str = REQUIRED) -> dict:
    return {"station_id": station, "region_company_code": "RC-1", "record_id": record, "item_id": f"{record}{kind}",
            "media_kind": "photo" if kind else None, "photo_type": kind, "status": status if kind else "none",
            "required_photo_types": required}  # fmt: skip


ROWS = [
    photo("A", "R1", "roof_panorama"),
    photo("A", "R1", "inverter"),  # complete
    photo("A", "R2", "roof_panorama"),
    photo("A", "R2", "inverter", status="failed"),  # a failed inverter photo is no inverter photo
    photo("A", "R3", None),  # no media at all: misses both
    photo("B", "R1", "other", required="nameplate"),
]


def test_station_and_region_completeness_count_records_with_every_required_type():
    stations, _rows = station_summaries(index_table(ROWS))
    a, b = stations["A"], stations["B"]
    assert (a.picked_up, a.complete, a.missing) == (3, 1, {"roof_panorama": 1, "inverter": 2})
    assert a.completeness == 33.3
    assert (b.complete, b.missing, b.completeness) == (0, {"nameplate": 1}, 0.0)
    region = region_summaries(stations)["RC-1"]
    assert (region.complete, region.picked_up, region.missing) == (1, 4, {"roof_panorama": 1, "inverter": 2,
                                                                          "nameplate": 1})  # fmt: skip
    assert region.completeness == 25.0


def test_an_index_without_photo_types_requires_nothing():
    table = index_table(ROWS).drop_columns(["photo_type", "required_photo_types"])
    stations, _rows = station_summaries(table)
    assert stations["A"].missing == {} and stations["A"].complete == 0


def test_each_installation_knows_its_present_and_missing_types():
    from pv_gallery.installations import build_installations

    table = index_table(ROWS).filter(pa.compute.equal(index_table(ROWS)["station_id"], "A"))
    found = {i.record_id: (i.present_required, i.missing_types) for i in build_installations(table, b"k" * 32)}
    assert found == {"R1": (("roof_panorama", "inverter"), ()), "R2": (("roof_panorama",), ("inverter",)),
                     "R3": ((), ("roof_panorama", "inverter"))}  # fmt: skip


def test_completeness_is_an_asset_check_on_the_index():
    from dagster import AssetCheckSeverity

    from pv_assets.gallery.completeness_check import COLUMNS, completeness_result

    result = completeness_result(index_table(ROWS).select(COLUMNS))
    assert (result.passed, result.severity) == (False, AssetCheckSeverity.WARN)
    figures = {k: getattr(v, "value", v) for k, v in result.metadata.items()}
    assert figures["picked_up"] == 4 and figures["complete"] == 1 and figures["completeness_pct"] == 25.0
    assert figures["missing_by_type"] == {"roof_panorama": 1, "inverter": 2, "nameplate": 1}
    assert figures["least_complete_stations"] == {"B": 0.0, "A": 33.3}
    whole = [r for r in ROWS if r["record_id"] == "R1" and r["station_id"] == "A"]
    assert completeness_result(index_table(whole).select(COLUMNS)).passed

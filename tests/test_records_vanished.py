"""A station that had records and now has none fails the records_not_vanished check, naming the path."""

from __future__ import annotations

from dagster import AssetMaterialization, DagsterInstance

from pv_assets.collection.checks import check_records_not_vanished
from pv_assets.collection.last_collection import last_collection


def test_zero_records_after_a_run_with_sixty_fails_and_names_records_items():
    result = check_records_not_vanished(0, 60, "data.list")
    assert not result.passed
    assert result.description == (
        "0 records where the last run had 60: check the dialect's records.items ('data.list') against what the "
        "station answers (pv-media dialect check --station <id>)"
    )
    assert result.metadata["records_last_run"].value == 60


def test_an_empty_station_that_was_always_empty_or_is_new_passes():
    assert check_records_not_vanished(0, 0, "data.list").passed
    assert check_records_not_vanished(0, None, "data.list").passed
    assert check_records_not_vanished(12, 60, "data.list").passed


def test_the_last_runs_count_comes_from_its_materialization(tmp_path):
    with DagsterInstance.ephemeral(tempdir=str(tmp_path)) as instance:
        assert last_collection(instance, "ST-1") is None
        instance.report_runless_asset_event(
            AssetMaterialization("infrastructure_records", partition="ST-1", metadata={"records": 60})
        )
        assert last_collection(instance, "ST-1").records == 60
        assert last_collection(instance, "ST-2") is None

"""Asset checks: each passing and failing on crafted tables, and all of them after a real collection."""

from __future__ import annotations

import pandas as pd
from dagster import AssetCheckSeverity, AssetKey, DagsterEventType, DagsterInstance

from pv_assets.cli.main import main
from pv_assets.collection.checks import (
    check_absolute_http_urls,
    check_known_pickup_statuses,
    check_no_failed_items,
    check_stored_objects_match,
    check_unique_object_keys,
    check_unique_record_ids,
    check_valid_id_card_numbers,
)
from pv_simulator import SimStationSpec
from resources.object_store import StoredObject
from tests.conftest import write_registry

VALID, INVALID = "11010519491231002X", "110105194912310021"


def records(ids, statuses=("picked_up",)):
    statuses = list(statuses) * len(ids)
    return pd.DataFrame(
        {"record_id": ids, "pickup_status_raw": ["x"] * len(ids), "pickup_status": statuses[: len(ids)]}
    )


def manifest(**columns):
    base = {
        "key_stem": ["a/b/1_x"],
        "source_url": ["http://h/a.jpg"],
        "problem": [None],
        "id_card_no": [VALID],
        "id_checksum_ok": [True],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_unique_record_ids():
    assert check_unique_record_ids(records(["R1", "R2"])).passed
    failing = check_unique_record_ids(records(["R1", "R2", "R1"]))
    assert not failing.passed and failing.metadata["duplicate_record_ids"].value == 1


def test_unknown_pickup_status_is_a_warning_that_names_it():
    frame = pd.DataFrame(
        {
            "record_id": ["R1", "R2"],
            "pickup_status_raw": ["已提货", "PICKED"],
            "pickup_status": ["picked_up", "unknown"],
        }
    )
    result = check_known_pickup_statuses(frame)
    assert not result.passed and result.severity == AssetCheckSeverity.WARN
    assert result.metadata["unknown_values"].value == {"PICKED": 1}
    assert check_known_pickup_statuses(frame.iloc[:1]).passed


def test_an_id_number_sent_as_a_pickup_status_is_masked_in_the_check():
    frame = pd.DataFrame(
        {"record_id": ["R1"], "pickup_status_raw": ["11010519491231002X"], "pickup_status": ["unknown"]}
    )
    shown = check_known_pickup_statuses(frame).metadata["unknown_values"].value
    assert shown == {"110105********002X": 1}


def test_unique_object_keys():
    assert check_unique_object_keys(manifest()).passed
    assert not check_unique_object_keys(
        manifest(
            key_stem=["k", "k"],
            source_url=["a", "b"],
            problem=[None, None],
            id_card_no=[VALID, VALID],
            id_checksum_ok=[True, True],
        )
    ).passed


def test_absolute_http_urls_ignores_rows_already_refused():
    assert check_absolute_http_urls(manifest(source_url=[None], problem=["invalid URL: scheme 'ftp'"])).passed
    failing = check_absolute_http_urls(manifest(source_url=["/relative.jpg"]))
    assert not failing.passed and failing.metadata["not_absolute_http"].value == 1


def test_invalid_id_checksums_are_counted_as_a_warning_and_masked():
    assert check_valid_id_card_numbers(manifest()).passed
    result = check_valid_id_card_numbers(manifest(id_card_no=[INVALID], id_checksum_ok=[False]))
    assert not result.passed and result.severity == AssetCheckSeverity.WARN
    assert result.metadata["invalid_checksum"].value == 1
    assert result.metadata["examples_masked"].value == "110105********0021"


def outcomes(*rows):
    return pd.DataFrame(rows, columns=["outcome", "reason", "object_key", "size"])


def test_no_failed_items_reports_failures_by_reason():
    assert check_no_failed_items(outcomes(("uploaded", None, "k", 1))).passed
    result = check_no_failed_items(
        outcomes(
            ("failed", "not_found: HTTP 404", None, None),
            ("failed", "not_found: HTTP 404", None, None),
            ("failed", "not_media: HTML page instead of media", None, None),
        )
    )
    assert not result.passed and result.severity == AssetCheckSeverity.WARN
    assert result.metadata["failures_by_reason"].value == {"not_found": 2, "not_media": 1}


def test_stored_objects_match_finds_missing_and_wrong_sizes():
    rows = outcomes(("uploaded", None, "a/1.jpg", 10), ("skipped", "already stored", "a/2.jpg", 20))
    assert check_stored_objects_match(rows, [StoredObject("a/1.jpg", 10), StoredObject("a/2.jpg", 20)]).passed
    failing = check_stored_objects_match(rows, [StoredObject("a/1.jpg", 11)])
    assert not failing.passed
    assert (failing.metadata["missing"].value, failing.metadata["size_mismatch"].value) == (1, 1)


def test_after_collect_every_check_ran_for_every_station(simulator_factory, tmp_path, monkeypatch, staging_dir):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PV_LOCAL_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    sim = simulator_factory(
        [SimStationSpec("ST-QUIRKY", records=20, seed=3), SimStationSpec("ST-CLEAN", records=8, seed=4, quirks=False)]
    )
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    assert main(["collect", "--all", "--stations", str(registry)]) == 0
    instance = DagsterInstance.get()
    evaluations = {}
    for run in instance.get_runs():
        station = run.tags.get("dagster/partition")
        if station is None:  # the gallery index run after the stations'
            continue
        for event in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
            data = event.get_dagster_event().asset_check_evaluation_data
            evaluations[(station, data.check_name)] = data
    names = {
        "unique_record_ids",
        "known_pickup_statuses",
        "records_not_vanished",
        "unique_object_keys",
        "absolute_http_urls",
        "valid_id_card_numbers",
        "no_identity_collisions",
        "no_failed_items",
        "stored_objects_match",
        "every_object_has_previews",
        "piece_matches_stored_objects",
    }
    assert set(evaluations) == {(s, n) for s in ("ST-QUIRKY", "ST-CLEAN") for n in names}
    assert all(e.passed for (s, _), e in evaluations.items() if s == "ST-CLEAN")
    failed = evaluations[("ST-QUIRKY", "no_failed_items")]
    assert not failed.passed and failed.severity == AssetCheckSeverity.WARN
    broken = [m for m in sim.expected_media("ST-QUIRKY") if m.picked_up and m.outcome != "ok"]
    assert sum(failed.metadata["failures_by_reason"].value.values()) == len(broken)
    assert evaluations[("ST-QUIRKY", "stored_objects_match")].passed
    # Metadata people look at: counts, schema, and a preview with ID numbers masked.
    raw_ids = {r["idCardNo"].strip().upper() for s in ("ST-QUIRKY", "ST-CLEAN") for r in sim.records(s)}
    for asset in ("infrastructure_records", "media_manifest", "uploaded_media"):
        event = instance.get_latest_materialization_event(AssetKey(asset))
        meta = event.asset_materialization.metadata
        assert {"dagster/column_schema", "preview", "duration_s"} <= set(meta)
        shown = str({k: v.value for k, v in meta.items()}).upper()
        assert not [i for i in raw_ids if i in shown], asset
        assert "********" in meta["preview"].value, asset  # the preview does show the masked numbers
    meta = instance.get_latest_materialization_event(AssetKey("uploaded_media")).asset_materialization.metadata
    assert {"uploaded", "skipped", "failed", "bytes", "object_prefix"} <= set(meta)
    previews = instance.get_latest_materialization_event(AssetKey("media_previews")).asset_materialization.metadata
    assert {"built", "preview_bytes_written", "contact_sheet"} <= set(previews)
    assert not [i for i in raw_ids if i in str({k: v.value for k, v in previews.items()}).upper()]

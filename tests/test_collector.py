"""The per-station collector and the metadata people see."""

from __future__ import annotations

import pandas as pd
import pytest

from pv_assets.collection.collector import StationCollector
from pv_assets.collection.manifest_rows import build_manifest
from pv_assets.collection.record_table import record_rows
from pv_assets.metadata import masked_preview
from pv_model.dialect import load_interface
from pv_simulator import SimStationSpec
from resources.object_store import LocalDirObjectStore, ObjectStoreError
from tests.conftest import fast_station_api, run_station, write_registry
from tests.test_station_client import make_client


class BrokenStore(LocalDirObjectStore):
    def put_file(self, key, path, content_type, metadata):
        raise ObjectStoreError("object store test: uploading failed: ConnectionRefusedError")


def test_a_station_abort_starts_no_new_downloads(simulator_factory, tmp_path):
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=30, seed=9, quirks=False, max_connections=2, all_picked_up=True)],
        latency_ms=20,
    )
    client = make_client(sim)
    interface = load_interface("default")
    rows = record_rows(sim.records("ST-0001"), interface, "ST-0001", "RC-1")
    manifest = build_manifest(rows, base_url=sim.base_url("ST-0001"), accepted_statuses=("已提货",))
    assert len(manifest) >= 30
    collector = StationCollector(client, BrokenStore(tmp_path / "store"), tmp_path, "run-1", workers=4)
    with pytest.raises(ObjectStoreError):
        collector.run(manifest)
    # Only what was already in flight when the store failed was fetched, not the whole manifest.
    assert sim.station("ST-0001").media_gets <= 8
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []


def test_preview_masks_id_numbers_in_file_names_and_drops_signatures():
    frame = pd.DataFrame(
        {
            "record_id": ["R1"],
            "id_card_no": ["11010519491231002X"],
            "source_url": ["http://st.example.com/files/%E5%BC%A0%E4%B8%8911010519491231002X.jpg?Signature=s3cr%2Bt"],
            "problem": [None],
        }
    )
    shown = masked_preview(frame, ["record_id", "id_card_no", "source_url", "problem"]).value
    assert "11010519491231002X" not in shown and "s3cr" not in shown
    assert "110105********002X" in shown and "张三110105********002X.jpg" in shown


def test_an_account_of_another_station_fails_the_run_when_the_registry_names_its_code(
    simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance
):
    from resources.dagster_resources import LocalStoreResource

    sim = simulator_factory([SimStationSpec("ST-0001", records=4, seed=1)])
    registry = write_registry(
        sim, tmp_path / "stations.yaml", monkeypatch, overrides={"ST-0001": {"station_code": "ST-9999"}}
    )
    result = run_station(
        dagster_instance, fast_station_api(registry), LocalStoreResource(root=str(tmp_path / "s")), "ST-0001"
    )
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert message.startswith("station ST-0001: the account belongs to station code ST-0001, not ST-9999")
    assert "fix the credentials or station_code in " in message

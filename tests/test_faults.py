"""Faults end to end: each survived with nothing lost, nothing stored twice, no staging file left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.stack import free_port as closed_port  # a port nobody listens on
from pv_assets.cli.main import main
from pv_assets.collection.staging import leftover_files
from pv_model.dialect import load_interface
from pv_model.identity import normalize_id_card
from pv_simulator import SimStationSpec
from resources.dagster_resources import LocalStoreResource, MinioResource
from resources.object_store import LocalDirObjectStore
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, fast_station_api, media_objects, run_station, write_registry

ROOT = Path(__file__).resolve().parents[1]


def media_keys(store) -> list[str]:
    return [o.key for o in media_objects(store)]


def expected_count(sim, station_id) -> int:
    return len(
        {
            (normalize_id_card(m.id_card_no), m.canonical_url)
            for m in sim.expected_media(station_id)
            if m.picked_up and m.outcome == "ok"
        }
    )


@pytest.fixture
def station(simulator_factory, tmp_path, monkeypatch, staging_dir):
    sim = simulator_factory([SimStationSpec("ST-0001", records=24, seed=31)])
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    store = LocalStoreResource(root=str(tmp_path / "store"))
    return sim, registry, store, LocalDirObjectStore(tmp_path / "store")


def test_station_down_mid_paging_fails_the_run_and_the_next_run_gets_everything(
    station, dagster_instance, staging_dir, monkeypatch
):
    sim, registry, store_resource, store = station
    # Page 1 answers (slow:0 passes through), then the station is gone for the whole retry budget.

    import resources.dagster_resources as dagster_resources

    v1 = load_interface("default")
    monkeypatch.setattr(
        dagster_resources,
        "load_interface",
        lambda name="default": v1.model_copy(update={"records": v1.records.model_copy(update={"page_size": 10})}),
    )
    sim.station("ST-0001").script("records", ["slow:0"] + ["reset"] * 50)
    failed = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    sim.station("ST-0001").clear_script("records")  # the station is back
    assert not failed.success
    message = failed.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert message == (
        "station ST-0001: records page 2 failed: gave up after 4 attempts: network error (ConnectionError)"
    )
    assert media_keys(store) == []  # the manifest was never built from half the records
    again = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    assert again.success and len(media_keys(store)) == expected_count(sim, "ST-0001")
    assert leftover_files(staging_dir) == []


def test_a_token_that_dies_at_every_call(station, dagster_instance, staging_dir):
    sim, registry, store_resource, store = station
    sim.station("ST-0001").token_max_uses = 1
    result = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    assert result.success
    assert len(media_keys(store)) == expected_count(sim, "ST-0001")
    assert sim.station("ST-0001").logins > 10


def test_429_storm_is_waited_out(simulator_factory, tmp_path, monkeypatch, staging_dir, dagster_instance):
    sim = simulator_factory([SimStationSpec("ST-0001", records=10, seed=32, quirks=False)], retry_after="0")
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    sim.station("ST-0001").script("media", [429] * 3)
    sim.station("ST-0001").script("records", ["code429", 429])
    store_resource = LocalStoreResource(root=str(tmp_path / "store"))
    result = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    assert result.success
    assert len(media_keys(LocalDirObjectStore(tmp_path / "store"))) == expected_count(sim, "ST-0001")


def test_5xx_storm_beyond_the_budget_fails_items_and_the_next_run_retries_them(station, dagster_instance, staging_dir):
    sim, registry, store_resource, store = station
    sim.station("ST-0001").fail_media_status = {"*": 503}
    first = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    assert first.success  # failed items never fail the station
    rows = first.asset_value("uploaded_media")
    assert (rows.reason.fillna("").str.startswith("transient: gave up after 4 attempts")).sum() > 0
    stored_during_storm = len(media_keys(store))  # CDN files were still reachable
    sim.station("ST-0001").fail_media_status = {}
    second = run_station(dagster_instance, fast_station_api(registry), store_resource, "ST-0001")
    keys = media_keys(store)
    assert second.success and len(keys) == expected_count(sim, "ST-0001") > stored_during_storm
    assert (second.asset_value("uploaded_media").outcome == "uploaded").sum() == len(keys) - stored_during_storm
    assert leftover_files(staging_dir) == []


def test_object_store_unreachable_then_back(station, dagster_instance, s3_endpoint, s3_store, staging_dir, s3_resource):
    sim, registry, _local, _ = station
    down = MinioResource(
        endpoint=f"127.0.0.1:{closed_port()}",
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
        bucket=s3_store.bucket,
    )
    failed = run_station(dagster_instance, fast_station_api(registry), down, "ST-0001")
    assert not failed.success
    text = failed.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "object store http://127.0.0.1:" in text and "failed" in text
    assert S3_SECRET_KEY not in text and S3_ACCESS_KEY not in text
    assert media_keys(s3_store) == []
    up = s3_resource
    again = run_station(dagster_instance, fast_station_api(registry), up, "ST-0001")
    assert again.success and len(media_keys(s3_store)) == expected_count(sim, "ST-0001")
    assert leftover_files(staging_dir) == []


def test_sigkill_mid_station_then_a_rerun_stores_everything_exactly_once(
    simulator_factory, tmp_path, monkeypatch, staging_dir
):
    # Slow media (about 0.2 s a file), so the kill lands in the middle of the station.
    sim = simulator_factory(
        [SimStationSpec("ST-0001", records=30, seed=33, max_connections=2)], bandwidth_bytes_per_s=60_000
    )
    registry = write_registry(sim, tmp_path / "stations.yaml", monkeypatch)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "PV_LOCAL_STORE": str(tmp_path / "store"),
        "PV_STAGING_DIR": str(staging_dir),
    }
    env.pop("MINIO_ENDPOINT", None)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    monkeypatch.setenv("PV_LOCAL_STORE", env["PV_LOCAL_STORE"])
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    store = LocalDirObjectStore(tmp_path / "store")
    collector = subprocess.Popen(
        [sys.executable, "-m", "pv_assets.cli", "collect", "--all", "--stations", str(registry)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(media_keys(store)) < 3 and time.monotonic() < deadline and collector.poll() is None:
        time.sleep(0.05)  # polling for a condition, with a deadline
    assert collector.poll() is None, "the collection ended before it could be killed"
    collector.send_signal(signal.SIGKILL)
    collector.wait()
    stored_before = len(media_keys(store))
    assert 0 < stored_before < expected_count(sim, "ST-0001")
    assert [p for p in staging_dir.iterdir() if p.is_dir()]  # the dead run's staging directory is left

    assert main(["collect", "--all", "--stations", str(registry)]) == 0
    keys = media_keys(store)
    assert len(keys) == expected_count(sim, "ST-0001")
    assert len(set(keys)) == len(keys)
    assert leftover_files(staging_dir) == [] and list(staging_dir.iterdir()) == []


def test_a_store_whose_bucket_went_makes_it_again_on_the_next_call(s3_endpoint, bucket):
    # A batch worker keeps one store for all its runs: a MinIO restarted empty must not fail every later run.
    from minio import Minio

    from resources.object_store import MinioObjectStore, ObjectStoreError

    store = MinioObjectStore(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket)
    store.put_bytes("a/first.json", b"{}", "application/json")
    admin = Minio(s3_endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False)
    admin.remove_object(bucket, "a/first.json")
    admin.remove_bucket(bucket)
    with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
        store.put_bytes("a/second.json", b"{}", "application/json")
    store.put_bytes("a/third.json", b"[1]", "application/json")
    assert store.get_bytes("a/third.json") == b"[1]"
